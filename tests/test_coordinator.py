"""The coordinator: read windows, merging, a failed poll, and manual refreshes.

Session expiry, outages, lockouts and start-up failures are in the fault scenarios
(test_share_faults.py); restarts in test_restart.py, Share asking to wait in
test_retry_after.py.
"""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from share_simulator import Account, Fault, ShareSimulator
from share_simulator.model import READ, LoggedRequest

from .conftest import NOW, readings_until, served
from .entities import DATA_STALE, READING_TIME, VALUE
from .helpers import advance, repair_issues, step


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

    def reads() -> list[LoggedRequest]:
        return [entry for entry in share.state.log if entry.endpoint == READ]

    started = len(reads())
    end = dt_util.utcnow() + timedelta(minutes=10)
    while len(reads()) == started and dt_util.utcnow() < end:
        await step(hass, freezer, end)
    failed = reads()[-1]
    assert not init_integration.runtime_data.last_update_success
    assert hass.states.get(VALUE).state == "111"
    while len(reads()) == started + 1 and dt_util.utcnow() < end:
        await step(hass, freezer, end)
    retry = reads()[-1]
    assert init_integration.runtime_data.last_update_success
    # Home Assistant fires a timer up to a second early.
    assert 14 <= retry.time - failed.time <= 31
    assert hass.states.get(VALUE).state == "140"


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


@pytest.mark.parametrize(
    ("sensor_type", "lost", "late"),
    [
        ("g7", 4, timedelta(minutes=3)),
        ("g6", 20, timedelta(minutes=3)),
        ("g7", 2, timedelta(minutes=40)),
    ],
)
async def test_a_late_backfill_is_kept(
    hass: HomeAssistant,
    account: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    sensor_type: str,
    lost: int,
    late: timedelta,
) -> None:
    """A signal loss shorter than a warm-up, uploaded after the first new reading was read.

    Reads reach back over the gap for an hour, so the history, the 24-hour readings and
    the report hold every reading.
    """
    hass.config_entries.async_update_entry(config_entry, options={"sensor_type": sensor_type})
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    loss_end = NOW + timedelta(minutes=5 * lost - 1)
    first_new = loss_end + timedelta(minutes=5)
    account.add_readings(served(readings_until(loss_end, [90] * lost), at=first_new + late))
    after = 30 + int(late / timedelta(minutes=5))
    account.add_readings(
        served(readings_until(first_new + timedelta(minutes=5 * after), [95] * (after + 1)))
    )
    await advance(hass, freezer, first_new + late - NOW + timedelta(minutes=15))
    coordinator = config_entry.runtime_data
    since_now = coordinator.state.history.since(NOW)
    assert [reading.value for reading in since_now][: lost + 1] == [90] * lost + [95]
    assert sum(reading.time >= NOW for reading in coordinator.data.readings) == len(since_now)


async def test_a_day_of_failed_reads_keeps_the_last_readings_and_the_no_data_issue(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Share failing for 25 hours: the issue stays raised and the last reading's time stays.

    The figures are those of the readings held when Share last answered, not of an
    empty window that moved on with the clock.
    """
    newest = hass.states.get(READING_TIME).state
    share.state.add_fault(Fault("html", endpoint=READ, status=500, times=None))
    await advance(hass, freezer, timedelta(hours=4))
    assert repair_issues(hass) == {"no_recent_data"}
    await advance(hass, freezer, timedelta(hours=21))
    assert repair_issues(hass) == {"no_recent_data"}
    assert hass.states.get(READING_TIME).state == newest
    assert hass.states.get(DATA_STALE).state == "on"
    assert len(init_integration.runtime_data.data.readings) == 288
