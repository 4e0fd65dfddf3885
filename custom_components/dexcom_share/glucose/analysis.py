"""What the readings say beyond the newest number: change, range, prediction, 24-h figures.

Pure functions over readings (newest first, mg/dL as Share sends them), so each
formula is tested on crafted traces. None of this is for treatment decisions.
"""

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
import statistics
from typing import Final

from .const import HIGH_VALUE, HISTORY, LOW_SOON_WITHIN, LOW_VALUE, READING_PERIOD, STALE_AFTER
from .history import ReadingHistory
from .models import (
    DailySummary,
    DataStatus,
    GlucoseRange,
    GlucoseReading,
    SensorLimit,
    Thresholds,
    Trend,
)
from .report import glucose_report
from .session import detect_session_start, sensor_session
from .snapshot import DisplayOptions, Snapshot
from .units import MG_DL, convert

# Consecutive readings further apart than this are not compared (a gap).
MAX_STEP: Final = timedelta(minutes=7, seconds=30)
# The prediction fits the readings of this window.
PREDICTION_WINDOW: Final = timedelta(minutes=20)
MIN_PREDICTION_READINGS: Final = 3
MIN_PREDICTION_SPAN: Final = timedelta(minutes=10)
# 24-hour figures need at least this many readings (2 hours' worth).
MIN_DAILY_READINGS: Final = 24
# A reading stamped further ahead of Home Assistant's clock than this is ignored (a
# bad uploader or a clock not yet set); it could otherwise pose as current for long.
MAX_CLOCK_AHEAD: Final = timedelta(minutes=5)


def recent(history: ReadingHistory, at: datetime) -> Iterator[GlucoseReading]:
    """The 24 hours of the history up to `at`, newest first: what Share held then.

    None more than `MAX_CLOCK_AHEAD` ahead of `at`. Lazy: finding the newest reading
    costs one reading, not 288.
    """
    ahead = at + MAX_CLOCK_AHEAD
    return (reading for reading in reversed(history.since(at - HISTORY)) if reading.time <= ahead)


def is_beyond_sensor(reading: GlucoseReading) -> bool:
    """Share reported LOW or HIGH: the true value is unknown."""
    return reading.value <= LOW_VALUE or reading.value >= HIGH_VALUE


def previous_reading(readings: Sequence[GlucoseReading]) -> GlucoseReading | None:
    """The reading before the newest, if it is the one just before it (no gap).

    Readings of two sources (Share and the fallback sensor) are not compared: two
    devices differ by more than glucose changes in 5 minutes.
    """
    if (
        len(readings) < 2
        or readings[0].time - readings[1].time > MAX_STEP
        or readings[0].from_fallback != readings[1].from_fallback
    ):
        return None
    return readings[1]


def delta(readings: Sequence[GlucoseReading]) -> int | None:
    """mg/dL change from the previous reading; None across a gap or at LOW/HIGH."""
    previous = previous_reading(readings)
    if previous is None or is_beyond_sensor(readings[0]) or is_beyond_sensor(previous):
        return None
    return readings[0].value - previous.value


def rate_per_minute(readings: Sequence[GlucoseReading]) -> float | None:
    """mg/dL per minute between the two newest readings; None across a gap."""
    change = delta(readings)
    if change is None:
        return None
    minutes = (readings[0].time - readings[1].time).total_seconds() / 60
    return change / minutes


def sensor_limit(reading: GlucoseReading) -> SensorLimit:
    """Whether Share reported LOW, HIGH or a value within the sensor's range."""
    if reading.value <= LOW_VALUE:
        return SensorLimit.LOW
    if reading.value >= HIGH_VALUE:
        return SensorLimit.HIGH
    return SensorLimit.WITHIN_RANGE


