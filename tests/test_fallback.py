"""The fallback glucose sensor: a second source while Share has nothing new.

Another Home Assistant sensor (here a plain state, as a Nightscout or LibreLinkUp
entity would write it) stands in while Share's newest reading is over 10 minutes
old; never when stale, non-numeric, in an unknown unit or absurd. Its readings are
stored marked, and Share's backfill replaces them slot by slot.
"""

import asyncio
from datetime import UTC, datetime, timedelta
import time
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from hypothesis import given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.dexcom_share.const import CONF_FALLBACK, CONF_UNIT
from custom_components.dexcom_share.glucose.alerts import (
    AlertEngine,
    AlertEventType,
    AlertKind,
    AlertSettings,
)
from custom_components.dexcom_share.glucose.fallback import (
    FRESH_FOR,
    SHARE_QUIET_AFTER,
    fallback_reading,
    fallback_wanted,
    glucose_mg_dl,
)
from custom_components.dexcom_share.glucose.history import SLOT, ReadingHistory
from custom_components.dexcom_share.glucose.models import GlucoseReading, Trend
from custom_components.dexcom_share.glucose.session import SensorType, detect_session_start
from share_simulator import Account, Fault, ShareSimulator

from .conftest import NOW
from .entities import PREFIX, VALUE
from .helpers import advance, stored_days

FALLBACK = "sensor.libre_glucose"
STATUS = f"sensor.{PREFIX}_data_status"
ALERT = f"sensor.{PREFIX}_active_alert"
MG_DL = {ATTR_UNIT_OF_MEASUREMENT: "mg/dL", "device_class": "blood_glucose_concentration"}
MMOL_L = {ATTR_UNIT_OF_MEASUREMENT: "mmol/L", "device_class": "blood_glucose_concentration"}


@pytest.mark.parametrize(
    ("state", "unit", "mg_dl"),
    [
        ("120", "mg/dL", 120),
        ("6.7", "mmol/L", 121),
        ("39", "mg/dL", 39),
        ("401", "mg/dL", 401),
        ("38", "mg/dL", None),
        ("38.5", "mg/dL", None),
        ("401.4", "mg/dL", 401),
        ("600", "mg/dL", None),
        ("1.0", "mmol/L", None),
        ("120", "%", None),
        ("120", None, None),
        ("unavailable", "mg/dL", None),
        ("unknown", "mg/dL", None),
        ("nan", "mg/dL", None),
        ("inf", "mg/dL", None),
        ("", "mg/dL", None),
    ],
)
def test_what_counts_as_a_glucose_reading(state: str, unit: str | None, mg_dl: int | None) -> None:
    assert glucose_mg_dl(state, unit) == mg_dl


@given(
    state=st.one_of(st.text(max_size=8), st.floats().map(str), st.integers(-10, 1000).map(str)),
    unit=st.sampled_from(["mg/dL", "mmol/L", "%", "", None]),
    age_s=st.integers(-600, 3600),
)
def test_a_fallback_reading_is_always_fresh_and_plausible(
    state: str, unit: str | None, age_s: int
) -> None:
    """Whatever the sensor says, a reading taken is from the last 10 minutes and 39-401 mg/dL."""
    reading = fallback_reading(state, unit, NOW - timedelta(seconds=age_s), NOW)
    if reading is not None:
        assert reading.from_fallback
        assert 39 <= reading.value <= 401
        assert -60 <= age_s <= FRESH_FOR.total_seconds()


def share_reading(minutes_old: float) -> GlucoseReading:
    return GlucoseReading(NOW - timedelta(minutes=minutes_old), 110, None)


def test_wanted_only_while_share_is_quiet_and_once_a_period() -> None:
    candidate = GlucoseReading(NOW, 100, None, from_fallback=True)
    assert not fallback_wanted((share_reading(9),), candidate, NOW)
    assert fallback_wanted((share_reading(11),), candidate, NOW)
    assert fallback_wanted((), candidate, NOW)
    held = (GlucoseReading(NOW - timedelta(minutes=2), 100, None, from_fallback=True),)
    assert not fallback_wanted((*held, share_reading(20)), candidate, NOW)
    held = (GlucoseReading(NOW - timedelta(minutes=5), 100, None, from_fallback=True),)
    assert fallback_wanted((*held, share_reading(20)), candidate, NOW)


