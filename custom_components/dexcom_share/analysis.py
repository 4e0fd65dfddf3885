"""What the readings say beyond the newest number: change, range, prediction, 24-h figures.

Pure functions over readings (newest first, mg/dL as Share sends them), so each
formula is tested on crafted traces. None of this is for treatment decisions.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
import statistics
from typing import Final

from .models import GlucoseReading, Trend

LOW_VALUE: Final = 39
"""Dexcom's LOW: below 40 mg/dL, the sensor's range."""
HIGH_VALUE: Final = 401
"""Dexcom's HIGH: above 400 mg/dL."""
# Consecutive readings further apart than this are not compared (a gap).
MAX_STEP: Final = timedelta(minutes=7, seconds=30)
# The prediction fits the readings of this window.
PREDICTION_WINDOW: Final = timedelta(minutes=20)
MIN_PREDICTION_READINGS: Final = 3
MIN_PREDICTION_SPAN: Final = timedelta(minutes=10)
# 24-hour figures need at least this many readings (2 hours' worth).
MIN_DAILY_READINGS: Final = 24
MG_DL_PER_MMOL_L: Final = 18.0182


class GlucoseRange(StrEnum):
    """Where a reading lies against the user's thresholds."""

    URGENT_LOW = "urgent_low"
    LOW = "low"
    IN_RANGE = "in_range"
    HIGH = "high"
    URGENT_HIGH = "urgent_high"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The user's thresholds in mg/dL; in range means low ≤ value ≤ high."""

    urgent_low: float = 55
    low: float = 70
    high: float = 180
    urgent_high: float = 250


def is_beyond_sensor(reading: GlucoseReading) -> bool:
    """Share reported LOW or HIGH: the true value is unknown."""
    return reading.value <= LOW_VALUE or reading.value >= HIGH_VALUE


def previous_reading(readings: Sequence[GlucoseReading]) -> GlucoseReading | None:
    """The reading before the newest, if it is the one just before it (no gap)."""
    if len(readings) < 2 or readings[0].time - readings[1].time > MAX_STEP:
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
    return round(change / minutes, 2)


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


@dataclass(frozen=True, slots=True)
class DailySummary:
    """Figures over the readings of the last 24 hours."""

    readings: int
    time_in_range: float
    time_below_range: float
    time_above_range: float
    mean: float
    gmi: float
    cv: float


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
        time_in_range=round(100 * (count - below - above) / count, 1),
        time_below_range=round(100 * below / count, 1),
        time_above_range=round(100 * above / count, 1),
        mean=round(mean, 1),
        gmi=round(3.31 + 0.02392 * mean, 1),
        cv=round(100 * statistics.pstdev(values) / mean, 1),
    )