def glucose_range(reading: GlucoseReading, thresholds: Thresholds) -> GlucoseRange:
    """The range of one reading (LOW counts as urgent low, HIGH as urgent high)."""
    value = reading.value
    if value < thresholds.urgent_low:
        return GlucoseRange.URGENT_LOW
    if value < thresholds.low:
        return GlucoseRange.LOW
    if value > thresholds.urgent_high:
        return GlucoseRange.URGENT_HIGH
    if value > thresholds.high:
        return GlucoseRange.HIGH
    return GlucoseRange.IN_RANGE


def _fit(readings: Sequence[GlucoseReading]) -> tuple[datetime, float, float] | None:
    """Least-squares line (value at the newest reading, slope per minute) of the window."""
    newest = readings[0]
    if newest.trend in (Trend.NOT_COMPUTABLE, Trend.RATE_OUT_OF_RANGE):
        return None
    window: list[GlucoseReading] = []
    for reading in readings:
        if newest.time - reading.time > PREDICTION_WINDOW:
            break
        if window and window[-1].time - reading.time > MAX_STEP:
            break
        if reading.from_fallback != newest.from_fallback:
            break
        window.append(reading)
    if (
        len(window) < MIN_PREDICTION_READINGS
        or newest.time - window[-1].time < MIN_PREDICTION_SPAN
        or any(is_beyond_sensor(reading) for reading in window)
    ):
        return None
    minutes = [(reading.time - newest.time).total_seconds() / 60 for reading in window]
    values = [float(reading.value) for reading in window]
    slope, intercept = statistics.linear_regression(minutes, values)
    return newest.time, intercept, slope


def predict(readings: Sequence[GlucoseReading], ahead: timedelta) -> float | None:
    """Glucose `ahead` of the newest reading, by a straight line through the last 20 min.

    None with fewer than 3 readings spanning 10 minutes, across a gap, at LOW/HIGH,
    or when Share could not compute a trend. Clamped to the sensor's 40-400 mg/dL.
    """
    fit = _fit(readings)
    if fit is None:
        return None
    _, intercept, slope = fit
    return round(min(400.0, max(40.0, intercept + slope * ahead.total_seconds() / 60)), 1)


def low_soon(
    readings: Sequence[GlucoseReading], thresholds: Thresholds, within: timedelta
) -> bool | None:
    """Whether glucose is, or is predicted to be, below the low threshold `within` from now."""
    if readings and readings[0].value < thresholds.low:
        return True
    predicted = predict(readings, within)
    return None if predicted is None else predicted < thresholds.low


def daily_summary(
    readings: Sequence[GlucoseReading], thresholds: Thresholds
) -> DailySummary | None:
    """Percentages of readings below/in/above range, mean, GMI and CV.

    Each reading stands for its 5 minutes, so shares of readings are shares of time.
    GMI (%) = 3.31 + 0.02392 * mean mg/dL (Bergenstal 2018); CV (%) = SD / mean * 100.
    LOW and HIGH count as 39 and 401. None with fewer than 24 readings.
    """
    if len(readings) < MIN_DAILY_READINGS:
        return None
    values = [reading.value for reading in readings]
    count = len(values)
    below = sum(value < thresholds.low for value in values)
    above = sum(value > thresholds.high for value in values)
    mean = statistics.fmean(values)
    return DailySummary(
        readings=count,
        from_fallback=sum(reading.from_fallback for reading in readings),
        time_in_range=round(100 * (count - below - above) / count, 1),
        time_below_range=round(100 * below / count, 1),
        time_above_range=round(100 * above / count, 1),
        mean=round(mean, 1),
        gmi=round(3.31 + 0.02392 * mean, 1),
        cv=round(100 * statistics.pstdev(values) / mean, 1),
    )


