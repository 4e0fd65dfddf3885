"""The glucose profile: what is drawn (snapshot, known answers) and the PNG itself."""

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
import io
import math
from zoneinfo import ZoneInfo

from PIL import Image
import pytest
from syrupy.assertion import SnapshotAssertion

from custom_components.dexcom_share.glucose.agp import (
    BIN_MINUTES,
    BINS,
    HEIGHT,
    MEDIAN,
    WIDTH,
    format_glucose,
    glucose_profile,
    percentile,
    render_agp_png,
)
from custom_components.dexcom_share.glucose.history import ReadingHistory
from custom_components.dexcom_share.glucose.models import GlucoseReading
from custom_components.dexcom_share.glucose.report import glucose_report

BERLIN = ZoneInfo("Europe/Berlin")
END = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
MG_DL = "mg/dL"
MMOL_L = "mmol/L"


def history_of(readings: list[GlucoseReading], now: datetime = END) -> ReadingHistory:
    """The history holding these readings."""
    history, _ = ReadingHistory().merged(readings, now)
    return history


def fourteen_days() -> ReadingHistory:
    """A made-up but plausible fortnight in Berlin.

    A daily curve, day-to-day shifts, one hour of LOW, one of HIGH, a night without data.
    """
    readings = []
    for index in range(14 * 288):
        time = END - timedelta(minutes=1 + 5 * index)
        local = time.astimezone(BERLIN)
        hour = local.hour + local.minute / 60
        day = (END - time).days
        value = 125 + 45 * math.sin((hour - 9) / 24 * 2 * math.pi) + 12 * (day % 5 - 2)
        value += 25 * math.sin(index * 0.7)  # spread within each bin
        if day == 3 and 2 <= hour < 3:
            value = 39  # LOW
        if day == 5 and 18 <= hour < 19:
            value = 401  # HIGH
        if day == 9 and hour < 6:
            continue  # a night without data
        readings.append(GlucoseReading(time, round(value), None))
    return history_of(readings)


def test_percentile_between_closest_ranks() -> None:
    """Type 7 (numpy's default): linear between the two closest ranks."""
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([1, 2, 3, 4], 25) == 1.75
    assert percentile([1, 2, 3, 4], 5) == pytest.approx(1.15)
    assert percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert percentile([7], 95) == 7


def test_drawing_data(snapshot: SnapshotAssertion) -> None:
    """The percentiles of every 15-minute bin and the headline figures of a fortnight."""
    history = fourteen_days()
    profile = glucose_profile(history, END, 14, BERLIN)
    assert profile.report == glucose_report(history, END, 14)
    assert len(profile.bins) == BINS == 96
    assert all(item is not None for item in profile.bins)
    assert asdict(profile) == snapshot


def test_folded_by_local_time_across_a_clock_change() -> None:
    """A spike at 07:00 Berlin time every day stays at 07:00 across the end of summer time.

    Summer time ends on 25 October 2026, so 07:00 is 05:00 UTC before and 06:00 UTC after.
    """
    end = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    readings = []
    for index in range(14 * 288):
        time = end - timedelta(minutes=5 * index)
        local = time.astimezone(BERLIN)
        readings.append(
            GlucoseReading(time, 300 if local.hour == 7 and local.minute < 15 else 100, None)
        )
    profile = glucose_profile(history_of(readings, end), end, 14, BERLIN)
    seven = profile.bins[7 * 60 // BIN_MINUTES]
    assert seven is not None
    # The bin's window: 3 readings at 300 and 12 at 100 per day.
    assert seven.readings == 14 * 15
    assert (seven.p50, seven.p95) == (100, 300)
    for hour in (5, 6, 8, 9):
        other = profile.bins[hour * 60 // BIN_MINUTES]
        assert other is not None
        assert other.p95 == 100, hour


def test_thin_bins_are_left_out() -> None:
    """Bins whose 75-minute window holds fewer than 5 readings are gaps."""
    readings = [
        GlucoseReading(
            datetime(2026, 11, 20, 11, 0, tzinfo=UTC) + timedelta(minutes=5 * index),
            100 + index,
            None,
        )
        for index in range(6)
    ]  # 12:00 to 12:25 in Berlin
    profile = glucose_profile(history_of(readings), END, 14, BERLIN)
    drawn = {index: item for index, item in enumerate(profile.bins) if item is not None}
    # The readings fall into the bins of 12:00 and 12:15; windows reach two bins out.
    assert sorted(drawn) == [47, 48, 49, 50]
    assert [item.readings for item in drawn.values()] == [6, 6, 6, 6]
    assert drawn[48].p50 == 102.5
    assert profile.report.mean is None  # too few readings for the report's figures


def test_glucose_in_each_unit() -> None:
    """Axis and figures: whole mg/dL, mmol/L to one decimal by Home Assistant's factor."""
    assert [format_glucose(value, MG_DL) for value in (40, 54, 70, 180, 250, 400)] == [
        "40",
        "54",
        "70",
        "180",
        "250",
        "400",
    ]
    assert [format_glucose(value, MMOL_L) for value in (40, 54, 70, 180, 250, 400)] == [
        "2.2",
        "3.0",
        "3.9",
        "10.0",
        "13.9",
        "22.2",
    ]


def _decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _median_pixels(image: Image.Image) -> int:
    """Pixels of (nearly) the median line's colour."""
    rgb = image.convert("RGB")
    return sum(
        count
        for count, colour in rgb.getcolors(WIDTH * HEIGHT) or []
        if sum(abs(a - b) for a, b in zip(colour, MEDIAN, strict=True)) < 30
    )


@pytest.mark.parametrize("unit", [MG_DL, MMOL_L])
def test_png(unit: str) -> None:
    """A PNG of 1000 x 700 with the median line drawn; the units change the labels."""
    profile = glucose_profile(fourteen_days(), END, 14, BERLIN)
    png = render_agp_png(profile, unit, "Dexcom jane")
    image = _decoded(png)
    assert image.format == "PNG"
    assert image.size == (WIDTH, HEIGHT)
    assert _median_pixels(image) > 1000
    other = render_agp_png(profile, MMOL_L if unit == MG_DL else MG_DL, "Dexcom jane")
    assert other != png


def test_png_with_sparse_and_without_data() -> None:
    """Six hours of readings to midnight, or none: a PNG of the same size, a line with data."""
    midnight = datetime(2026, 11, 21, 0, 0, tzinfo=BERLIN)
    readings = [
        GlucoseReading(midnight - timedelta(minutes=1 + 5 * index), 150, None)
        for index in range(72)
    ]
    profile = glucose_profile(history_of(readings), END, 14, BERLIN)
    drawn = [index for index, item in enumerate(profile.bins) if item is not None]
    assert drawn == [0, *range(71, 96)]  # the window of 00:00 reaches back to 23:30
    sparse = _decoded(render_agp_png(profile, MG_DL, "x"))
    empty = _decoded(
        render_agp_png(glucose_profile(ReadingHistory(), END, 14, BERLIN), MMOL_L, "x")
    )
    assert sparse.size == empty.size == (WIDTH, HEIGHT)
    assert _median_pixels(sparse) > 100
    assert _median_pixels(empty) == 0