def test_share_replaces_the_fallback_in_its_slot_and_keeps_the_rest() -> None:
    """Stored marked; Share's backfill replaces the fallback reading within its slot."""
    fallback = [
        GlucoseReading(NOW + timedelta(minutes=5 * n, seconds=40), 90 + n, None, from_fallback=True)
        for n in range(6)
    ]
    history, _ = ReadingHistory().merged(fallback, NOW + timedelta(minutes=30))
    assert history.from_fallback == 6
    assert all(reading.from_fallback for reading in history)
    # Share fills the first three slots (its readings 40 s before the fallback's).
    backfill = [GlucoseReading(NOW + timedelta(minutes=5 * n), 120 + n, None) for n in range(3)]
    merged, changed = history.merged(backfill, NOW + timedelta(minutes=31))
    assert changed == 6
    assert merged.from_fallback == 3
    assert [(reading.value, reading.from_fallback) for reading in merged] == [
        (120, False),
        (121, False),
        (122, False),
        (93, True),
        (94, True),
        (95, True),
    ]
    # A fallback reading in a slot Share holds is not taken.
    late = GlucoseReading(NOW + timedelta(seconds=30), 80, None, from_fallback=True)
    assert merged.merged([late], NOW + timedelta(minutes=31))[0] is merged
    # The marks survive storage; a history stored before them is all Share's.
    assert list(ReadingHistory.from_dict(merged.to_dict())) == list(merged)
    stored = merged.to_dict()
    del stored["fallback"]
    assert ReadingHistory.from_dict(stored).from_fallback == 0
    # A mark that is no stored reading's time is dropped, not the history.
    for marks in ([1], None, "x", [None, 1.5]):
        restored = ReadingHistory.from_dict({**stored, "fallback": marks})
        assert (len(restored), restored.from_fallback) == (6, 0)


@given(
    st.lists(
        st.tuples(st.integers(0, 24 * 3600), st.integers(39, 401), st.booleans()), max_size=60
    ),
    st.lists(st.tuples(st.integers(0, 24 * 3600), st.integers(39, 401)), max_size=60),
)
def test_share_readings_always_win(
    first: list[tuple[int, int, bool]], share: list[tuple[int, int]]
) -> None:
    """Every Share reading merged is held, and no fallback reading is left in its slot."""
    start = NOW - timedelta(days=1)
    history, _ = ReadingHistory().merged(
        [
            GlucoseReading(start + timedelta(seconds=s), v, None, from_fallback=f)
            for s, v, f in first
        ],
        NOW,
    )
    merged, _ = history.merged(
        [GlucoseReading(start + timedelta(seconds=s), v, None) for s, v in share], NOW
    )
    held = {int(reading.time.timestamp()): reading for reading in merged}
    for second, value in dict(share).items():
        time = int((start + timedelta(seconds=second)).timestamp())
        assert held[time].value == value
        assert not held[time].from_fallback
    share_times = [time for time, reading in held.items() if not reading.from_fallback]
    for time, reading in held.items():
        if reading.from_fallback:
            assert all(abs(time - other) > SLOT for other in share_times)
    assert merged.from_fallback == sum(reading.from_fallback for reading in merged)


async def set_up(
    hass: HomeAssistant, entry: MockConfigEntry, freezer: FrozenDateTimeFactory, unit: str
) -> None:
    hass.config_entries.async_update_entry(
        entry, options={CONF_FALLBACK: FALLBACK, CONF_UNIT: unit}
    )
    freezer.move_to(NOW)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def feed(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    values: list[str],
    attributes: dict[str, Any],
) -> list[tuple[str, str]]:
    """The fallback sensor writes one value a minute; (value shown, status) after each."""
    seen = []
    for value in values:
        hass.states.async_set(FALLBACK, value, attributes)
        await hass.async_block_till_done()
        seen.append((hass.states.get(VALUE).state, hass.states.get(STATUS).state))
        await advance(hass, freezer, timedelta(minutes=1))
    return seen


