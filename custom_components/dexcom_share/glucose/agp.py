"""The ambulatory glucose profile (AGP): every day of the period folded onto one day.

`glucose_profile` computes what is drawn (testable without pixels); `render_agp_png`
draws it with Pillow alone. Both are pure and block for some tens of milliseconds:
run them in the executor. Informational only: not for treatment decisions.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
import io
import math
from typing import Final
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFont

from .bands import HIGH_ABOVE, LOW_BELOW, VERY_HIGH_ABOVE, VERY_LOW_BELOW
from .const import HIGH_VALUE, LOW_VALUE
from .history import ReadingHistory
from .report import SUFFICIENT_COVERAGE, GlucoseReport, glucose_report
from .units import MG_DL, convert

BIN_MINUTES: Final = 15
BINS: Final = 24 * 60 // BIN_MINUTES
# Each bin's percentiles are taken over its own readings and those of this many bins
# on either side (75 minutes centred on the bin), which smooths the curves.
NEIGHBOUR_BINS: Final = 2
# With fewer readings in its window a bin is left out (a gap in the drawing).
MIN_BIN_READINGS: Final = 5
PERCENTILES: Final = (5, 25, 50, 75, 95)


@dataclass(frozen=True, slots=True)
class ProfileBin:
    """The percentiles of one time-of-day bin, in mg/dL."""

    start_minute: int
    """Minutes after local midnight where the bin starts."""
    readings: int
    """Readings in the bin's 75-minute window."""
    p5: float
    p25: float
    p50: float
    p75: float
    p95: float


@dataclass(frozen=True, slots=True)
class GlucoseProfile:
    """What the AGP picture shows: the report's figures and the profile's bins."""

    report: GlucoseReport
    time_zone: ZoneInfo
    bins: tuple[ProfileBin | None, ...]
    """One per 15 minutes from local midnight; None where data is too thin."""


def percentile(ordered: Sequence[float], percent: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default, type 7)."""
    position = (len(ordered) - 1) * percent / 100
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def glucose_profile(
    history: ReadingHistory, end: datetime, days: int, time_zone: ZoneInfo
) -> GlucoseProfile:
    """The profile of the `days` days up to `end`, by time of day in `time_zone`.

    LOW and HIGH take part as 39 and 401 mg/dL, as in the report.
    """
    report = glucose_report(history, end, days)
    period = history.since(report.start)
    buckets: list[list[int]] = [[] for _ in range(BINS)]
    for time, value in zip(period.times, period.values, strict=True):
        local = datetime.fromtimestamp(time, time_zone)
        buckets[(local.hour * 60 + local.minute) // BIN_MINUTES].append(value)
    bins: list[ProfileBin | None] = []
    for index in range(BINS):
        window = sorted(
            value
            for offset in range(-NEIGHBOUR_BINS, NEIGHBOUR_BINS + 1)
            for value in buckets[(index + offset) % BINS]
        )
        if len(window) < MIN_BIN_READINGS:
            bins.append(None)
            continue
        p5, p25, p50, p75, p95 = (round(percentile(window, p), 1) for p in PERCENTILES)
        bins.append(ProfileBin(index * BIN_MINUTES, len(window), p5, p25, p50, p75, p95))
    return GlucoseProfile(report=report, time_zone=time_zone, bins=tuple(bins))


# --- Drawing -----------------------------------------------------------------------
# Layout in logical pixels; drawn at SCALE times the size and scaled down, which
# smooths the edges of lines, bands and text.
WIDTH: Final = 1000
HEIGHT: Final = 700
SCALE: Final = 2
CHART_LEFT: Final = 96
CHART_TOP: Final = 112
CHART_RIGHT: Final = 680
CHART_BOTTOM: Final = 578
PANEL_LEFT: Final = 716
# The sensor's whole range, 40-400 mg/dL: nothing is cut off, and reports compare.
AXIS_MIN: Final = LOW_VALUE + 1
AXIS_MAX: Final = HIGH_VALUE - 1
AXIS_TICKS: Final = (AXIS_MIN, LOW_BELOW, HIGH_ABOVE, VERY_HIGH_ABOVE, 300, AXIS_MAX)
HOUR_TICKS: Final = range(0, 25, 3)

BACKGROUND: Final = (255, 255, 255)
TEXT: Final = (33, 33, 33)
MUTED: Final = (110, 110, 110)
GRID: Final = (222, 222, 222)
TARGET: Final = (222, 241, 222)
OUTER_BAND: Final = (190, 214, 238)
INNER_BAND: Final = (92, 150, 208)
MEDIAN: Final = (8, 48, 107)
TARGET_LINE: Final = (67, 160, 71)
WARNING: Final = (191, 96, 0)
BAND_COLOURS: Final = (
    (139, 0, 0),  # very low
    (229, 57, 53),  # low
    (67, 160, 71),  # in range
    (253, 190, 60),  # high
    (239, 108, 0),  # very high
)
BAND_NAMES: Final = ("Very low", "Low", "In range", "High", "Very high")


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font, at any size: no system fonts needed."""
    return ImageFont.load_default(size * SCALE)