def data_status(
    newest: GlucoseReading | None,
    now: datetime,
    *,
    problem: DataStatus | None,
    share_empty: bool,
    share_answered: bool,
    normal_delay: timedelta,
    stale_after: timedelta,
) -> DataStatus:
    """Why the glucose value shows what it shows.

    A fallback reading on show says so first; then a known cause that keeps Share's
    readings from coming (`problem`), however old the newest reading; then Share
    answering without any reading of 24 hours; then the newest reading's age against
    the reading period, this account's normal upload delay and the stale time.
    """
    if newest is not None and newest.from_fallback and now - newest.time < STALE_AFTER:
        return DataStatus.FALLBACK
    if problem is not None:
        return problem
    if share_empty:
        return DataStatus.NO_READINGS
    if newest is None:
        # Nothing stored: until Share first answers (the pacer may hold the first read
        # back), waiting; after, its answers held nothing usable (a clock far off).
        return DataStatus.STALE if share_answered else DataStatus.WAITING
    age = now - newest.time
    if age < READING_PERIOD:
        return DataStatus.CURRENT
    if age >= stale_after:
        return DataStatus.STALE
    if age < READING_PERIOD + normal_delay:
        return DataStatus.WAITING
    return DataStatus.DELAYED


def age_limits(snapshot: Snapshot, normal_delay: timedelta) -> list[datetime]:
    """When the snapshot changes by time alone.

    The next reading falls due, then late; the newest reading stops being current;
    the data turns stale; the sensor session is about to expire, and expires.
    """
    limits = []
    if (newest := snapshot.newest) is not None:
        limits += [
            newest.time + READING_PERIOD,
            newest.time + READING_PERIOD + normal_delay,
            newest.time + STALE_AFTER,
            newest.time + snapshot.options.stale_after,
        ]
    if (session := snapshot.session) is not None:
        limits += [session.expiring_soon_from, session.expires]
    return limits


def build_snapshot(
    history: ReadingHistory,
    new: tuple[GlucoseReading, ...],
    *,
    generation: int,
    options: DisplayOptions,
    now: datetime,
    merged_at: datetime,
    sensor_started: datetime | None,
    problem: DataStatus | None,
    share_empty: bool,
    share_answered: bool,
    normal_delay: timedelta,
) -> Snapshot:
    """Every figure the entities show, for this moment and these options.

    Figures about the current reading are None once it is 15 minutes old. The report
    and the sensor session come from the whole history (up to 90 days), the rest from
    its 24 hours up to `merged_at`, when readings last came (so that a day of failed
    reads does not hide the last ones known).
    """
    readings = tuple(recent(history, merged_at))
    newest = readings[0] if readings else None
    current = newest if newest is not None and now - newest.time < STALE_AFTER else None
    day = tuple(reading for reading in readings if now - reading.time <= HISTORY)
    rate = rate_per_minute(readings) if current else None
    unit = options.unit
    return Snapshot(
        at=now,
        generation=generation,
        history=history,
        readings=readings,
        new=new,
        options=options,
        current=current,
        data_stale=newest is None or now - newest.time >= options.stale_after,
        share_problem=problem,
        status=data_status(
            newest,
            now,
            problem=problem,
            share_empty=share_empty,
            share_answered=share_answered,
            normal_delay=normal_delay,
            stale_after=options.stale_after,
        ),
        change=delta(readings) if current else None,
        rate=None if rate is None else round(convert(rate, unit), 2 if unit == MG_DL else 3),
        glucose_range=glucose_range(current, options.thresholds) if current else None,
        sensor_limit=sensor_limit(current) if current else None,
        predicted_15=predict(readings, timedelta(minutes=15)) if current else None,
        predicted_30=predict(readings, timedelta(minutes=30)) if current else None,
        low_soon=low_soon(readings, options.thresholds, LOW_SOON_WITHIN) if current else None,
        daily=daily_summary(day, options.thresholds),
        report=glucose_report(history, now, options.report_days),
        session=sensor_session(
            options.sensor_type,
            # The fallback sensor may fill a warm-up's hole: the session is Share's sensor's.
            detect_session_start(history.from_share(), options.sensor_type),
            sensor_started,
            newest.time if newest else None,
        ),
    )
