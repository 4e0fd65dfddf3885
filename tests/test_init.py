"""Setting up and unloading entries."""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.dexcom_share.const import DOMAIN
from custom_components.dexcom_share.coordinator import LOGIN_GUARDS
from share_simulator import Account, ShareSimulator
from share_simulator.model import AUTHENTICATE

from .helpers import advance

VALUE = "sensor.dexcom_jane_sharer_glucose_value"


async def test_setup_and_unload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """A loaded entry shows the newest reading and unloads cleanly."""
    assert init_integration.state is ConfigEntryState.LOADED
    assert hass.states.get(VALUE).state == "111"
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE


async def test_setup_retried_while_share_is_down(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Share unreachable at start-up: setup is retried, not failed, and then succeeds."""
    share.refuse_connections()
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_RETRY

    share.accept_connections()
    freezer.tick(timedelta(minutes=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert config_entry.state is ConfigEntryState.LOADED
    assert hass.states.get(VALUE).state == "111"


async def test_wrong_password_at_setup_is_tried_once_more_then_reauth(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A rejected password is tried again once, 10 minutes later, then the user is asked.

    Setup retries in between send nothing, so the account collects two failed logins.
    """
    account.password = "changed elsewhere"
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    await advance(hass, freezer, timedelta(minutes=9))
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert share.state.request_count(AUTHENTICATE) == 1
    assert not hass.config_entries.flow.async_progress()

    await advance(hass, freezer, timedelta(minutes=3))
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert share.state.request_count(AUTHENTICATE) == 2
    flows = hass.config_entries.flow.async_progress()
    assert [(flow["context"]["source"], flow["step_id"]) for flow in flows] == [
        (SOURCE_REAUTH, "reauth_confirm")
    ]
    await advance(hass, freezer, timedelta(hours=1))
    assert share.state.request_count(AUTHENTICATE) == 2


async def test_removing_the_entry_forgets_its_guard_and_issues(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A lockout repair issue and the login pause go away with the entry."""
    share.state.expire_sessions()
    account.locked_until = share.state.clock() + 600
    await advance(hass, freezer, timedelta(minutes=5))
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"account_locked_{init_integration.entry_id}")
    assert await hass.config_entries.async_remove(init_integration.entry_id)
    await hass.async_block_till_done()
    assert not ir.async_get(hass).issues
    assert init_integration.entry_id not in hass.data[LOGIN_GUARDS]