def format_glucose(value: float, unit: str) -> str:
    """A glucose value in `unit`: whole mg/dL, mmol/L to one decimal."""
    if unit == MG_DL:
        return f"{value:.0f}"
    converted = convert(value, unit)
    return f"{converted:.1f}"


class _Canvas:
    """Drawing in logical pixels on an image SCALE times larger."""

    def __init__(self, *, transparent: bool = False) -> None:
        size = (WIDTH * SCALE, HEIGHT * SCALE)
        if transparent:
            self.image = Image.new("RGBA", size, (0, 0, 0, 0))
        else:
            self.image = Image.new("RGB", size, BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)

    def text(
        self,
        xy: tuple[float, float],
        text: str,
        size: int,
        fill: tuple[int, int, int] = TEXT,
        anchor: str = "la",
    ) -> None:
        self.draw.text(
            (xy[0] * SCALE, xy[1] * SCALE), text, fill=fill, font=_font(size), anchor=anchor
        )

    def rectangle(self, box: tuple[float, float, float, float], fill: tuple[int, int, int]) -> None:
        self.draw.rectangle(tuple(value * SCALE for value in box), fill=fill)

    def line(
        self, points: Sequence[tuple[float, float]], fill: tuple[int, int, int], width: int
    ) -> None:
        self.draw.line(
            [(x * SCALE, y * SCALE) for x, y in points],
            fill=fill,
            width=width * SCALE,
            joint="curve",
        )

    def polygon(self, points: Sequence[tuple[float, float]], fill: tuple[int, int, int]) -> None:
        self.draw.polygon([(x * SCALE, y * SCALE) for x, y in points], fill=fill)

    def png(self) -> bytes:
        image = self.image.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
        output = io.BytesIO()
        # A palette of 256 colours is plenty for flat colours and smoothed edges, and
        # makes the file a third of the size of true colour.
        image.quantize(256, dither=Image.Dither.NONE).save(output, format="PNG")
        return output.getvalue()


def _y(value: float) -> float:
    clamped = min(AXIS_MAX, max(AXIS_MIN, value))
    share = (clamped - AXIS_MIN) / (AXIS_MAX - AXIS_MIN)
    return CHART_BOTTOM - share * (CHART_BOTTOM - CHART_TOP)


def _x(minute: float) -> float:
    return CHART_LEFT + minute / (24 * 60) * (CHART_RIGHT - CHART_LEFT)


def _runs(bins: Sequence[ProfileBin | None]) -> list[list[tuple[float, ProfileBin]]]:
    """Consecutive drawn bins as (minute, bin), at the bins' centres.

    A profile without gaps is closed across midnight at both edges of the chart.
    """
    half = BIN_MINUTES / 2
    if all(item is not None for item in bins):
        full = [(item.start_minute + half, item) for item in bins if item is not None]
        return [[(full[-1][0] - 24 * 60, full[-1][1]), *full, (full[0][0] + 24 * 60, full[0][1])]]
    runs: list[list[tuple[float, ProfileBin]]] = []
    current: list[tuple[float, ProfileBin]] = []
    for item in bins:
        if item is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append((item.start_minute + half, item))
    if current:
        runs.append(current)
    return runs


def _draw_chart(canvas: _Canvas, profile: GlucoseProfile, unit: str) -> None:
    """Target band, grid, axes, then the bands and the median clipped to the chart."""
    canvas.rectangle((CHART_LEFT, _y(HIGH_ABOVE), CHART_RIGHT, _y(LOW_BELOW)), TARGET)
    for tick in AXIS_TICKS:
        canvas.line([(CHART_LEFT, _y(tick)), (CHART_RIGHT, _y(tick))], GRID, 1)
        canvas.text((CHART_LEFT - 10, _y(tick)), format_glucose(tick, unit), 20, anchor="rm")
    # The very-low limit sits close to the axis' end: a smaller label fits between.
    canvas.line([(CHART_LEFT, _y(VERY_LOW_BELOW)), (CHART_RIGHT, _y(VERY_LOW_BELOW))], GRID, 1)
    canvas.text(
        (CHART_LEFT - 10, _y(VERY_LOW_BELOW) - 1),
        format_glucose(VERY_LOW_BELOW, unit),
        15,
        BAND_COLOURS[0],
        anchor="rm",
    )
    canvas.text((CHART_LEFT - 10, CHART_TOP - 16), unit, 20, MUTED, anchor="rs")
    for hour in HOUR_TICKS:
        x = _x(hour * 60)
        canvas.line([(x, CHART_TOP), (x, CHART_BOTTOM)], GRID, 1)
        canvas.text((x, CHART_BOTTOM + 8), f"{hour:02d}:00", 20, anchor="ma")
    canvas.text(
        ((CHART_LEFT + CHART_RIGHT) / 2, CHART_BOTTOM + 36),
        f"Time of day ({profile.time_zone.key})",
        20,
        MUTED,
        anchor="ma",
    )
    # Runs closed across midnight overshoot the chart: draw on a layer, paste the chart.
    layer = _Canvas(transparent=True)
    for run in _runs(profile.bins):
        for lower, upper, colour in (("p5", "p95", OUTER_BAND), ("p25", "p75", INNER_BAND)):
            top = [(_x(minute), _y(getattr(item, upper))) for minute, item in run]
            bottom = [(_x(minute), _y(getattr(item, lower))) for minute, item in reversed(run)]
            layer.polygon(top + bottom, colour)
        layer.line([(_x(minute), _y(item.p50)) for minute, item in run], MEDIAN, 4)
    box = (CHART_LEFT * SCALE, CHART_TOP * SCALE, CHART_RIGHT * SCALE, CHART_BOTTOM * SCALE)
    clipped = layer.image.crop(box)
    canvas.image.paste(clipped, box[:2], clipped)
    for limit in (LOW_BELOW, HIGH_ABOVE):
        canvas.line([(CHART_LEFT, _y(limit)), (CHART_RIGHT, _y(limit))], TARGET_LINE, 2)
    canvas.draw.rectangle(box, outline=MUTED, width=SCALE)
    if all(item is None for item in profile.bins):
        canvas.text(
            ((CHART_LEFT + CHART_RIGHT) / 2, (CHART_TOP + CHART_BOTTOM) / 2),
            "Too few readings for a profile",
            26,
            MUTED,
            anchor="mm",
        )


