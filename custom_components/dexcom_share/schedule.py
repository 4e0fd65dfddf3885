"""When to ask Share next, and for how much: the one place that decides.

CGM readings come every 5 minutes and reach Share after an upload delay that differs
from phone to phone. The planner learns each account's delay distribution from when
its readings turned up (`DelayEstimate`), chooses the poll offsets within the 5-minute
period that minimise the expected lag plus a price per read (`plan_schedule`), and
anchors them to the newest reading's own timestamp, corrected when the stamps run
ahead of Home Assistant's clock or far behind it. A reading missing for a whole
period (a signal loss) leaves two polls per period; with no data on Share at all, one.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
import functools
import itertools
import math
import random
from typing import Any, Final

from pydexcom.const import MAX_MAX_COUNT, MAX_MINUTES

READING_PERIOD: Final = timedelta(minutes=5)
# Extra minutes read beyond the gap, so a late previous reading is caught too.
WINDOW_MARGIN_MINUTES: Final = 10

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
"""Share of the readings learned that is also spread evenly over 0-300 s. Where few
readings land, this keeps the fit from piling them onto the few narrow intervals that
polls near them give, as the maximum-likelihood fit alone would."""
MEMORY: Final = 144
"""Readings over which old evidence fades by a factor e (half a day)."""
SURPRISE: Final = 0.2
"""A reading is a surprise when the estimate had this share of readings or less still
to come at the last read that missed it, or already there at the read that found it."""
SURPRISES_FOR_SHIFT: Final = 3
"""Surprises in a row that mean the phone has changed. With the estimate right, a
reading is a surprise by chance at most 20 % of the time on either side (about 12 %
on the current mix, where 88 % arrive by the 35-s poll)."""
SHIFT_MEMORY: Final = 4.0
"""Readings over which old evidence fades while the surprises go on: a phone that
turned slower is followed within hours, not after half a day of polling for both."""
SHIFT_READINGS: Final = 12
"""Readings a shift lasts at most: after that, what they taught is kept."""
SMOOTHED_UNTIL: Final = 72
"""Readings (6 hours) until which the estimate is smoothed before a plan is made from
it. A histogram of a few dozen readings is a few spikes where they happened to land:
planned from as it stands, it puts a poll just after each spike and leaves gaps
between them, where the next readings land (a new account of the heavier tail had a
p95 lag 20 s over the oracle's in its hours 2-3). Later there are enough readings,
and smoothing would only blur a sharp edge the polls should follow (the bimodal
phone's fastest readings all arrive by 20 s)."""
SMOOTHING: Final = 30.0
"""The kernel's width in seconds times the square root of the readings learned (the
prior's included) where the estimate holds a typical share of them: 8 s after the
first hour, 3.5 s at 6 hours."""
SMOOTHING_CONTRAST: Final = 2.0
"""How much wider the kernel is where the estimate holds few readings: the width is
scaled by (g / f) to this power, f the density there and g its geometric mean. So a
sparse band (the heavier tail's 15 % over 35-120 s) is spread wide and a dense one
(the bimodal phone's 50 % over 10-20 s) hardly at all, its edge kept where it is."""
SMOOTHING_MAX: Final = 30.0
"""Seconds of kernel width at most, even where almost no readings are held."""
MAX_INTERVALS: Final = 64
"""Distinct intervals kept as observed; the lightest (oldest) are folded into bins."""
FIT_ITERATIONS: Final = 50
REPLAN_AFTER: Final = 0.01
"""Total variation of the estimate since the last plan that is worth a new plan."""
MAX_ARRIVALS_LEARNED: Final = 2
"""A read that adds more readings than this brings a backfill, which says nothing
about the upload delay."""
LEARNING_READINGS: Final = 12
"""A new account's first readings (its first hour), each looked for every
LEARNING_GRID seconds: they place its delays to within that, where the planned polls
alone would leave gaps of a minute or more, and a phone unlike the prior is learned
within the hour. At most this many periods after each start, even for a phone whose
readings teach nothing (one that uploads them in batches)."""
LEARNING_GRID: Final = 15
"""Seconds between the extra polls of a learning period, give or take the rounding
(they also keep half a step from the planned polls): while a reading is awaited, at
most 5 extra reads a minute, in the first hour of an account's life (the estimate is
stored)."""
PROBES_FIRST: Final = 36
"""Readings learned with a probe in every period (the first 3 hours)."""
PROBE_SHARE: Final = 0.08
"""Periods with a probe once those are learned: about 23 a day, enough to place the
readings within the gaps between polls; each costs a read only while its reading is
still missing."""
PROBE_WEIGHT: Final = 6.0
"""Readings a probed period's reading counts for. Probed periods are drawn at random,
so weighting them keeps the fit unbiased, and only they show where within a gap the
readings arrive."""
GUARD_SHARE: Final = 0.005
"""After a signal loss, the guard poll comes before this share of readings arrives."""
PHASE_DRIFT: Final = 0.5
"""Seconds per period by which a sensor's readings may come sooner than every 5
minutes (Share shows 299.5-300.1 s apart): the guard comes that much earlier for
each period since the newest reading held,"""
PHASE_DRIFT_MAX: Final = 30.0
"""and at most this much (5 hours of it): after a longer loss the next reading's phase
is anyone's guess, and a guard drifting on would leave its period altogether."""
SWITCH_MARGIN: Final = 0.5
"""Seconds of expected cost (lag plus price of reads) a new plan must save over the one
in use before a grown-up estimate switches to it. Two plans can cost nearly the same
yet differ by 6 s in the median (the heavier tail's first polls at 26 and 35 s against
one at 34 s); half a day of readings cannot tell them apart, and without a margin the
planner flips on noise, while the plan with fewer early polls sees too little to flip
back."""
SKEW_READINGS: Final = 6
"""Fresh readings whose arrival judges how far their stamps are off: the last half hour,
so that a phone clock put right is followed within it."""
SKEW_HEADROOM: Final = 10.0
"""Seconds before the soonest reading found that a corrected stamp is placed, so that
polls (and probes) can come before it and find a reading sooner still."""
PROMPT: Final = 7.5
"""Seconds after its stamp within which no phone gets a reading onto Share (the
fastest take 8 s): a reading found this soon may have been there before its stamp."""
STORAGE_VERSION: Final = 1
STORED_SHARE_MIN: Final = 1e-9
"""The least share of a bin in a stored fit. The prior and the even spread keep every
bin above 1.6e-5 (the beyond bin's prior share over the most readings an estimate can
hold); a smaller share, or 0, is not one `to_dict` wrote, and the fit would divide by it."""
STORED_COUNT_MAX: Final = 1e4
"""The most readings' worth a stored estimate may hold: one can hold at most
PROBE_WEIGHT / (1 - e^(-1 / MEMORY)), about 870; far more would overflow the fit."""


@dataclass(frozen=True, slots=True)
class ReadWindow:
    """The `minutes` and `maxCount` of one Share read."""

    minutes: int
    max_count: int


def read_window(newest: datetime | None, now: datetime) -> ReadWindow:
    """Cover the gap since the newest reading held, or all of Share's 24 hours."""
    if newest is None:
        return ReadWindow(MAX_MINUTES, MAX_MAX_COUNT)
    gap_minutes = max(0.0, (now - newest).total_seconds() / 60)
    minutes = min(MAX_MINUTES, math.ceil(gap_minutes) + WINDOW_MARGIN_MINUTES)
    period_minutes = READING_PERIOD.total_seconds() / 60
    return ReadWindow(minutes, min(MAX_MAX_COUNT, math.ceil(minutes / period_minutes) + 1))


@dataclass(frozen=True, slots=True)
class PollTuning:
    """The planner's knobs; the defaults are the point chosen by the benchmark."""

    price_per_read: float = 10.0
    """Seconds of expected lag a poll must save to be worth one more Share read: the
    point chosen on the benchmark's trade-off curve."""
    long_loss: timedelta = timedelta(minutes=10)
    """With no new reading for this long (a whole period missed), poll only twice per
    period: a guard before the next reading can arrive, and the first offset."""
    no_data_interval: timedelta = timedelta(minutes=5)
    jitter: float = 3.0
    """Up to this many seconds added at random, so accounts do not poll in step."""
    min_spacing: timedelta = timedelta(seconds=5)
    error_backoff_min: float = 30.0
    error_backoff_max: float = 300.0


@dataclass(frozen=True, slots=True)
class Schedule:
    """Poll offsets in whole seconds after the next reading is due, within a period."""

    offsets: tuple[int, ...]
    guard: int | None
    """After a signal loss, a poll before the next reading can arrive: it finds a
    backlog before a newer reading hides it. Never jittered later, and sooner by the
    sensor's possible drift (`PHASE_DRIFT`); at the due time when readings may come
    at once, and None when the first offset is that close to the due time itself."""
    expected_lag: float
    expected_reads: float

    @property
    def long_loss_offsets(self) -> tuple[int, ...]:
        """The polls of a period after a signal loss: the guard, then the first offset."""
        return (*(() if self.guard is None else (self.guard,)), self.offsets[0])


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


def plan_schedule(
    cdf: Sequence[float], tuning: PollTuning, current: tuple[int, ...] | None = None
) -> Schedule:
    """The poll offsets that minimise expected lag plus `price_per_read` per read.

    The `current` offsets stay while they cost at most SWITCH_MARGIN more than those.

    `cdf[x]` is P(delay <= x) for x = 0..HORIZON seconds; the rest lies beyond. Each
    poll comes up to `jitter` seconds late at random, which is the same as a delay
    shorter by that much: the offsets are chosen for that delay. A reading still
    missing after the last offset is found by the next period's first poll.
    """
    seen = _minus_jitter(cdf, tuning.jitter)
    spacing = math.ceil(tuning.min_spacing.total_seconds())
    price = tuning.price_per_read
    # The next period's first poll depends on the first offset: a few rounds, each
    # schedule then judged with its own, plus an extra poll at 0 for the stragglers.
    candidates: list[tuple[int, ...]] = []
    first = 0
    for _ in range(3):
        offsets = _optimal_offsets(seen, price, spacing, HORIZON + first)
        candidates += [offsets, (0, *offsets)] if offsets[0] >= spacing else [offsets]
        if offsets[0] == first:
            break
        first = offsets[0]
    costs = {offsets: _lag_and_reads(offsets, seen) for offsets in candidates}
    best = min(costs, key=lambda offsets: costs[offsets][0] + price * costs[offsets][1])
    if current is not None and current != best:
        kept = _lag_and_reads(current, seen)
        if kept[0] + price * kept[1] <= costs[best][0] + price * costs[best][1] + SWITCH_MARGIN:
            best = current
            costs[best] = kept
    guard = None
    if best[0] >= spacing:
        guard = max((x for x in range(best[0] - spacing + 1) if cdf[x] <= GUARD_SHARE), default=0)
    return Schedule(best, guard, *costs[best])


def _lag_and_reads(offsets: Sequence[int], cdf: Sequence[float]) -> tuple[float, float]:
    """Expected lag and reads per reading of a schedule."""
    lag = reads = below = 0.0
    moment = _moments(cdf)
    start_moment = 0.0
    for offset in offsets:
        lag += offset * (cdf[offset] - below) - (moment[offset] - start_moment)
        reads += 1 - cdf[offset]
        below, start_moment = cdf[offset], moment[offset]
    beyond = moment[HORIZON] + (1 - cdf[HORIZON]) * HORIZON - start_moment
    lag += (HORIZON + offsets[0]) * (1 - below) - beyond
    return lag, 1 + reads


def _moments(cdf: Sequence[float]) -> list[float]:
    """The partial first moments: the integral of delay dF up to each second."""
    moment = [0.0] * (HORIZON + 1)
    for x in range(1, HORIZON + 1):
        moment[x] = moment[x - 1] + (cdf[x] - cdf[x - 1]) * (x - 0.5)
    return moment


def _minus_jitter(cdf: Sequence[float], jitter: float) -> list[float]:
    """P(delay - J <= x) for J even in [0, jitter]: the CDF's mean over [x, x + jitter]."""
    if jitter <= 0:
        return list(cdf)

    def at(seconds: float) -> float:
        if seconds >= HORIZON:
            return cdf[HORIZON]
        whole = int(seconds)
        return cdf[whole] + (cdf[whole + 1] - cdf[whole]) * (seconds - whole)

    steps = math.ceil(jitter * 4)
    return [
        sum(at(x + jitter * (step + 0.5) / steps) for step in range(steps)) / steps
        for x in range(HORIZON + 1)
    ]


def _optimal_offsets(
    cdf: Sequence[float], price: float, spacing: int, next_period: float
) -> tuple[int, ...]:
    """Dynamic programming over whole-second offsets.

    A reading arriving between two polls, a < delay <= b, waits b - delay; each poll
    at x costs `price` times the chance P(delay > x) that another poll follows it.
    After the last poll, the next period's first poll, at `next_period`, finds the
    rest. `line[m] - m * cdf[j] + moment[j]` is the lag between polls j and m plus the
    least expected cost of everything from m on.
    """
    moment = _moments(cdf)
    total_moment = moment[HORIZON] + (1 - cdf[HORIZON]) * HORIZON
    following = [-1] * HORIZON
    line = [0.0] * HORIZON
    for j in range(HORIZON - 1, -1, -1):
        best = next_period * (1 - cdf[j]) - (total_moment - moment[j])
        candidates = range(j + spacing, HORIZON)
        if candidates:
            values = [line[m] - m * cdf[j] for m in candidates]
            pick = min(range(len(values)), key=values.__getitem__)
            if values[pick] + moment[j] < best:
                best = values[pick] + moment[j]
                following[j] = candidates[pick]
        # A hair more than nothing for polls that cannot be needed: the fewest win ties.
        cost = price * (1 - cdf[j] + 1e-9) + best
        line[j] = j * cdf[j] - moment[j] + cost
    offsets = [min(range(HORIZON), key=line.__getitem__)]
    while following[offsets[-1]] >= 0:
        offsets.append(following[offsets[-1]])
    return tuple(offsets)


class PollPlanner:
    """Plans the next poll of one account and learns its upload delays."""

    def __init__(
        self,
        tuning: PollTuning | None = None,
        rng: random.Random | None = None,
        delays: DelayEstimate | None = None,
    ) -> None:
        """Start from the prior, or from `delays` learned before."""
        self.tuning = tuning or PollTuning()
        self.delays = delays or DelayEstimate()
        self.consecutive_errors = 0
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security
        self._last_read: datetime | None = None
        self._newest_seen: datetime | None = None
        self._planned_for = self.delays.probabilities, self.delays.young
        self.schedule = plan_schedule(self.delays.planning_cdf(), self.tuning)
        # The newest reading the current period's probes were drawn for, and the probes.
        self._probes: tuple[datetime, tuple[int, ...]] | None = None
        self._learning_periods = 0
        """Periods polled on the learning grid since this planner was made."""
        self.stamp_ahead = 0.0
        """Seconds the readings' stamps are ahead of the moments planned from (negative:
        behind), as when the phone's or Home Assistant's clock is set wrong. 0 unless a
        reading was found before its own stamp, or every recent one more than HORIZON
        after it."""
        self._arrival_bounds: list[tuple[float, float]] = []
        """(after, by) of the last SKEW_READINGS fresh readings, in seconds after each
        one's stamp: it reached Share after the read before the one that found it and
        by that one."""
        self._look_early = False
        """Poll before the due time: readings may come before their corrected stamps."""
        self._early_probe: tuple[datetime, float | None] | None = None
        """The newest reading the early probe was planned for, and its offset (s)."""

    @classmethod
    def from_dict(
        cls,
        stored: Mapping[str, Any] | None,
        tuning: PollTuning | None = None,
        rng: random.Random | None = None,
    ) -> PollPlanner:
        """The planner `to_dict` saved; a new one for None or anything malformed."""
        if isinstance(stored, Mapping) and stored.get("version") == STORAGE_VERSION:
            try:
                delays = DelayEstimate.from_dict(stored["delays"])
            # OverflowError: an integer too large for a float (only Python's own json).
            except KeyError, TypeError, ValueError, OverflowError:
                pass
            else:
                planner = cls(tuning, rng, delays)
                planner._restore_stamps(stored.get("stamps"))
                return planner
        return cls(tuning, rng)

    def to_dict(self) -> dict[str, Any]:
        """What a restart needs, JSON-serialisable: the learned delays and stamp offset."""
        return {
            "version": STORAGE_VERSION,
            "delays": self.delays.to_dict(),
            "stamps": {
                "ahead": self.stamp_ahead,
                "bounds": [
                    [after if math.isfinite(after) else None, by]
                    for after, by in self._arrival_bounds
                ],
            },
        }

    def _restore_stamps(self, stored: Any) -> None:
        """Take the stamp offset `to_dict` saved: a phone clock off stays corrected.

        Anything malformed leaves the stamps taken as they are, the delays kept.
        """
        try:
            ahead = float(stored["ahead"])
            bounds = [
                (-math.inf if after is None else float(after), float(by))
                for after, by in stored["bounds"]
            ]
        except KeyError, TypeError, ValueError, OverflowError:
            return
        finite = [ahead, *(by for _, by in bounds), *(a for a, _ in bounds if a != -math.inf)]
        if len(bounds) > SKEW_READINGS or not all(map(math.isfinite, finite)):
            return
        self.stamp_ahead = ahead
        self._arrival_bounds = bounds

    def observe(self, now: datetime, arrived: Iterable[datetime]) -> None:
        """Learn from a successful read, given the timestamps of the readings it added.

        A new reading reached Share after the previous read and by this one. Readings
        seen before, backfills (many at once) and readings already a whole period old
        at the previous read (a signal loss, an outage) say nothing about the delay.
        """
        self.consecutive_errors = 0
        fresh = sorted({taken for taken in arrived if not self._seen(taken)})
        probed = (
            self._probes is not None
            and bool(self._probes[1])
            and self._probes[0] == self._newest_seen
        )
        weight = PROBE_WEIGHT if probed else 1.0
        if self._last_read is None:
            # The first read after a start: nothing was read before it, but its newest
            # reading was on Share by now, whatever its stamp says.
            self._judge_stamps(now, fresh[-1:])
        elif len(fresh) <= MAX_ARRIVALS_LEARNED:
            self._judge_stamps(now, fresh)
            for taken in fresh:
                stamp = self._corrected(taken)
                lower = (self._last_read - stamp).total_seconds()
                if lower < HORIZON:
                    self.delays.add(lower, (now - stamp).total_seconds(), weight)
        if fresh:
            self._newest_seen = fresh[-1]
        self._last_read = now
        self._replan_if_changed()

    def _judge_stamps(self, now: datetime, fresh: Sequence[datetime]) -> None:
        """Follow how far the stamps are off, from when the newest readings were found.

        A reading found before its stamp shows the stamps ahead; every recent reading
        found more than HORIZON after its stamp shows them behind (one late upload
        does not). Without either, the stamps are taken as they are.
        """
        if not fresh:
            return
        for taken in fresh:
            after = -math.inf
            if self._last_read is not None:
                after = (self._last_read - taken).total_seconds()
            self._arrival_bounds.append((after, (now - taken).total_seconds()))
        del self._arrival_bounds[:-SKEW_READINGS]
        soonest = min(by for _, by in self._arrival_bounds)
        full = len(self._arrival_bounds) == SKEW_READINGS
        was_ahead = self.stamp_ahead
        if soonest < 0 or (full and soonest > HORIZON):
            self.stamp_ahead = self._correction(now, fresh[-1], soonest)
        else:
            self.stamp_ahead = 0.0
        self._look_early = self._may_come_sooner(was_ahead)

    def _correction(self, now: datetime, newest: datetime, soonest: float) -> float:
        """How far the stamps are ahead, given the soonest a recent reading was found.

        A corrected stamp comes SKEW_HEADROOM before the soonest one was found, so
        that polls can come before it: sooner as soon as a reading is found sooner,
        never later while the evidence lasts. Each reading is found some time after
        it arrived; following that lag would move the polls later and later, every
        reading found at the first of them. Stamps found further ahead than corrected
        for may have jumped: then the correction that keeps their phase is taken.
        """
        ahead = SKEW_HEADROOM - soonest
        was_ahead = self.stamp_ahead
        if ahead > max(was_ahead, 0):
            kept = self._phase_kept(now, newest)
            return ahead if kept is None else max(ahead, kept)
        if was_ahead * ahead > 0:
            return max(was_ahead, ahead)
        return ahead

    def _may_come_sooner(self, was_ahead: float) -> bool:
        """Whether readings may come before their corrected stamps: worth a look then.

        Taken as they are, the stamps are doubted after a reading found within PROMPT
        of its own; corrected anew, until the correction is checked. Checked, either
        way, by a read shortly before a corrected stamp that missed its reading (one
        after it shows nothing: the reading may have been a late upload).
        """
        checked = any(
            -SKEW_HEADROOM < after + self.stamp_ahead <= 0 for after, _ in self._arrival_bounds
        )
        if self.stamp_ahead == 0:
            return self._arrival_bounds[-1][1] <= PROMPT and not checked
        corrected_anew = was_ahead * self.stamp_ahead <= 0
        return (self._look_early or corrected_anew) and not checked

    def _phase_kept(self, now: datetime, newest: datetime) -> float | None:
        """The correction that puts `newest` in the slot the reading before it gives it.

        A clock set forward between the two moves the stamps, not when the readings
        come: corrected by the jump, they keep the delays learned so far. None where
        no slot fits: none since the reading before (it was stamped ahead too), or
        one that would have the stamps a whole period ahead (a reading between the
        two is missing; a reading is never stamped that far ahead).
        """
        if self._newest_seen is None:
            return None
        previous = self._corrected(self._newest_seen)
        periods = math.floor((now - previous) / READING_PERIOD)
        ahead = (newest - previous - READING_PERIOD * periods).total_seconds()
        return ahead if periods >= 1 and ahead < HORIZON - SKEW_HEADROOM else None

    def _corrected(self, taken: datetime) -> datetime:
        """The moment to plan from for a reading stamped `taken`."""
        return taken - timedelta(seconds=self.stamp_ahead)

    def _seen(self, taken: datetime) -> bool:
        return self._newest_seen is not None and taken <= self._newest_seen

    def _replan_if_changed(self) -> None:
        """Plan again when the estimate has moved enough to matter, or has grown up.

        Not for every reading: a plan costs a few milliseconds of CPU per poll.
        """
        planned_for, planned_young = self._planned_for
        moved = sum(
            abs(now - then)
            for now, then in zip(self.delays.probabilities, planned_for, strict=True)
        )
        if moved / 2 > REPLAN_AFTER or self.delays.young != planned_young:
            self._planned_for = self.delays.probabilities, self.delays.young
            # A young estimate moves too fast for a margin: it would keep wrong plans.
            grown = not (planned_young or self.delays.young)
            current = self.schedule.offsets if grown else None
            self.schedule = plan_schedule(self.delays.planning_cdf(), self.tuning, current)

    def next_poll(self, newest: datetime | None, now: datetime) -> datetime:
        """When to read next, after a successful read."""
        tuning = self.tuning
        if newest is None:
            return now + tuning.no_data_interval
        due = self._corrected(newest) + READING_PERIOD
        if self._probes is None or self._probes[0] != newest:
            self._probes = (newest, self._draw_probes())
            self._early_probe = (newest, self._early_offset(due, now))
        probes: tuple[float, ...] = self._probes[1]
        if self._early_probe is not None and self._early_probe[1] is not None:
            probes = (*probes, self._early_probe[1])
        period = max(0, math.floor((now - due) / READING_PERIOD))
        while True:
            start = due + READING_PERIOD * period
            guard = None
            offsets: tuple[float, ...]
            if start - self._corrected(newest) >= tuning.long_loss:
                offsets = self.schedule.offsets[:1]
                if self.schedule.guard is not None:
                    drift = min(PHASE_DRIFT * (period + 1), PHASE_DRIFT_MAX)
                    drift += self._rng.uniform(0, tuning.jitter)
                    guard = start + timedelta(seconds=self.schedule.guard - drift)
            elif period == 0 and probes:
                offsets = tuple(sorted((*self.schedule.offsets, *probes)))
            else:
                offsets = self.schedule.offsets
            if guard is not None and guard > now + tuning.min_spacing:
                return guard
            for offset in offsets:
                planned = start + timedelta(seconds=offset)
                if planned > now:
                    # Never sooner than the minimum spacing: a poll due closer waits.
                    jitter = timedelta(seconds=self._rng.uniform(0, tuning.jitter))
                    return max(planned, now + tuning.min_spacing) + jitter
            period += 1

    def _early_offset(self, due: datetime, now: datetime) -> float | None:
        """Seconds before the due time to look for the next reading, while it may be there.

        Halfway between the latest read known to have missed a reading before its
        corrected stamp and the due time, from now on: found there, the reading moves
        the corrected stamps sooner by half that distance at least; missed, it halves
        where the next early probe looks.
        """
        if not self._look_early:
            return None
        corrected = (after + self.stamp_ahead for after, _ in self._arrival_bounds)
        missed = max((after for after in corrected if after <= 0), default=-math.inf)
        spacing = self.tuning.min_spacing.total_seconds()
        low = max(missed, (now - due).total_seconds() + spacing)
        return (low - spacing) / 2 if low < -spacing else None

    def _draw_probes(self) -> tuple[int, ...]:
        """Extra polls between the planned ones (or before the first), in some periods.

        The planned polls only say between which two of them a reading arrived, not
        where: a poll within the gap splits it. While the account is new, polls every
        LEARNING_GRID seconds split every gap; after that, in some periods one probe,
        its gap drawn in proportion to the readings the estimate puts in it, the moment
        evenly within it.
        """
        if self._rng.random() >= self.delays.probe_share:
            return ()
        spacing = math.ceil(self.tuning.min_spacing.total_seconds())
        if self.delays.learned < LEARNING_READINGS and self._learning_periods < LEARNING_READINGS:
            self._learning_periods += 1
            # Half a step from the planned polls: where they are close together, the
            # grid adds nothing they do not already split.
            away = max(spacing, LEARNING_GRID / 2)
            phase = self._rng.uniform(0, LEARNING_GRID)
            grid = (round(phase + LEARNING_GRID * step) for step in range(HORIZON // LEARNING_GRID))
            return tuple(
                offset
                for offset in grid
                if offset < HORIZON
                and all(abs(offset - planned) >= away for planned in self.schedule.offsets)
            )
        cdf = self.delays.cdf()
        bounds = (-spacing, *self.schedule.offsets)
        gaps = [
            (start + spacing, end - spacing, cdf[end] - cdf[max(0, start)])
            for start, end in itertools.pairwise(bounds)
            if end - start >= 2 * spacing
        ]
        if not gaps:
            return ()
        weights = [max(mass, 1e-9) for _, _, mass in gaps]
        low, high, _ = self._rng.choices(gaps, weights)[0]
        return (self._rng.randint(low, high),)

    def after_error(self, now: datetime, retry_after: float | None) -> datetime:
        """When to try again after a failed read: exponential backoff with jitter."""
        tuning = self.tuning
        self.consecutive_errors += 1
        ceiling = min(
            tuning.error_backoff_max,
            tuning.error_backoff_min * 2 ** (self.consecutive_errors - 1),
        )
        wait = self._rng.uniform(ceiling / 2, ceiling)
        if retry_after is not None:
            # A little past Share's (or the lockout's) wait, never a moment before it.
            wait = max(wait, retry_after + self._rng.uniform(1, 1 + tuning.jitter))
        return now + timedelta(seconds=wait)

    def diagnostics(self) -> dict[str, Any]:
        """What the planner learned and plans, for the entry's diagnostics."""
        schedule = self.schedule
        return {
            "upload_delay_median_s": round(self.delays.quantile(0.5), 1),
            "upload_delay_p90_s": round(self.delays.quantile(0.9), 1),
            "readings_learned": self.delays.learned,
            "poll_offsets_s": list(schedule.offsets),
            "long_loss_offsets_s": list(schedule.long_loss_offsets),
            "expected_lag_s": round(schedule.expected_lag, 1),
            "expected_reads_per_reading": round(schedule.expected_reads, 2),
            "stamp_offset_s": round(self.stamp_ahead, 1),
        }


# A held-back entry that has not come back this many seconds after the second it was
# handed loses its place (its refresh will not come: it stopped polling), so that it
# holds nobody back for longer.
PACER_GRACE: Final = 5


@dataclass(slots=True)
class _Waiting:
    """An entry held back: the requests it will send and the second it was handed."""

    requests: int
    handed: int


class SharePacer:
    """At most `per_second` Share requests in any one second, for all entries together.

    One per Home Assistant, asked before every read with the requests that read will
    send. An entry held back is not made to wait in place (a wait could outlive an
    unload): it is handed a later second and keeps its place in line, first come,
    first served, however early or late its refresh comes back. Each ask hands every
    entry in line, in order, the earliest second with room; an entry is let through
    when that is the current second. So an entry late for its second goes in the
    second it comes back, before any entry that asked after it, and one that never
    comes back stops holding the others `PACER_GRACE` seconds after its second.
    """

    def __init__(self, per_second: int = 3) -> None:
        """No requests yet."""
        self.per_second = per_second
        self._sent: dict[int, int] = {}
        """Requests let through per whole second (epoch), from the current one on."""
        self._line: dict[str, _Waiting] = {}
        """Entries held back, first come first."""
        self._second = 0
        """The latest second asked in."""

    def admit(self, entry_id: str, now: datetime, requests: int) -> datetime | None:
        """Count `requests` for now and return None, or the start of the second handed."""
        second = math.floor(now.timestamp())
        if second < self._second:
            # The clock went back: seconds counted and handed are not to come soon.
            self._sent.clear()
            for waiting in self._line.values():
                waiting.handed = second
        self._second = second
        self._sent = {at: count for at, count in self._sent.items() if at >= second}
        self._line = {
            waiting_id: waiting
            for waiting_id, waiting in self._line.items()
            if waiting.handed >= second - PACER_GRACE or waiting_id == entry_id
        }
        requests = max(1, min(requests, self.per_second))
        waiting = self._line.setdefault(entry_id, _Waiting(requests, second))
        waiting.requests = requests
        at = self._handed(entry_id, second)
        if at == second:
            del self._line[entry_id]
            self._sent[second] = self._sent.get(second, 0) + requests
            return None
        waiting.handed = at
        return datetime.fromtimestamp(at, now.tzinfo)

    def _handed(self, entry_id: str, second: int) -> int:
        """The second the entry gets when everyone ahead of it gets theirs first."""
        room: dict[int, int] = {}
        at = second
        for waiting_id, waiting in self._line.items():
            at = second
            while room.setdefault(at, self.per_second - self._sent.get(at, 0)) < waiting.requests:
                at += 1
            room[at] -= waiting.requests
            if waiting_id == entry_id:
                break
        return at

    def release(self, entry_id: str) -> None:
        """Give up the entry's place in line (it is unloaded)."""
        self._line.pop(entry_id, None)

    def charge(self, entry_id: str, now: datetime, requests: int) -> None:
        """Count requests sent now without asking (held back too long): others wait for them."""
        self._line.pop(entry_id, None)
        second = math.floor(now.timestamp())
        self._sent[second] = self._sent.get(second, 0) + max(1, requests)
