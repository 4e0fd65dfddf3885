"""Setting up and unloading entries."""

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.dexcom_share.const import DOMAIN
from custom_components.dexcom_share.storage import ENTRY_STATES
from share_simulator import Account, ShareSimulator

from .entities import VALUE
from .helpers import advance


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
    assert init_integration.entry_id not in hass.data[ENTRY_STATES]