def _draw_panel(canvas: _Canvas, report: GlucoseReport, unit: str) -> None:
    """The time-in-ranges bar (very low at the bottom) and the headline figures."""
    bar_left, bar_right, bar_top, bar_bottom = PANEL_LEFT, PANEL_LEFT + 44, CHART_TOP, 400
    canvas.text((PANEL_LEFT, CHART_TOP - 16), "Time in ranges", 22, anchor="ls")
    shares = (
        report.time_very_low,
        report.time_low,
        report.time_in_range,
        report.time_high,
        report.time_very_high,
    )
    if any(share is None for share in shares):
        canvas.rectangle((bar_left, bar_top, bar_right, bar_bottom), GRID)
    else:
        bottom = float(bar_bottom)
        for share, colour in zip(shares, BAND_COLOURS, strict=True):
            top = bottom - (share or 0) / 100 * (bar_bottom - bar_top)
            canvas.rectangle((bar_left, top, bar_right, bottom), colour)
            bottom = top
    # Labels spaced evenly beside the bar, very high on top, as on a printed AGP.
    step = (bar_bottom - bar_top) / len(BAND_NAMES)
    for index, (name, colour) in enumerate(zip(BAND_NAMES, BAND_COLOURS, strict=True)):
        y = bar_bottom - step * (index + 0.5)
        share = shares[index]
        canvas.rectangle((bar_right + 12, y - 7, bar_right + 26, y + 7), colour)
        canvas.text((bar_right + 34, y), name, 20, anchor="lm")
        canvas.text((WIDTH - 20, y), "-" if share is None else f"{share:.1f} %", 20, anchor="rm")
    figures = [
        ("Mean", "-" if report.mean is None else f"{format_glucose(report.mean, unit)} {unit}"),
        ("GMI", "-" if report.gmi is None else f"{report.gmi:.1f} %"),
        ("CV", "-" if report.cv is None else f"{report.cv:.1f} %"),
    ]
    y = 440.0
    for name, value in figures:
        canvas.text((PANEL_LEFT, y), name, 22, MUTED, anchor="lm")
        canvas.text((WIDTH - 20, y), value, 24, anchor="rm")
        y += 38
    coverage_colour = TEXT if report.sufficient else WARNING
    canvas.text((PANEL_LEFT, y), "Coverage", 22, MUTED, anchor="lm")
    canvas.text((WIDTH - 20, y), f"{report.coverage:.1f} %", 24, coverage_colour, anchor="rm")
    if not report.sufficient:
        canvas.text(
            (PANEL_LEFT, y + 30),
            f"Under {SUFFICIENT_COVERAGE:.0f} %: read with care",
            18,
            WARNING,
            anchor="lm",
        )


def render_agp_png(profile: GlucoseProfile, unit: str, title: str) -> bytes:
    """The AGP picture as a PNG (1000 x 700): profile, time in ranges and figures.

    Glucose is labelled in `unit` (mg/dL or mmol/L); the axis spans the sensor's
    range, 40-400 mg/dL, so nothing is cut off.
    """
    canvas = _Canvas()
    report = profile.report
    first = report.start.astimezone(profile.time_zone).date().isoformat()
    last = report.end.astimezone(profile.time_zone).date().isoformat()
    canvas.text((20, 16), f"{title}: glucose profile, {report.days} days", 30)
    caption = f"{first} to {last}, {report.readings} readings"
    if report.from_fallback:
        caption += f" ({report.from_fallback} from the fallback sensor)"
    canvas.text((20, 56), caption, 20, MUTED)
    _draw_chart(canvas, profile, unit)
    _draw_panel(canvas, report, unit)
    canvas.text(
        (WIDTH / 2, HEIGHT - 14),
        "Informational only. Not for treatment decisions.",
        20,
        WARNING,
        anchor="ms",
    )
    return canvas.png()
