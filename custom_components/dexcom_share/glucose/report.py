"""The glucose report: the figures clinics use, over 7 to 90 days of the local history.

Per the international consensus on time in range (Battelino et al., Diabetes Care
2019). Pure functions of the history, so every figure is tested on crafted traces.
Informational only: not for treatment decisions.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
import math
from typing import Final

from .history import ReadingHistory

REPORT_DAYS: Final = (7, 14, 30, 90)
DEFAULT_REPORT_DAYS: Final = 14
READINGS_PER_DAY: Final = 288
# Below this many readings (12 hours' worth) the figures are unknown.
MIN_READINGS: Final = 144
# The consensus reads the figures only with CGM data for at least 70 % of the period.
SUFFICIENT_COVERAGE: Final = 70.0


@dataclass(frozen=True, slots=True)
class GlucoseReport:
    """The report over `days` days up to `end`; glucose in mg/dL, shares in %.

    The five time-in-range figures, mean, SD, CV and GMI are None with fewer than
    `MIN_READINGS` readings; `readings` and `coverage` are always known.
    """

    end: datetime
    days: int
    readings: int
    coverage: float
    """Share of the period with CGM data: readings / (days * 288) * 100, at most 100."""
    from_fallback: int = 0
    """Of the readings, those from the fallback glucose sensor (not Share)."""
    time_very_low: float | None = None
    time_low: float | None = None
    time_in_range: float | None = None
    time_high: float | None = None
    time_very_high: float | None = None
    mean: float | None = None
    sd: float | None = None
    cv: float | None = None
    gmi: float | None = None

    @property
    def start(self) -> datetime:
        """Where the period begins."""
        return self.end - timedelta(days=self.days)

    @property
    def sufficient(self) -> bool:
        """Enough data for the consensus (at least 70 % of the period covered)."""
        return self.coverage >= SUFFICIENT_COVERAGE


def shares_summing_to_100(counts: list[int]) -> list[float]:
    """Percentages to one decimal that add up to exactly 100.0 (largest remainder).

    Rounding each share on its own can show 99.9 % or 100.1 % in total.
    """
    total = sum(counts)
    tenths = [count * 1000 / total for count in counts]
    rounded = [math.floor(share) for share in tenths]
    by_remainder = sorted(range(len(counts)), key=lambda index: rounded[index] - tenths[index])
    for index in by_remainder[: 1000 - sum(rounded)]:
        rounded[index] += 1
    return [share / 10 for share in rounded]


def glucose_report(history: ReadingHistory, end: datetime, days: int) -> GlucoseReport:
    """The report over the `days` days up to `end`.

    Every reading stands for its 5 minutes, so a share of readings is a share of
    time. LOW counts as 39 mg/dL and HIGH as 401, in the bands (very low, very high)
    and in the mean. Formulas, over the period's n readings g in mg/dL:

    - time in a band = readings in the band / n * 100, to 0.1, the five adding up
      to exactly 100 (largest remainder)
    - mean = sum(g) / n; SD = sqrt(sum((g - mean)^2) / n) (population SD)
    - CV (%) = SD / mean * 100
    - GMI (%) = 3.31 + 0.02392 * mean (Bergenstal et al., Diabetes Care 2018)
    - coverage (%) = n / (days * 288) * 100, at most 100
    """
    period = history.since(end - timedelta(days=days))
    tally = period.tally()
    count = tally.count
    coverage = round(min(100.0, 100 * count / (days * READINGS_PER_DAY)), 1)
    if count < MIN_READINGS:
        return GlucoseReport(
            end=end,
            days=days,
            readings=count,
            coverage=coverage,
            from_fallback=period.from_fallback,
        )
    very_low, low, in_range, high, very_high = shares_summing_to_100(list(tally.bands))
    mean = tally.total / count
    # n * sum(g^2) - sum(g)^2 is exact in integers: no rounding before the square root.
    sd = math.sqrt((count * tally.squares - tally.total**2) / count**2)
    return GlucoseReport(
        end=end,
        days=days,
        readings=count,
        coverage=coverage,
        from_fallback=period.from_fallback,
        time_very_low=very_low,
        time_low=low,
        time_in_range=in_range,
        time_high=high,
        time_very_high=very_high,
        mean=round(mean, 1),
        sd=round(sd, 1),
        cv=round(100 * sd / mean, 1),
        gmi=round(3.31 + 0.02392 * mean, 1),
    )
