"""An account's upload delays, learned from when its readings turned up.

Each reading reached Share after the last read that did not return it and at or by
the read that did: interval-censored arrivals, fitted by EM over 2.5-10 s bins.
"""

from collections.abc import Mapping, Sequence
import functools
import itertools
import math
from typing import Any, Final

from .const import READING_PERIOD

HORIZON: Final = round(READING_PERIOD.total_seconds())
"""Seconds of upload delay the estimate resolves; longer ones share one bin."""
BIN_EDGES: Final = (*(2.5 * index for index in range(48)), *range(120, HORIZON + 1, 10))
"""2.5 s wide up to 2 minutes, where nearly all uploads land, 10 s wide beyond."""
BINS: Final = len(BIN_EDGES)
"""The bins between the edges, plus one for delays beyond HORIZON."""
PRIOR_MIX: Final = ((0.855, 8.0, 35.0), (0.09, 35.0, 120.0), (0.03, 120.0, 300.0))
"""(share, shortest s, longest s): a typical phone, mostly 8-35 s, a few up to 5 min."""
PRIOR_SPREAD: Final = 0.02
"""Of the prior, spread over 0-300 s, so that no delay is ruled out."""
PRIOR_BEYOND: Final = 0.005
PRIOR_WEIGHT: Final = 3.0
"""Readings the prior's shape is worth: the data outweighs it within the first hour."""
EVEN_SHARE: Final = 0.03
"""Share of the readings learned that is also spread evenly over 0-300 s."""
MEMORY: Final = 144
"""Readings over which old evidence fades by a factor e (half a day)."""
SURPRISE: Final = 0.2
"""A reading is a surprise if at most this share was to come when missed, or there when found."""
SURPRISES_FOR_SHIFT: Final = 3
"""Surprises in a row that mean the phone has changed."""
SHIFT_MEMORY: Final = 4.0
"""Readings over which old evidence fades while the surprises go on."""
SHIFT_READINGS: Final = 12
"""Readings a shift lasts at most: after that, what they taught is kept."""
SMOOTHED_UNTIL: Final = 72
"""Readings (6 hours) until which the estimate is smoothed before a plan is made from it."""
SMOOTHING: Final = 30.0
"""The kernel's typical width in seconds times the square root of the readings learned."""
SMOOTHING_CONTRAST: Final = 2.0
"""The power of (g / f) that widens the kernel where few readings fall (`_smoothed`)."""
SMOOTHING_MAX: Final = 30.0
"""Seconds of kernel width at most, even where almost no readings are held."""
MAX_INTERVALS: Final = 64
"""Distinct intervals kept as observed; the lightest (oldest) are folded into bins."""
FIT_ITERATIONS: Final = 50
PROBES_FIRST: Final = 36
"""Readings learned with a probe in every period (the first 3 hours)."""
PROBE_SHARE: Final = 0.08
"""Periods with a probe once those are learned (about 23 a day)."""
STORED_SHARE_MIN: Final = 1e-9
"""The least share of a bin in a stored fit: less is not one `to_dict` wrote."""
STORED_COUNT_MAX: Final = 1e4
"""The most readings' worth a stored estimate may hold: far more would overflow the fit."""


def _nearest_edge(seconds: float) -> int:
    """The index of the bin edge nearest to `seconds` (BINS beyond HORIZON).

    Rounding both ends of every interval the same way keeps adjacent intervals
    adjacent; widening them would make them share a bin, where the fit would then
    pile up their mass.
    """
    if seconds > HORIZON:
        return BINS
    return min(range(BINS), key=lambda index: abs(BIN_EDGES[index] - seconds))


def _prior() -> tuple[float, ...]:
    """Pseudo-readings per bin: the prior's shape, and the even spread."""
    shares = [0.0] * BINS
    for share, low, high in (*PRIOR_MIX, (PRIOR_SPREAD, 0.0, float(HORIZON))):
        for index, (start, end) in enumerate(itertools.pairwise(BIN_EDGES)):
            shares[index] += share * max(0.0, min(end, high) - max(start, low)) / (high - low)
    shares[-1] = PRIOR_BEYOND
    total = sum(shares)
    return tuple(PRIOR_WEIGHT * share / total for share in shares)


PRIOR: Final = _prior()
EVEN: Final = (
    *(EVEN_SHARE * (end - start) / HORIZON for start, end in itertools.pairwise(BIN_EDGES)),
    0.0,
)
"""EVEN_SHARE spread evenly over the bins, per reading learned."""


