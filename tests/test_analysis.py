"""The formulas behind change, range, prediction and the 24-hour figures."""

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.dexcom_share.glucose.analysis import (
    GlucoseRange,
    Thresholds,
    daily_summary,
    delta,
    glucose_range,
    low_soon,
    predict,
    rate_per_minute,
)
from custom_components.dexcom_share.glucose.models import GlucoseReading, Trend

T = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
FIVE = timedelta(minutes=5)
DEFAULTS = Thresholds()


def trace(
    values: list[int], trend: Trend | None = Trend.STEADY, step: timedelta = FIVE
) -> list[GlucoseReading]:
    """Readings with the given values, oldest first in `values`, returned newest first."""
    return [
        GlucoseReading(T - step * index, value, trend)
        for index, value in enumerate(reversed(values))
    ]


@pytest.mark.parametrize(
    ("values", "step", "expected_delta", "expected_rate"),
    [
        ([100, 100, 100], FIVE, 0, 0.0),
        ([100, 110, 125], FIVE, 15, 3.0),
        ([140, 130, 118], FIVE, -12, -2.4),
        ([100, 130], timedelta(minutes=10), None, None),
        ([45, 39], FIVE, None, None),
        ([401, 380], FIVE, None, None),
        ([120], FIVE, None, None),
    ],
    ids=["steady", "rising", "falling", "gap", "low", "high", "one reading"],
)
def test_delta_and_rate(
    values: list[int],
    step: timedelta,
    expected_delta: int | None,
    expected_rate: float | None,
) -> None:
    """Change since the previous reading, unknown across gaps and at LOW/HIGH."""
    readings = trace(values, step=step)
    assert delta(readings) == expected_delta
    assert rate_per_minute(readings) == expected_rate


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (39, GlucoseRange.URGENT_LOW),
        (54, GlucoseRange.URGENT_LOW),
        (55, GlucoseRange.LOW),
        (69, GlucoseRange.LOW),
        (70, GlucoseRange.IN_RANGE),
        (180, GlucoseRange.IN_RANGE),
        (181, GlucoseRange.HIGH),
        (250, GlucoseRange.HIGH),
        (251, GlucoseRange.URGENT_HIGH),
        (401, GlucoseRange.URGENT_HIGH),
    ],
)
def test_range_with_default_thresholds(value: int, expected: GlucoseRange) -> None:
    """In range means 70-180 mg/dL inclusive; LOW and HIGH are urgent."""
    assert glucose_range(GlucoseReading(T, value, None), DEFAULTS) is expected


def test_range_with_mmol_thresholds_stored_in_mg_dl() -> None:
    """Thresholds entered as 4.0-9.0 mmol/L are compared in mg/dL."""
    thresholds = Thresholds(urgent_low=54.1, low=72.1, high=162.2, urgent_high=216.2)
    assert glucose_range(GlucoseReading(T, 72, None), thresholds) is GlucoseRange.LOW
    assert glucose_range(GlucoseReading(T, 163, None), thresholds) is GlucoseRange.HIGH


@pytest.mark.parametrize(
    ("values", "trend", "in_15", "in_30"),
    [
        ([120, 120, 120, 120, 120], Trend.STEADY, 120.0, 120.0),
        ([100, 105, 110, 115, 120], Trend.RISING_SLIGHTLY, 135.0, 150.0),
        ([150, 140, 130, 120, 110], Trend.FALLING, 80.0, 50.0),
        ([90, 80, 70, 60, 50], Trend.FALLING_QUICKLY, 40.0, 40.0),
        ([120, 120], Trend.STEADY, None, None),
        ([120, 120, 120, 120, 120], Trend.NOT_COMPUTABLE, None, None),
        ([120, 120, 120, 120, 120], Trend.RATE_OUT_OF_RANGE, None, None),
        ([60, 50, 45, 42, 39], Trend.FALLING, None, None),
    ],
    ids=[
        "steady",
        "rising",
        "falling",
        "clamped",
        "too few",
        "not computable",
        "out of range",
        "low",
    ],
)
def test_prediction(
    values: list[int], trend: Trend, in_15: float | None, in_30: float | None
) -> None:
    """A least-squares line through the last 20 minutes, clamped to 40-400 mg/dL."""
    readings = trace(values, trend)
    assert predict(readings, timedelta(minutes=15)) == in_15
    assert predict(readings, timedelta(minutes=30)) == in_30


def test_prediction_stops_at_a_gap() -> None:
    """Readings before a gap are not used: two readings after it are too few."""
    readings = [
        GlucoseReading(T, 120, Trend.STEADY),
        GlucoseReading(T - FIVE, 118, Trend.STEADY),
        GlucoseReading(T - FIVE * 4, 100, Trend.STEADY),
        GlucoseReading(T - FIVE * 5, 98, Trend.STEADY),
    ]
    assert predict(readings, timedelta(minutes=15)) is None


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([100, 95, 90, 85, 80], True),
        ([110, 108, 106, 104, 102], False),
        ([68, 68, 68], True),
        ([120, 120], None),
    ],
    ids=["falling towards low", "falling slowly", "already low", "unknown"],
)
def test_low_soon(values: list[int], expected: bool | None) -> None:
    """On when glucose is, or is predicted to be, below 70 mg/dL within 20 minutes."""
    assert low_soon(trace(values), DEFAULTS, timedelta(minutes=20)) is expected


def test_daily_summary_formulas() -> None:
    """TIR/TBR/TAR as shares of readings, mean, GMI = 3.31 + 0.02392 * mean, CV = SD/mean."""
    values = [60] * 24 + [120] * 192 + [200] * 72
    summary = daily_summary(trace(values), DEFAULTS)
    assert summary is not None
    assert summary.readings == 288
    assert (summary.time_below_range, summary.time_in_range, summary.time_above_range) == (
        8.3,
        66.7,
        25.0,
    )
    assert summary.mean == 135.0
    assert summary.gmi == round(3.31 + 0.02392 * 135, 1)
    # SD = sqrt((24 * 75² + 192 * 15² + 72 * 65²) / 288) = 40.9
    assert summary.cv == 30.3


def test_daily_summary_needs_two_hours() -> None:
    """With fewer than 24 readings there is nothing to summarise."""
    assert daily_summary(trace([120] * 23), DEFAULTS) is None
    assert daily_summary(trace([120] * 24), DEFAULTS) is not None
