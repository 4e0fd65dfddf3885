"""Setting up, disabling and unloading entries, with Share down or a damaged stored state."""

import asyncio
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryDisabler, ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.dexcom_share.const import DOMAIN
from custom_components.dexcom_share.glucose.planner import PollPlanner
from custom_components.dexcom_share.storage import domain_data
from share_simulator import Account, Fault, ShareSimulator
from share_simulator.model import READ

from .conftest import NOW, readings_until, served
from .entities import DATA_STALE, VALUE
from .helpers import advance, repair_issues
from .seed import store_planner


async def test_setup_and_unload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """A loaded entry shows the newest reading and unloads cleanly."""
    assert init_integration.state is ConfigEntryState.LOADED
    assert hass.states.get(VALUE).state == "111"
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE


async def test_removing_the_entry_forgets_its_state_and_issues(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """A lockout repair issue, the login pause and the stored state go with the entry."""
    share.state.expire_sessions()
    account.locked_until = share.state.clock() + 600
    await advance(hass, freezer, timedelta(minutes=5))
    key = f"{DOMAIN}.{init_integration.entry_id}"
    assert hass_storage[key]["data"]["guard"]["lockouts"] == 1
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"account_locked_{init_integration.entry_id}")
    assert await hass.config_entries.async_remove(init_integration.entry_id)
    await hass.async_block_till_done()
    assert not ir.async_get(hass).issues
    assert key not in hass_storage
    assert init_integration.entry_id not in domain_data(hass).states
    assert init_integration.entry_id not in domain_data(hass).clients


async def test_entities_exist_while_share_is_down_at_start_up(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Share down at start-up: the entry loads, Data stale says so, readings follow."""
    share.refuse_connections()
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    assert hass.states.get(DATA_STALE).state == STATE_ON
    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE
    share.accept_connections()
    await advance(hass, freezer, timedelta(minutes=3))
    assert hass.states.get(VALUE).state == "111"
    assert hass.states.get(DATA_STALE).state == STATE_OFF


async def test_a_damaged_stored_estimate_does_not_stop_the_readings(
    hass: HomeAssistant,
    account: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """An estimate stored with empty bins starts learning afresh; readings keep coming.

    Before, the first reading landing in an empty bin raised in the planner, before the
    snapshot was published, at every read from then on.
    """
    damaged = PollPlanner().to_dict()
    damaged["delays"]["fit"] = [0.0] * len(damaged["delays"]["fit"])
    damaged["delays"]["fit"][5] = 1.0
    damaged["delays"]["learned"] = 500
    store_planner(hass_storage, config_entry.entry_id, damaged)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    account.add_readings(served(readings_until(NOW + timedelta(minutes=9), [150, 155])))
    await advance(hass, freezer, timedelta(minutes=11))
    assert hass.states.get(VALUE).state == "155"
    assert config_entry.runtime_data.planner.delays.learned < 500


async def test_unreadable_stored_state_is_ignored(
    hass: HomeAssistant,
    account: Account,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A stored state of a newer version (after a downgrade) neither blocks setup nor removal."""
    for key in (f"{DOMAIN}.{config_entry.entry_id}", f"{DOMAIN}.{config_entry.entry_id}.history"):
        hass_storage[key] = {"version": 99, "minor_version": 1, "key": key, "data": {}}
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(VALUE).state == "111"
    assert await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    assert f"{DOMAIN}.{config_entry.entry_id}" not in hass_storage


async def test_disabling_the_entry_removes_its_repair_issues(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A disabled entry leaves no repair issue behind."""
    share.state.expire_sessions()
    account.locked_until = share.state.clock() + 3600
    await advance(hass, freezer, timedelta(minutes=5))
    assert repair_issues(hass) == {"account_locked"}
    await hass.config_entries.async_set_disabled_by(
        init_integration.entry_id, ConfigEntryDisabler.USER
    )
    await hass.async_block_till_done()
    assert not repair_issues(hass)


async def test_an_answer_arriving_after_unload_changes_nothing(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A read still running at unload: its 429 raises no repair and is not stored.

    The read is held back with an event around the real client (the simulator cannot
    pause one request until the test says so).
    """
    coordinator = init_integration.runtime_data
    entered, release = asyncio.Event(), asyncio.Event()
    read = coordinator.client.read

    async def held_read(minutes: int, max_count: int) -> Any:
        entered.set()
        await release.wait()
        return await read(minutes, max_count)

    share.state.add_fault(
        Fault("code", endpoint=READ, status=429, code="TooMany", retry_after="7200", times=None)
    )
    # Just after setup the pacer would hold this read back; here it must be sent.
    with (
        patch.object(coordinator.client, "read", held_read),
        patch.object(coordinator.pacer, "admit", return_value=None),
    ):
        refresh = hass.async_create_background_task(coordinator.async_refresh(), "held read")
        await entered.wait()
        assert await hass.config_entries.async_unload(init_integration.entry_id)
        release.set()
        await refresh
        await hass.async_block_till_done()
    assert not repair_issues(hass)
    stored = hass_storage[f"{DOMAIN}.{init_integration.entry_id}"]["data"]
    assert stored["not_before"] == 0
