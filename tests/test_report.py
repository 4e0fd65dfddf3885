"""The report's figures on crafted traces with known answers, and their properties."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
import math
import statistics

from homeassistant.const import UnitOfBloodGlucoseConcentration
from homeassistant.util.unit_conversion import BloodGlucoseConcentrationConverter
from hypothesis import given, settings, strategies as st
import pytest

from custom_components.dexcom_share.glucose.bands import band_index
from custom_components.dexcom_share.glucose.history import ReadingHistory
from custom_components.dexcom_share.glucose.models import GlucoseReading
from custom_components.dexcom_share.glucose.report import (
    DEFAULT_REPORT_DAYS,
    MIN_READINGS,
    glucose_report,
    shares_summing_to_100,
)

END = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
FIVE = timedelta(minutes=5)


def history_of(
    values: Sequence[int], end: datetime = END - timedelta(minutes=1), step: timedelta = FIVE
) -> ReadingHistory:
    """Readings every `step`, the last one (newest) a minute before END by default."""
    readings = [
        GlucoseReading(end - step * (len(values) - 1 - index), value, None)
        for index, value in enumerate(values)
    ]
    history, _ = ReadingHistory().merged(readings, end)
    return history


def test_steady_fourteen_days() -> None:
    """14 full days at 100 mg/dL: all in range, no variability, GMI of a mean of 100."""
    report = glucose_report(history_of([100] * 14 * 288), END, DEFAULT_REPORT_DAYS)
    assert report.readings == 4032
    assert report.coverage == 100.0
    assert report.sufficient
    assert (
        report.time_very_low,
        report.time_low,
        report.time_in_range,
        report.time_high,
        report.time_very_high,
    ) == (0.0, 0.0, 100.0, 0.0, 0.0)
    assert (report.mean, report.sd, report.cv) == (100.0, 0.0, 0.0)
    assert report.gmi == round(3.31 + 0.02392 * 100, 1) == 5.7
    assert report.start == END - timedelta(days=14)


def test_one_reading_in_each_band() -> None:
    """LOW, 60, 100, 200 and HIGH in turn: a fifth in each band, mean and SD by hand.

    mean = (39 + 60 + 100 + 200 + 401) / 5 = 160; deviations -121, -100, -60, 40, 241;
    SD = sqrt((14641 + 10000 + 3600 + 1600 + 58081) / 5) = sqrt(17584.4) = 132.606...
    """
    report = glucose_report(history_of([39, 60, 100, 200, 401] * 400), END, 14)
    assert report.readings == 2000
    assert report.coverage == round(100 * 2000 / 4032, 1) == 49.6
    assert not report.sufficient
    assert (
        report.time_very_low,
        report.time_low,
        report.time_in_range,
        report.time_high,
        report.time_very_high,
    ) == (20.0, 20.0, 20.0, 20.0, 20.0)
    assert report.mean == 160.0
    assert report.sd == 132.6
    assert report.cv == round(100 * math.sqrt(17584.4) / 160, 1) == 82.9
    assert report.gmi == round(3.31 + 0.02392 * 160, 1) == 7.1
    # The same mean in mmol/L, by Home Assistant's conversion: 8.9 mmol/L.
    mmol = BloodGlucoseConcentrationConverter.convert(
        report.mean,
        UnitOfBloodGlucoseConcentration.MILLIGRAMS_PER_DECILITER,
        UnitOfBloodGlucoseConcentration.MILLIMOLE_PER_LITER,
    )
    assert round(mmol, 1) == 8.9


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (39, 0),  # LOW
        (53, 0),
        (54, 1),
        (69, 1),
        (70, 2),
        (180, 2),
        (181, 3),
        (250, 3),
        (251, 4),
        (401, 4),  # HIGH
    ],
)
def test_band_limits(value: int, band: int) -> None:
    """Very low < 54 <= low < 70 <= in range <= 180 < high <= 250 < very high."""
    assert band_index(value) == band
    report = glucose_report(history_of([value] * MIN_READINGS), END, 7)
    shares = [
        report.time_very_low,
        report.time_low,
        report.time_in_range,
        report.time_high,
        report.time_very_high,
    ]
    assert shares == [100.0 if index == band else 0.0 for index in range(5)]


def test_gaps_lower_the_coverage_not_the_shares() -> None:
    """Every other hour missing over 7 days: half the coverage, the same figures."""
    readings = [
        GlucoseReading(END - timedelta(minutes=1 + 5 * index), 150 if index % 2 else 90, None)
        for index in range(7 * 288)
        if (index // 12) % 2 == 0
    ]
    history, _ = ReadingHistory().merged(readings, END)
    report = glucose_report(history, END, 7)
    assert report.readings == 7 * 144
    assert report.coverage == 50.0
    assert not report.sufficient
    assert report.mean == 120.0
    assert report.time_in_range == 100.0

    # 70 % of 14 days is enough for the consensus.
    report = glucose_report(history_of([120] * round(0.7 * 4032)), END, 14)
    assert report.coverage == 70.0
    assert report.sufficient


def test_only_the_period_counts() -> None:
    """Readings before the period are left out; 7 and 14 days differ accordingly."""
    values = [250] * (7 * 288) + [100] * (7 * 288)  # a high week, then a good week
    history = history_of(values)
    week = glucose_report(history, END, 7)
    fortnight = glucose_report(history, END, 14)
    assert (week.readings, week.time_in_range, week.mean) == (7 * 288, 100.0, 100.0)
    assert (fortnight.readings, fortnight.time_in_range, fortnight.time_high) == (
        14 * 288,
        50.0,
        50.0,
    )
    assert fortnight.mean == 175.0
    # 90 days with 14 days of data: coverage 15.6 %, the figures still shown.
    quarter = glucose_report(history, END, 90)
    assert quarter.coverage == round(100 * 14 / 90, 1) == 15.6
    assert quarter.mean == 175.0


def test_too_few_readings() -> None:
    """Under 12 hours of readings: the figures are unknown, count and coverage are not."""
    report = glucose_report(history_of([100] * (MIN_READINGS - 1)), END, 14)
    assert report.readings == MIN_READINGS - 1
    assert report.coverage == round(100 * (MIN_READINGS - 1) / 4032, 1)
    assert report.time_in_range is None
    assert report.mean is None
    assert report.gmi is None
    empty = glucose_report(ReadingHistory(), END, 14)
    assert (empty.readings, empty.coverage, empty.cv) == (0, 0.0, None)


@pytest.mark.parametrize(
    ("counts", "shares"),
    [
        ([1, 1, 1], [33.4, 33.3, 33.3]),
        ([1, 0, 0, 0, 2], [33.3, 0.0, 0.0, 0.0, 66.7]),
        ([1, 1, 1, 1, 1, 1], [16.7, 16.7, 16.7, 16.7, 16.6, 16.6]),
        ([0, 5, 0], [0.0, 100.0, 0.0]),
    ],
)
def test_shares_add_up_to_100(counts: list[int], shares: list[float]) -> None:
    """Largest remainder: the shares shown always add up to 100.0."""
    assert shares_summing_to_100(counts) == shares


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.integers(39, 401), min_size=MIN_READINGS, max_size=2000),
    days=st.sampled_from([7, 14, 30, 90]),
)
def test_report_properties(values: list[int], days: int) -> None:
    """Bands add up to 100 and stay within 0.05 of the exact share; mean, SD, CV, GMI agree."""
    report = glucose_report(history_of(values), END, days)
    shares = [
        report.time_very_low,
        report.time_low,
        report.time_in_range,
        report.time_high,
        report.time_very_high,
    ]
    assert all(share is not None for share in shares)
    assert round(sum(shares) * 10) == 1000
    for band, share in enumerate(shares):
        exact = 100 * sum(band_index(value) == band for value in values) / len(values)
        assert abs(share - exact) < 0.1
    assert 0 <= report.coverage <= 100
    assert min(values) - 0.05 <= report.mean <= max(values) + 0.05
    assert 0 <= report.sd <= (max(values) - min(values)) / 2 + 0.05
    # Against the standard library's exact arithmetic (a tie may round either way).
    mean, sd = statistics.fmean(values), statistics.pstdev(values)
    assert report.mean == pytest.approx(round(mean, 1), abs=0.11)
    assert report.sd == pytest.approx(round(sd, 1), abs=0.11)
    assert report.cv == pytest.approx(round(100 * sd / mean, 1), abs=0.11)
    assert report.gmi == pytest.approx(round(3.31 + 0.02392 * mean, 1), abs=0.11)


@settings(max_examples=100, deadline=None)
@given(
    count=st.integers(0, 90 * 288),
    step_minutes=st.sampled_from([1, 5, 15, 60]),
    days=st.sampled_from([7, 14, 30, 90]),
)
def test_coverage_within_0_and_100(count: int, step_minutes: int, days: int) -> None:
    """Coverage is a share of the period, even with readings more often than every 5 min."""
    history = history_of([120] * count, step=timedelta(minutes=step_minutes))
    report = glucose_report(history, END, days)
    assert 0 <= report.coverage <= 100
    # The newest is a minute old; the period reaches back `days` from END, inclusive.
    in_period = min(count, (days * 24 * 60 - 1) // step_minutes + 1)
    assert report.readings == in_period
