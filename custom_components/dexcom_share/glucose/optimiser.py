"""The poll offsets within a reading period that minimise expected lag plus a price per read."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
import math
from typing import Final

from .delays import HORIZON

GUARD_SHARE: Final = 0.005
"""After a signal loss, the guard poll comes before this share of readings arrives."""
SWITCH_MARGIN: Final = 0.5
"""Seconds of expected cost a new plan must save before a grown-up estimate switches to it."""


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