@pytest.mark.parametrize(("unit", "attributes"), [("mg/dL", MMOL_L), ("mmol/L", MG_DL)])
async def test_share_failing_the_fallback_fills_in_then_share_backfills(
    hass: HomeAssistant,
    share: ShareSimulator,
    arriving: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    unit: str,
    attributes: dict[str, Any],
) -> None:
    """Share down, the fallback fills in; Share back, its backfill replaces it.

    After 10 minutes the fallback's value (converted) shows, marked; a low on it
    sounds the alert; Share back, its readings replace the fallback's slot by slot.
    """
    await set_up(hass, config_entry, freezer, unit)
    hass.states.async_set(FALLBACK, "7.0" if attributes is MMOL_L else "126", attributes)
    await advance(hass, freezer, timedelta(minutes=2))
    share.state.add_fault(Fault("html", status=502, times=None))
    to_unit = 1 / 18.01559 if unit == "mmol/L" else 1.0
    values_mg_dl = [130 - 2 * minute for minute in range(40)]
    shown = await feed(
        hass,
        freezer,
        [str(round(v / 18.01559, 1)) if attributes is MMOL_L else str(v) for v in values_mg_dl],
        attributes,
    )
    statuses = [status for _, status in shown]
    # Share's newest reading held (11:59) turns 10 minutes old at 12:09: the fallback's
    # next value after that shows.
    first = statuses.index("fallback")
    quiet_from = NOW - timedelta(minutes=1) + SHARE_QUIET_AFTER
    assert quiet_from <= NOW + timedelta(minutes=2 + first) <= quiet_from + timedelta(minutes=1)
    assert all(status == "fallback" for status in statuses[first:])
    # One of the fallback's values of the last 5 minutes: it is taken once a period.
    value, _ = shown[-1]
    assert any(
        float(value) == pytest.approx(fed * to_unit, abs=0.2 * to_unit + 1)
        for fed in values_mg_dl[-5:]
    )
    coordinator = config_entry.runtime_data
    history = coordinator.state.history
    assert 5 <= history.from_fallback <= 8
    assert coordinator.data.newest.from_fallback
    # The low (below 70 mg/dL) on the fallback's readings sounds.
    assert hass.states.get(ALERT).state in ("low", "urgent_low")
    # Share's 24-hour figures say how many readings came from the fallback.
    assert coordinator.data.report.from_fallback == history.from_fallback

    share.state.clear_faults()
    await advance(hass, freezer, timedelta(minutes=15))
    assert hass.states.get(STATUS).state in ("current", "waiting")
    assert not coordinator.data.newest.from_fallback
    # Share's readings replaced every fallback reading in their slots (Share had them all).
    assert coordinator.state.history.from_fallback == 0
    assert not any(reading.from_fallback for reading in coordinator.data.readings)


@pytest.mark.parametrize(
    ("values", "attributes"),
    [
        (["unavailable", "unknown"] * 10, MG_DL),
        (["low", "high"] * 10, MG_DL),
        ([str(v) for v in range(100, 120)], {ATTR_UNIT_OF_MEASUREMENT: "%"}),
        ([str(v) for v in range(100, 120)], {}),
        ([str(v) for v in range(600, 620)], MG_DL),
        ([str(v) for v in range(10, 30)], MG_DL),
        (["120"] * 20, MG_DL),
    ],
    ids=["unavailable", "not_a_number", "unknown_unit", "no_unit", "too_high", "too_low", "stale"],
)
async def test_a_bad_fallback_is_never_used(
    hass: HomeAssistant,
    share: ShareSimulator,
    arriving: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    values: list[str],
    attributes: dict[str, Any],
) -> None:
    """Unavailable, not a number, an unknown unit, absurd or unchanging: never shown."""
    await set_up(hass, config_entry, freezer, "mg/dL")
    hass.states.async_set(FALLBACK, "120", MG_DL)
    await advance(hass, freezer, timedelta(minutes=2))
    share.state.add_fault(Fault("html", status=502, times=None))
    shown = await feed(hass, freezer, values, attributes)
    assert all(status != "fallback" for _, status in shown)
    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE
    assert config_entry.runtime_data.state.history.from_fallback == 0


