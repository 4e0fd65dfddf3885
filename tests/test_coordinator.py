"""The coordinator: read windows, merging, session reuse, errors and recovery."""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from share_simulator import Account, Fault, ShareSimulator
from share_simulator.model import AUTHENTICATE, LOGIN_BY_ID, READ

from .conftest import NOW, readings_until
from .test_sensor import VALUE, advance


def read_params(share: ShareSimulator) -> list[tuple[str, str]]:
    """(minutes, maxCount) of every read the simulator saw."""
    return [
        (entry.params["minutes"], entry.params["maxCount"])
        for entry in share.state.log
        if entry.endpoint == READ
    ]


async def test_first_read_covers_24_hours_then_only_the_gap(
    hass: HomeAssistant,
    share: ShareSimulator,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Start-up asks for all of Share's 24 h; later reads cover the gap plus a margin."""
    assert len(init_integration.runtime_data.data.readings) == 288
    await advance(hass, freezer, timedelta(minutes=2))
    assert read_params(share) == [("1440", "288"), ("13", "4")]


async def test_session_reused_and_renewed_once_on_expiry(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Polls reuse the session; an expired one costs one login and no data gap."""
    for _ in range(3):
        await advance(hass, freezer, timedelta(minutes=2))
    assert share.state.request_count(AUTHENTICATE) == 1
    assert share.state.request_count(LOGIN_BY_ID) == 1

    share.state.expire_sessions()
    account.add_readings(readings_until(NOW + timedelta(minutes=8), [130]))
    await advance(hass, freezer, timedelta(minutes=2))
    assert share.state.request_count(AUTHENTICATE) == 1
    assert share.state.request_count(LOGIN_BY_ID) == 2
    assert hass.states.get(VALUE).state == "130"


@pytest.mark.parametrize(
    "fault",
    [Fault("html", status=502), Fault("malformed_json"), Fault("object", endpoint=READ)],
    ids=lambda fault: fault.kind,
)
async def test_failed_poll_then_recovery(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    fault: Fault,
) -> None:
    """A failed poll makes the sensors unavailable; the next good poll brings them back."""
    share.state.add_fault(fault)
    await advance(hass, freezer, timedelta(minutes=2))
    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE
    account.add_readings(readings_until(NOW + timedelta(minutes=3), [140]))
    await advance(hass, freezer, timedelta(minutes=2))
    assert hass.states.get(VALUE).state == "140"


async def test_backfill_is_merged_and_old_readings_dropped(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Late readings fill in at their own times; nothing older than 24 h is kept."""
    coordinator = init_integration.runtime_data
    # A reading taken two minutes ago (between two held ones) arrives late.
    account.add_readings(readings_until(NOW - timedelta(minutes=3), [77]))
    await advance(hass, freezer, timedelta(minutes=2))
    times = [reading.time for reading in coordinator.data.readings]
    assert times == sorted(set(times), reverse=True)
    assert 77 in [reading.value for reading in coordinator.data.readings]
    # After another 2 minutes, the oldest held readings fall out of the 24 h window.
    oldest = coordinator.data.readings[-1].time
    await advance(hass, freezer, timedelta(minutes=6))
    assert coordinator.data.readings[-1].time > oldest
    assert all(
        NOW + timedelta(minutes=8) - r.time <= timedelta(hours=24)
        for r in coordinator.data.readings
    )


async def test_lockout_while_polling_pauses_logins(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A lockout met on re-login stops all logins for 15 minutes, then recovers."""
    share.state.expire_sessions()
    account.locked_until = share.state.clock() + 10 * 60
    await advance(hass, freezer, timedelta(minutes=2))
    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE
    logins = share.state.login_count()
    for _ in range(7):
        await advance(hass, freezer, timedelta(minutes=2))
    assert share.state.login_count() == logins
    account.add_readings(readings_until(NOW + timedelta(minutes=17), [150]))
    await advance(hass, freezer, timedelta(minutes=2))
    assert share.state.login_count() == logins + 1
    assert hass.states.get(VALUE).state == "150"