class DelayEstimate:
    """An account's upload-delay distribution, learned from interval-censored arrivals.

    Each reading reached Share after the last read that did not return it and at or
    before the read that did: an interval of its delay, rounded to bin edges. Equal
    intervals are counted together, each count fading by a factor e over MEMORY
    readings (SHIFT_MEMORY while readings keep surprising it). The histogram is their
    maximum-likelihood fit (EM, Turnbull's estimator) with the prior's pseudo-readings.
    Past MAX_INTERVALS distinct intervals, the lightest are folded into per-bin counts
    as the fit allocates them.
    """

    def __init__(
        self,
        intervals: Mapping[tuple[int, int], float] | None = None,
        folded: Sequence[float] | None = None,
        learned: int = 0,
        fit: Sequence[float] | None = None,
    ) -> None:
        """Start from the prior, or from what `to_dict` saved (`fit` as it stood)."""
        self.learned = learned
        self._surprises = 0
        """Readings in a row that the estimate gave little chance."""
        self._reference: tuple[float, ...] | None = None
        self._intervals: dict[tuple[int, int], float] = dict(intervals or {})
        self._folded = list(folded) if folded is not None else [0.0] * BINS
        if fit is None:
            self.probabilities = tuple(weight / sum(PRIOR) for weight in PRIOR)
            self._fit()
        else:
            self.probabilities = tuple(share / sum(fit) for share in fit)

    def add(self, lower: float, upper: float, weight: float = 1.0) -> None:
        """Learn that a reading's delay was more than `lower` and at most `upper` s.

        It counts `weight` times; old evidence fades by one reading's worth, faster
        after surprises in a row.
        """
        lower = max(0.0, lower)
        upper = max(lower, upper)
        first, end = _nearest_edge(lower), _nearest_edge(upper)
        if end <= first:
            # Within one bin: the bin that holds its middle.
            middle = (lower + upper) / 2
            first = max(index for index in range(BINS) if BIN_EDGES[index] <= middle)
            end = first + 1
        # Judged by the estimate from before the surprises began, which they change.
        reference = self._reference or self.probabilities
        below = sum(reference[:first]), sum(reference[:end])
        surprise = below[0] >= 1 - SURPRISE or below[1] <= SURPRISE
        self._surprises = self._surprises + 1 if surprise else 0
        self._reference = reference if surprise else None
        if self._surprises >= SURPRISES_FOR_SHIFT + SHIFT_READINGS:
            # The new phone is learned well enough to be judged by the estimate now.
            self._surprises, self._reference = 0, None
        memory = SHIFT_MEMORY if self._surprises >= SURPRISES_FOR_SHIFT else MEMORY
        decay = math.exp(-1 / memory)
        self._folded = [count * decay for count in self._folded]
        self._intervals = {key: count * decay for key, count in self._intervals.items()}
        self._intervals[first, end] = self._intervals.get((first, end), 0.0) + weight
        if len(self._intervals) > MAX_INTERVALS:
            lightest = min(self._intervals, key=self._intervals.__getitem__)
            lightest_count = self._intervals.pop(lightest)
            start, stop = lightest
            inside = sum(self.probabilities[start:stop])
            for index in range(start, stop):
                self._folded[index] += lightest_count * self.probabilities[index] / inside
        self.learned += 1
        self._fit()

    def _fit(self) -> None:
        """EM steps from the current estimate, each O(bins + intervals).

        E-step: every interval's weight goes to its bins in proportion to their
        probability, for all intervals at once through a difference array.
        """
        learned = sum(self._intervals.values()) + sum(self._folded)
        base = [
            prior + folded + even * learned
            for prior, folded, even in zip(PRIOR, self._folded, EVEN, strict=True)
        ]
        probabilities = self.probabilities
        for _ in range(FIT_ITERATIONS):
            cumulative = [0.0, *itertools.accumulate(probabilities)]
            share_change = [0.0] * (BINS + 1)
            for (first, end), weight in self._intervals.items():
                ratio = weight / (cumulative[end] - cumulative[first])
                share_change[first] += ratio
                share_change[end] -= ratio
            expected = [
                count + probability * share
                for count, probability, share in zip(
                    base, probabilities, itertools.accumulate(share_change), strict=False
                )
            ]
            total = sum(expected)
            probabilities = tuple(count / total for count in expected)
        self.probabilities = probabilities

    @property
    def probe_share(self) -> float:
        """How often to probe: every period at first, then now and then."""
        return 1.0 if self.learned < PROBES_FIRST else PROBE_SHARE

    def cdf(self) -> list[float]:
        """P(delay <= x) for x = 0, 1, ..., HORIZON seconds (even within each bin)."""
        cdf = []
        below = 0.0
        index = 0
        for second in range(HORIZON + 1):
            while index < BINS - 1 and BIN_EDGES[index + 1] <= second:
                below += self.probabilities[index]
                index += 1
            if index == BINS - 1:
                cdf.append(below)
            else:
                start, end = BIN_EDGES[index], BIN_EDGES[index + 1]
                cdf.append(below + self.probabilities[index] * (second - start) / (end - start))
        return cdf

    @property
    def young(self) -> bool:
        """Learned from too few readings to plan from as it stands (`SMOOTHED_UNTIL`).

        The prior alone is a smooth shape already; smoothing it would cost reads.
        """
        return 0 < self.learned < SMOOTHED_UNTIL

    def planning_cdf(self) -> list[float]:
        """The CDF to plan from: smoothed while the estimate is young."""
        cdf = self.cdf()
        return _smoothed(cdf, self.learned + PRIOR_WEIGHT) if self.young else cdf

    def quantile(self, share: float) -> float:
        """The delay (s) by which this share of readings has arrived (HORIZON at most)."""
        cdf = self.cdf()
        for second in range(1, HORIZON + 1):
            if cdf[second] >= share:
                step = cdf[second] - cdf[second - 1]
                return second - 1 + (share - cdf[second - 1]) / step
        return float(HORIZON)

    def to_dict(self) -> dict[str, Any]:
        """The intervals, the folded counts and the fit, rounded: 330 numbers at most."""
        return {
            # An interval faded below the rounding (after about 5 days, where few
            # distinct intervals are seen and none is folded) is worth nothing.
            "intervals": [
                [first, end, rounded]
                for (first, end), weight in self._intervals.items()
                if (rounded := round(weight, 4)) > 0
            ],
            "folded": [round(count, 4) for count in self._folded],
            "fit": [round(share, 7) for share in self.probabilities],
            "learned": self.learned,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DelayEstimate:
        """What `to_dict` saved; ValueError for anything else."""
        stored, folded, learned = data["intervals"], data["folded"], data["learned"]
        fit = data["fit"]
        for counts in (folded, fit):
            if not isinstance(counts, list) or len(counts) != BINS:
                raise ValueError("bad counts")
            if not all(_is_number(count) and count >= 0 for count in counts):
                raise ValueError("bad counts")
        # The fit learning starts from: each bin needs a share a reading landing there
        # can go to.
        total = sum(fit)
        if not 0 < total < math.inf or min(fit) / total < STORED_SHARE_MIN:
            raise ValueError("bad fit")
        if not isinstance(stored, list) or len(stored) > MAX_INTERVALS:
            raise ValueError("bad intervals")
        intervals: dict[tuple[int, int], float] = {}
        for item in stored:
            if not isinstance(item, list) or len(item) != 3:
                raise ValueError("bad interval")
            first, end, weight = item
            if type(first) is not int or type(end) is not int or not 0 <= first < end <= BINS:
                raise ValueError("bad interval")
            if not _is_number(weight) or weight < 0:
                raise ValueError("bad interval")
            # Weight 0: faded below the rounding, written before such were left out.
            if weight > 0:
                intervals[first, end] = float(weight)
        if type(learned) is not int or learned < 0:
            raise ValueError("bad count")
        if not sum(folded) + sum(intervals.values()) <= STORED_COUNT_MAX:
            raise ValueError("counts too large")
        return cls(
            intervals, [float(count) for count in folded], learned, [float(share) for share in fit]
        )


def _smoothed(cdf: Sequence[float], readings: float) -> list[float]:
    """The CDF with each second's share spread by a Gaussian kernel (an adaptive KDE).

    The width is SMOOTHING / sqrt(readings), times (g / f) ** SMOOTHING_CONTRAST where
    f is the density there (smoothed at that width first) and g its geometric mean
    (after Abramson's rule, which takes the square root): wide where few readings
    fall, narrow where many do, and at most SMOOTHING_MAX. Reflected at 0 and HORIZON,
    so the shares within them and beyond keep their sums.
    """
    density = [after - before for before, after in itertools.pairwise(cdf)]
    width = SMOOTHING / math.sqrt(readings)
    # Floored, so that the logarithm below is defined wherever the shares underflow.
    pilot = [max(share, 1e-12) for share in _spread(density, [width] * HORIZON)]
    mean_log = sum(share * math.log(share) for share in pilot) / sum(pilot)
    # min(SMOOTHING_MAX, width * exp(exponent)), taken before exp, which would overflow
    # where the pilot is floored.
    widths = [
        width * math.exp(min(math.log(SMOOTHING_MAX / width), exponent))
        for exponent in (SMOOTHING_CONTRAST * (mean_log - math.log(share)) for share in pilot)
    ]
    return list(itertools.accumulate(_spread(density, widths), initial=cdf[0]))


def _spread(density: Sequence[float], widths: Sequence[float]) -> list[float]:
    """Each second's share spread by a Gaussian of its width, reflected at the ends."""
    spread = [0.0] * HORIZON
    for second, (share, width) in enumerate(zip(density, widths, strict=True)):
        radius, kernel = _kernel(round(width * 4))
        for offset, weight in enumerate(kernel, second - radius):
            if offset < 0:
                target = -offset - 1
            elif offset >= HORIZON:
                target = 2 * HORIZON - offset - 1
            else:
                target = offset
            spread[target] += share * weight
    return spread


@functools.cache
def _kernel(quarter_seconds: int) -> tuple[int, tuple[float, ...]]:
    """A Gaussian's radius and weights (summing to 1), its width in quarter seconds."""
    if quarter_seconds < 1:
        return 0, (1.0,)
    width = quarter_seconds / 4
    radius = math.ceil(3 * width)
    weights = [math.exp(-((step / width) ** 2) / 2) for step in range(-radius, radius + 1)]
    total = sum(weights)
    return radius, tuple(weight / total for weight in weights)


def _is_number(value: Any) -> bool:
    return type(value) in {int, float} and math.isfinite(value)