async def test_a_value_after_a_restart_waits_for_the_next(
    hass: HomeAssistant,
    share: ShareSimulator,
    arriving: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A state that follows none (restored at start-up) may be old: the next change counts."""
    await set_up(hass, config_entry, freezer, "mg/dL")
    share.state.add_fault(Fault("html", status=502, times=None))
    await advance(hass, freezer, timedelta(minutes=20))
    hass.states.async_set(FALLBACK, "120", MG_DL)
    await hass.async_block_till_done()
    assert hass.states.get(STATUS).state == "share_unreachable"
    await advance(hass, freezer, timedelta(minutes=1))
    hass.states.async_set(FALLBACK, "121", MG_DL)
    await hass.async_block_till_done()
    assert hass.states.get(STATUS).state == "fallback"
    assert hass.states.get(VALUE).state == "121"


async def test_share_fine_the_fallback_is_not_used(
    hass: HomeAssistant,
    arriving: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await set_up(hass, config_entry, freezer, "mg/dL")
    shown = await feed(hass, freezer, [str(v) for v in range(60, 90)], MG_DL)
    assert {status for _, status in shown} <= {"current", "waiting"}
    assert not {value for value, _ in shown} & {str(v) for v in range(60, 90)}
    assert config_entry.runtime_data.state.history.from_fallback == 0


def test_reading_time_is_the_change() -> None:
    changed = datetime(2026, 11, 21, 12, 3, tzinfo=UTC)
    reading = fallback_reading("100", "mg/dL", changed, changed + timedelta(minutes=2))
    assert reading == GlucoseReading(changed, 100, None, from_fallback=True)


def test_the_sensor_session_is_found_in_shares_readings_alone() -> None:
    """A fallback filling the new sensor's warm-up does not hide the sensor change."""
    # Share: until 8 h ago, a warm-up hole of 2 h 05, then readings for the last 5 h 55.
    before = [GlucoseReading(NOW - timedelta(hours=8, minutes=5 * n), 120, None) for n in range(50)]
    after = [GlucoseReading(NOW - timedelta(minutes=5 * n), 130, None) for n in range(72)]
    # The fallback fills the hole, a reading every 5 minutes.
    warm_up = [
        GlucoseReading(NOW - timedelta(hours=6, minutes=5 * n), 100, None, from_fallback=True)
        for n in range(1, 24)
    ]
    history, _ = ReadingHistory().merged([*before, *warm_up, *after], NOW)
    assert history.from_fallback == 23
    share_only = history.from_share()
    assert len(share_only) == len(history) - 23
    assert share_only.from_fallback == 0
    without = ReadingHistory().merged(after, NOW)[0]
    assert without.from_share() is without
    assert detect_session_start(share_only, SensorType.G6) is not None
    assert detect_session_start(history, SensorType.G6) is None


async def test_a_value_after_none_stays_refused_on_an_attribute_update(
    hass: HomeAssistant,
    share: ShareSimulator,
    arriving: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Back from `unavailable` with its last (maybe hours old) value, then only an attribute.

    A "last poll" attribute written again is no new reading: the value stays refused.
    """
    await set_up(hass, config_entry, freezer, "mg/dL")
    hass.states.async_set(FALLBACK, STATE_UNAVAILABLE, MG_DL)
    share.state.add_fault(Fault("html", status=502, times=None))
    await advance(hass, freezer, timedelta(minutes=20))
    hass.states.async_set(FALLBACK, "64", {**MG_DL, "last_poll": "12:20"})
    await hass.async_block_till_done()
    assert hass.states.get(STATUS).state != "fallback"  # refused, as designed
    await advance(hass, freezer, timedelta(minutes=1))
    hass.states.async_set(FALLBACK, "64", {**MG_DL, "last_poll": "12:21"})
    await hass.async_block_till_done()
    assert hass.states.get(STATUS).state != "fallback"
    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE


async def test_a_unit_change_is_not_a_new_reading(
    hass: HomeAssistant,
    share: ShareSimulator,
    arriving: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The fallback's 14-minute-old value switched to mmol/L is the same old reading."""
    await set_up(hass, config_entry, freezer, "mg/dL")
    hass.states.async_set(FALLBACK, "150", MG_DL)
    await advance(hass, freezer, timedelta(minutes=1))
    hass.states.async_set(FALLBACK, "151", MG_DL)  # the fallback's last real reading, 12:01
    await hass.async_block_till_done()
    share.state.add_fault(Fault("html", status=502, times=None))
    await advance(hass, freezer, timedelta(minutes=14))
    assert hass.states.get(STATUS).state != "fallback"
    # The user switches the fallback entity to mmol/L: 151 mg/dL -> 8.4 mmol/L, now.
    hass.states.async_set(FALLBACK, "8.4", MMOL_L)
    await hass.async_block_till_done()
    assert hass.states.get(STATUS).state != "fallback"
    assert hass.states.get(VALUE).state == "unavailable"


async def test_a_fallback_reading_taken_during_a_read_stays(
    hass: HomeAssistant,
    share: ShareSimulator,
    arriving: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A fallback value taken while a read of quiet Share is in flight stays shown."""
    await set_up(hass, config_entry, freezer, "mg/dL")
    hass.states.async_set(FALLBACK, "120", MG_DL)
    await advance(hass, freezer, timedelta(minutes=1))
    # Share quiet: no reading after 11:59 is ever served.
    arriving.readings[:] = [r for r in arriving.readings if r.time <= NOW.timestamp()]
    await advance(hass, freezer, timedelta(minutes=11))
    coordinator = config_entry.runtime_data
    hass.states.async_set(FALLBACK, "118", MG_DL)
    await hass.async_block_till_done()
    assert hass.states.get(STATUS).state == "fallback"
    await advance(hass, freezer, timedelta(minutes=5))
    assert hass.states.get(STATUS).state == "fallback"

    client = coordinator.client
    real_read = client.read
    gate = asyncio.Event()
    started = asyncio.Event()

    async def slow_read(minutes: int, max_count: int) -> list[GlucoseReading]:
        result = await real_read(minutes, max_count)
        started.set()
        await gate.wait()
        return result

    with patch.object(client, "read", slow_read):
        refresh = hass.async_create_task(coordinator.async_refresh())
        await started.wait()
        hass.states.async_set(FALLBACK, "115", MG_DL)  # fallback's new value mid-read
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert coordinator.data.newest.value == 115
        gate.set()
        await refresh
    await hass.async_block_till_done()
    assert coordinator.data.newest.value == 115, coordinator.data.newest
    assert hass.states.get(STATUS).state == "fallback"


async def test_a_wrong_clock_and_the_fallback_lose_no_reading(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A year ahead, no internet yet (no clock check), a fallback on the LAN: nothing lost.

    A board without a real-time clock boots before NTP; xDrip+ still feeds the
    fallback. Its readings, stamped by the wrong clock, never age the history out.
    """
    state = await stored_days(hass, config_entry.entry_id, 3)
    held = len(state.history)
    hass.config_entries.async_update_entry(config_entry, options={CONF_FALLBACK: FALLBACK})
    share.state.add_fault(Fault("reset", times=None))  # no internet: no answer, no Date header
    off = timedelta(days=365)
    share.state.clock = lambda: time.time() - off.total_seconds()
    freezer.move_to(NOW + off)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    hass.states.async_set(FALLBACK, "110", MG_DL)
    await advance(hass, freezer, timedelta(minutes=5))
    hass.states.async_set(FALLBACK, "112", MG_DL)
    await hass.async_block_till_done()
    assert config_entry.runtime_data.client.stats.clock_offset is None
    assert len(state.history) >= held


def _share(minutes_ago: float, value: int) -> GlucoseReading:
    return GlucoseReading(NOW - timedelta(minutes=minutes_ago), value, Trend.FALLING)


def test_switch_to_fallback_does_not_clear_urgent_low_soon() -> None:
    """Falling toward urgent low, Share quiet, the fallback lower still: nothing cleared.

    Across the change of source no rate or prediction can be made; that says nothing
    about the danger, so urgent low soon and falling fast stay as they are.
    """
    engine = AlertEngine(AlertSettings(enabled=frozenset(AlertKind)))
    # 100 -> 70 over 15 min, -2 mg/dL/min: urgent low (55) predicted within 20 min.
    share = [_share(15 - 5 * n, 100 - 10 * n) for n in range(4)][::-1]
    events = engine.evaluate(NOW, share)
    assert engine.states[AlertKind.URGENT_LOW_SOON].active, events
    # Share quiet for 10 min; the fallback reads 58 (lower still, still falling).
    later = NOW + timedelta(minutes=11)
    fallback = GlucoseReading(later, 58, None, from_fallback=True)
    events = engine.evaluate(later, [fallback, *share])
    cleared = [e.kind for e in events if e.type is AlertEventType.CLEARED]
    assert AlertKind.URGENT_LOW_SOON not in cleared
    assert AlertKind.FALLING_FAST not in cleared
    assert engine.states[AlertKind.URGENT_LOW_SOON].active


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(1, 400), st.integers(39, 401)),
        max_size=80,
    )
)
def test_fallback_marks_survive_storage(steps: list[tuple[bool, int, int]]) -> None:
    """Readings of both sources merged one by one: the marks come back from storage."""
    history = ReadingHistory()
    clock = NOW - timedelta(days=2)
    for from_fallback, seconds, value in steps:
        clock += timedelta(seconds=seconds)
        reading = GlucoseReading(clock, value, None, from_fallback=from_fallback)
        history, _ = history.merged([reading], clock + timedelta(seconds=1))
    restored = ReadingHistory.from_dict(history.to_dict())
    assert list(restored) == list(history)
    assert restored.from_fallback == history.from_fallback
    # Share's own timeline is computed once per history, not once per snapshot.
    assert history.from_share() is history.from_share()
