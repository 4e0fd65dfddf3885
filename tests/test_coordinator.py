"""The coordinator: read windows, merging, session reuse, errors and recovery."""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from share_simulator import Account, Fault, ShareSimulator
from share_simulator.model import AUTHENTICATE, LOGIN_BY_ID, READ

from .conftest import NOW, readings_until
from .helpers import advance
from .test_sensor import VALUE


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
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Start-up asks for all of Share's 24 h; later reads cover the gap plus a margin."""
    assert len(init_integration.runtime_data.data.readings) == 288
    account.add_readings(readings_until(NOW + timedelta(minutes=4), [120]))
    await advance(hass, freezer, timedelta(minutes=5))
    assert read_params(share) == [("1440", "288"), ("16", "5")]
    assert hass.states.get(VALUE).state == "120"


async def test_session_reused_and_renewed_once_on_expiry(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Polls reuse the session; an expired one costs one login and no data gap."""
    account.add_readings(readings_until(NOW + timedelta(minutes=19), [121, 122, 123, 124]))
    await advance(hass, freezer, timedelta(minutes=20))
    assert hass.states.get(VALUE).state == "124"
    assert share.state.request_count(AUTHENTICATE) == 1
    assert share.state.request_count(LOGIN_BY_ID) == 1

    share.state.expire_sessions()
    account.add_readings(readings_until(NOW + timedelta(minutes=24), [130]))
    await advance(hass, freezer, timedelta(minutes=5))
    assert share.state.request_count(AUTHENTICATE) == 1
    assert share.state.request_count(LOGIN_BY_ID) == 2
    assert hass.states.get(VALUE).state == "130"


@pytest.mark.parametrize(
    "fault",
    [Fault("html", status=502), Fault("malformed_json"), Fault("object", endpoint=READ)],
    ids=lambda fault: fault.kind,
)
async def test_failed_poll_keeps_current_reading_and_retries(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    fault: Fault,
) -> None:
    """One failed poll hides nothing still current; a retry 15-30 s later gets the reading."""
    share.state.add_fault(fault)
    account.add_readings(readings_until(NOW + timedelta(minutes=4), [140]))
    await advance(hass, freezer, timedelta(minutes=4, seconds=29))
    assert hass.states.get(VALUE).state == "111"
    await advance(hass, freezer, timedelta(seconds=31))
    assert hass.states.get(VALUE).state == "140"
    statuses = [entry.status for entry in share.state.log if entry.endpoint == READ]
    assert len(statuses) == 3
    assert statuses[-1] == 200


async def test_outage_backs_off_and_recovers(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Share down: back off up to 5 min, unavailable once stale, everything back after."""
    coordinator = init_integration.runtime_data
    share.refuse_connections()
    await advance(hass, freezer, timedelta(minutes=13, seconds=50))
    assert hass.states.get(VALUE).state == "111"
    await advance(hass, freezer, timedelta(seconds=20))
    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE
    await advance(hass, freezer, timedelta(minutes=45))
    # Waits of 30 s doubling to 5 min, each cut to 50-100 % by jitter: 15-20 attempts
    # in the hour (a fixed 60 s retry would make 60).
    assert 15 <= coordinator.planner.consecutive_errors <= 20

    account.add_readings(readings_until(NOW + timedelta(minutes=60), list(range(150, 162))))
    share.accept_connections()
    await advance(hass, freezer, timedelta(minutes=6))
    assert hass.states.get(VALUE).state == "161"
    held = {reading.value for reading in coordinator.data.readings}
    assert set(range(150, 162)) <= held


async def test_backfill_is_merged_and_old_readings_dropped(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Late readings fill in at their own times; nothing older than 24 h is kept."""
    coordinator = init_integration.runtime_data
    oldest = coordinator.data.readings[-1].time
    account.add_readings(readings_until(NOW - timedelta(minutes=3), [77]))
    account.add_readings(readings_until(NOW + timedelta(minutes=4), [120]))
    await advance(hass, freezer, timedelta(minutes=5))
    times = [reading.time for reading in coordinator.data.readings]
    assert times == sorted(set(times), reverse=True)
    assert 77 in [reading.value for reading in coordinator.data.readings]
    assert coordinator.data.readings[-1].time > oldest
    assert all(
        NOW + timedelta(minutes=5) - reading.time <= timedelta(hours=24)
        for reading in coordinator.data.readings
    )


async def test_lockout_while_polling_pauses_logins(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A lockout met on re-login stops all logins for 15 minutes, then recovers."""
    share.state.lockout_duration = 10 * 60
    share.state.expire_sessions()
    account.locked_until = share.state.clock() + 10 * 60
    await advance(hass, freezer, timedelta(minutes=5))
    logins = share.state.login_count()
    await advance(hass, freezer, timedelta(minutes=14))
    assert share.state.login_count() == logins
    account.add_readings(readings_until(NOW + timedelta(minutes=19), [150]))
    await advance(hass, freezer, timedelta(minutes=2))
    assert share.state.login_count() == logins + 1
    assert hass.states.get(VALUE).state == "150"


async def test_manual_refresh_keeps_the_schedule(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """homeassistant.update_entity reads at once and the planned poll still comes on time."""
    await async_setup_component(hass, "homeassistant", {})
    await advance(hass, freezer, timedelta(minutes=2))
    await hass.services.async_call(
        "homeassistant", "update_entity", {"entity_id": VALUE}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert share.state.request_count(READ) == 2
    account.add_readings(readings_until(NOW + timedelta(minutes=4), [125]))
    # The next reading is due at NOW + 4 min; the planned poll comes 25-28 s later.
    await advance(hass, freezer, timedelta(minutes=2, seconds=29))
    assert hass.states.get(VALUE).state == "125"
    assert share.state.request_count(READ) == 3
