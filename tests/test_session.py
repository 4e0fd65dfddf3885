"""Sensor sessions: a sensor change against a backfilled signal loss, expiry, manual start."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.dexcom_share.glucose.history import ReadingHistory
from custom_components.dexcom_share.glucose.models import GlucoseReading
from custom_components.dexcom_share.glucose.session import (
    CONFIRMATION,
    MANUAL_START_MARGIN,
    SENSOR_SPECS,
    SensorType,
    detect_session_start,
    sensor_session,
)

from .seed import every_five_minutes

T0 = datetime(2026, 11, 10, 8, 0, 30, tzinfo=UTC)
FIVE = timedelta(minutes=5)


def reach(history: ReadingHistory) -> datetime | None:
    """Where reads reach back to, before the newest reading (the coordinator's rule)."""
    if not history:
        return None
    return history.gap_start(datetime.fromtimestamp(history.times[-1], UTC) - CONFIRMATION)


def held(*batches: Iterable[GlucoseReading]) -> ReadingHistory:
    """The history after these batches arrived, in order, each just after its newest reading."""
    history = ReadingHistory()
    for batch in map(list, batches):
        arrived = max((reading.time for reading in batch), default=T0) + timedelta(minutes=1)
        history, _ = history.merged(batch, arrived)
    return history


@pytest.mark.parametrize("sensor_type", [SensorType.G7, SensorType.G7_15_DAY, SensorType.ONE_PLUS])
def test_g7_family_sensor_change(sensor_type: SensorType) -> None:
    """The old sensor's last reading, 12 minutes to change, 30 minutes' warm-up, readings again.

    Unconfirmed for the first hour of new readings; then the start is the first new
    reading minus the warm-up.
    """
    old = every_five_minutes(T0 - timedelta(days=1), T0)
    first_new = T0 + timedelta(minutes=12 + 30 + 2)
    early = every_five_minutes(first_new, first_new + timedelta(minutes=55))
    history = held(old, early)
    assert detect_session_start(history, sensor_type) is None
    assert reach(history) == T0

    history = held(old, early, every_five_minutes(first_new, first_new + CONFIRMATION))
    start = first_new - timedelta(minutes=30)
    assert detect_session_start(history, sensor_type) == start == T0 + timedelta(minutes=14)
    assert reach(history) is None


@pytest.mark.parametrize("sensor_type", [SensorType.G6, SensorType.ONE])
def test_g6_family_sensor_change(sensor_type: SensorType) -> None:
    """A 2-hour warm-up: a 2 h 10 min hole is a change, an unfilled 1-hour hole is not."""
    old = every_five_minutes(T0 - timedelta(days=1), T0)
    lost = every_five_minutes(T0 + timedelta(hours=1), T0 + timedelta(hours=5))
    first_new = T0 + timedelta(hours=7, minutes=10)
    new = every_five_minutes(first_new, first_new + timedelta(hours=3))
    history = held(old, lost, new)
    assert detect_session_start(history, sensor_type) == first_new - timedelta(hours=2)
    # The same readings from a G7: the newest hole of 30 minutes or more counts.
    assert detect_session_start(history, SensorType.G7) == first_new - timedelta(minutes=30)


def test_backfilled_signal_loss_is_no_sensor_change() -> None:
    """40 minutes lost; the phone uploads them ten minutes after the signal returns."""
    before = every_five_minutes(T0 - timedelta(days=1), T0)
    back = T0 + timedelta(minutes=45)
    after = every_five_minutes(back, back + timedelta(minutes=10))
    history = held(before, after)
    assert reach(history) == T0

    backfill = every_five_minutes(T0 + FIVE, back - FIVE)
    later = every_five_minutes(back, back + timedelta(hours=3))
    history = held(before, after, backfill, later)
    assert detect_session_start(history, SensorType.G7) is None
    assert reach(history) is None


def test_partial_backfill_shorter_than_the_warm_up() -> None:
    """A G6 backfills at most 3 hours: a 4-hour loss leaves a 1-hour hole, no G6 warm-up."""
    before = every_five_minutes(T0 - timedelta(days=1), T0)
    back = T0 + timedelta(hours=4)
    backfill = every_five_minutes(back - timedelta(hours=3), back + timedelta(hours=2))
    history = held(before, backfill)
    assert detect_session_start(history, SensorType.G6) is None
    assert detect_session_start(history, SensorType.G7) == back - timedelta(hours=3, minutes=30)


def test_newest_confirmed_change_wins() -> None:
    """Two sensor changes ten days apart: the newer one is the session's start."""
    first = T0 - timedelta(days=10)
    readings = [
        every_five_minutes(first - timedelta(days=1), first),
        every_five_minutes(first + timedelta(minutes=40), T0),
        every_five_minutes(T0 + timedelta(minutes=45), T0 + timedelta(hours=2)),
    ]
    # Ten days arrive at once (a restored history), not as Share's 24 hours.
    now = T0 + timedelta(hours=2)
    history, _ = ReadingHistory().merged([r for batch in readings for r in batch], now)
    assert detect_session_start(history, SensorType.G7) == T0 + timedelta(minutes=15)
    history, _ = ReadingHistory().merged([r for batch in readings[:2] for r in batch], now)
    assert detect_session_start(history, SensorType.G7) == first + timedelta(minutes=10)


def test_nothing_to_detect() -> None:
    """No readings, or readings without a hole: no start."""
    assert detect_session_start(ReadingHistory(), SensorType.G7) is None
    assert reach(ReadingHistory()) is None
    steady = held(every_five_minutes(T0 - timedelta(days=2), T0))
    assert detect_session_start(steady, SensorType.G7) is None
    assert reach(steady) is None


@pytest.mark.parametrize(
    ("sensor_type", "lifetime"),
    [
        (SensorType.G6, timedelta(days=10)),
        (SensorType.ONE, timedelta(days=10)),
        (SensorType.G7, timedelta(days=10, hours=12)),
        (SensorType.ONE_PLUS, timedelta(days=10, hours=12)),
        (SensorType.G7_15_DAY, timedelta(days=15, hours=12)),
    ],
)
def test_expiry_and_expiring_soon(sensor_type: SensorType, lifetime: timedelta) -> None:
    """Expiry is start + wear + grace; "expiring soon" from 24 hours before it on."""
    session = sensor_session(sensor_type, T0, None)
    assert session is not None
    assert session.expires == T0 + lifetime
    assert not session.manual
    assert session.expiring_soon_from == T0 + lifetime - timedelta(hours=24)
    assert not session.expiring_soon(T0 + lifetime - timedelta(hours=24, seconds=1))
    assert session.expiring_soon(T0 + lifetime - timedelta(hours=24))
    assert session.expiring_soon(T0 + lifetime + timedelta(days=1))


def test_manual_start_wins_until_a_later_change() -> None:
    """The button's start beats the detection of the same change, not of a later one."""
    pressed = T0
    assert sensor_session(SensorType.G7, None, None) is None
    session = sensor_session(SensorType.G7, None, pressed)
    assert session is not None
    assert (session.start, session.manual) == (pressed, True)
    # The same change, detected minutes later, or an older one: the button's start stays.
    for detected in (pressed + timedelta(minutes=4), pressed - timedelta(days=9)):
        session = sensor_session(SensorType.G7, detected, pressed)
        assert session is not None
        assert (session.start, session.manual) == (pressed, True)
    # A change detected more than an hour after the press is a newer sensor.
    later = pressed + MANUAL_START_MARGIN + timedelta(seconds=1)
    session = sensor_session(SensorType.G7, later, pressed)
    assert session is not None
    assert (session.start, session.manual) == (later, False)


# A trace as gaps between readings: mostly 5 minutes, sometimes a hole of up to 5 hours.
gaps = st.lists(
    st.one_of(
        st.just(300),
        st.just(300),
        st.integers(301, 5 * 3600),
    ),
    min_size=1,
    max_size=120,
)


@settings(max_examples=300, deadline=None)
@given(gaps=gaps, sensor_type=st.sampled_from(list(SensorType)))
def test_detection_properties(gaps: list[int], sensor_type: SensorType) -> None:
    """The start comes from the newest confirmed hole; filling every hole leaves none.

    Confirmed: at least a warm-up long, and followed by an hour of readings.
    """
    times = [int(T0.timestamp())]
    for gap in gaps:
        times.append(times[-1] + gap)
    readings = [GlucoseReading(datetime.fromtimestamp(time, UTC), 120, None) for time in times]
    history, _ = ReadingHistory().merged(readings, readings[-1].time)
    warm_up = SENSOR_SPECS[sensor_type].warm_up.total_seconds()
    confirmed = [
        times[index]
        for index in range(1, len(times))
        if times[index] - times[index - 1] >= warm_up
        and times[-1] - times[index] >= CONFIRMATION.total_seconds()
    ]
    start = detect_session_start(history, sensor_type)
    if confirmed:
        assert (
            start == datetime.fromtimestamp(max(confirmed), UTC) - SENSOR_SPECS[sensor_type].warm_up
        )
    else:
        assert start is None
    # Every hole not yet confirmed is read over again, so a backfill of it is seen.
    waiting = [
        times[index - 1]
        for index in range(1, len(times))
        if times[index] - times[index - 1] >= warm_up
        and times[-1] - times[index] < CONFIRMATION.total_seconds()
    ]
    if waiting:
        assert reach(history) <= datetime.fromtimestamp(min(waiting), UTC)

    backfill = [
        GlucoseReading(datetime.fromtimestamp(time, UTC), 110, None)
        for before, after in pairwise(times)
        for time in range(before + 300, after, 300)
    ]
    filled, _ = history.merged(backfill, readings[-1].time)
    assert detect_session_start(filled, sensor_type) is None
    assert reach(filled) is None


def test_a_day_away_is_no_sensor_change() -> None:
    """Home Assistant off for 30 hours: that hole says nothing about the sensor.

    The readings Share no longer holds are missing either way; a warm-up within Share's
    24 hours still counts.
    """
    stop = T0 - timedelta(hours=30)
    before = every_five_minutes(T0 - timedelta(days=2), stop)
    history, _ = ReadingHistory().merged(before, stop)
    window = every_five_minutes(T0 - timedelta(hours=24) + timedelta(minutes=2), T0)
    away, _ = history.merged(window, T0)
    assert away.unwatched == ((int(stop.timestamp()), int((T0 - timedelta(hours=24)).timestamp())),)
    assert detect_session_start(away, SensorType.G7) is None
    restored = ReadingHistory.from_dict(away.to_dict())
    assert restored.unwatched == away.unwatched
    assert detect_session_start(restored, SensorType.G7) is None

    first_new = T0 - timedelta(hours=20)
    changed, _ = history.merged(every_five_minutes(first_new, T0), T0)
    assert detect_session_start(changed, SensorType.G7) == first_new - timedelta(minutes=30)


def test_outages_shorter_than_a_day_are_watched() -> None:
    """Share down for 23 hours: its answer covers the whole outage, nothing is unwatched."""
    stop = T0 - timedelta(hours=23)
    history, _ = ReadingHistory().merged(every_five_minutes(T0 - timedelta(days=1), stop), stop)
    history, _ = history.merged(every_five_minutes(stop + FIVE * 40, T0), T0)
    assert history.unwatched == ()
    assert detect_session_start(history, SensorType.G7) == stop + FIVE * 40 - timedelta(minutes=30)


def test_a_session_outlived_by_readings_is_over() -> None:
    """Readings after a session's expiry come from a sensor changed unseen: none known."""
    expires = T0 + timedelta(days=10, hours=12)
    assert sensor_session(SensorType.G7, T0, None, expires).expires == expires
    assert sensor_session(SensorType.G7, T0, None, expires + timedelta(minutes=10)) is not None
    assert sensor_session(SensorType.G7, T0, None, expires + timedelta(minutes=11)) is None
    assert sensor_session(SensorType.G7, None, T0, expires + timedelta(hours=1)) is None


def test_a_sensor_changed_while_away_is_unknown() -> None:
    """The old sensor seen until 30 hours ago; the new one started while nobody watched.

    The old session is the newest found, but readings outlive it: unknown.
    """
    old_start = T0 - timedelta(days=11)
    seen_until = T0 - timedelta(hours=30)
    history, _ = ReadingHistory().merged(
        every_five_minutes(old_start - timedelta(days=1), old_start - timedelta(hours=1))
        + every_five_minutes(old_start + timedelta(minutes=30), seen_until),
        seen_until,
    )
    assert detect_session_start(history, SensorType.G7) == old_start
    history, _ = history.merged(every_five_minutes(T0 - timedelta(hours=24), T0), T0)
    assert detect_session_start(history, SensorType.G7) == old_start
    assert sensor_session(SensorType.G7, old_start, None, T0) is None
