"""Share asking to wait (429 with Retry-After): honoured at start-up, in polls and in flows, bounded."""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_PASSWORD, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from share_simulator import Account, Fault, ShareSimulator
from share_simulator.model import READ

from .conftest import PASSWORD
from .entities import DATA_STALE, VALUE
from .helpers import advance, repair_issues


async def test_retry_after_at_start_up_is_honoured(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A 429 asking for 15 minutes at start-up: nothing more is sent for 15 minutes."""
    share.state.add_fault(
        Fault("code", endpoint=READ, status=429, code="TooMany", retry_after="900", times=None)
    )
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert share.state.request_count(READ) == 1
    await advance(hass, freezer, timedelta(minutes=14, seconds=50))
    assert share.state.request_count(READ) == 1
    share.state.clear_faults()
    await advance(hass, freezer, timedelta(minutes=1))
    assert share.state.request_count(READ) >= 2  # asked again once the wait is over
    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE  # 16 minutes old by now
    assert hass.states.get(DATA_STALE).state == STATE_ON


async def test_long_retry_after_is_honoured_and_raises_a_repair(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Share asking for 2 hours gets 2 hours (not 1), and the user is told why."""
    share.state.add_fault(
        Fault("code", endpoint=READ, status=429, code="TooMany", retry_after="7200", times=None)
    )
    await advance(hass, freezer, timedelta(minutes=6))
    reads = share.state.request_count(READ)
    assert repair_issues(hass) == {"share_asked_to_wait"}
    await advance(hass, freezer, timedelta(minutes=118))
    assert share.state.request_count(READ) == reads
    share.state.clear_faults()
    await advance(hass, freezer, timedelta(minutes=5))
    assert share.state.request_count(READ) > reads
    assert not repair_issues(hass)


async def test_an_endless_retry_after_is_taken_for_a_day(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """`Retry-After: 1e400` (infinity) neither crashes nor stops polling for good."""
    share.state.add_fault(
        Fault("code", endpoint=READ, status=429, code="TooMany", retry_after="1e400", times=None)
    )
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    await advance(hass, freezer, timedelta(hours=1))
    assert share.state.request_count(READ) == 1
    assert repair_issues(hass) == {"share_asked_to_wait"}


async def test_a_retry_after_met_in_a_flow_is_remembered(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
) -> None:
    """Share asking a reauthentication to wait holds back the next try, and the polls."""
    share.state.add_fault(
        Fault("code", endpoint=READ, status=429, code="TooMany", retry_after="900", times=None)
    )
    result = await init_integration.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: PASSWORD}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    reads = share.state.request_count(READ)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: PASSWORD}
    )
    assert result["errors"] == {"base": "share_asked_to_wait"}
    assert share.state.request_count(READ) == reads


async def test_flows_honour_a_pending_retry_after(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Reauthenticating while Share asked to wait sends nothing and says why."""
    share.state.add_fault(
        Fault("code", endpoint=READ, status=429, code="TooMany", retry_after="1800", times=None)
    )
    await advance(hass, freezer, timedelta(minutes=6))
    requests = share.state.request_count()
    result = await init_integration.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: PASSWORD}
    )
    assert result["errors"] == {"base": "share_asked_to_wait"}
    assert share.state.request_count() == requests
