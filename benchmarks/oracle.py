"""The best fixed schedule for a known delay distribution, and the traces that have one.

The oracle is the planner itself with its learning switched off: it is handed the
trace's true upload-delay distribution and plans with the same optimiser, price per
read, jitter and minimum spacing. No fixed schedule does better at that price.

`ToldPlanner` shows what learning could do with nothing hidden: the planner polling as
shipped (planned polls, probes, the first hour's grid), its estimator told each
reading's exact upload delay instead of the two polls between which it arrived. What a
new account loses to it is the price of those brackets; what the told one still loses
to the oracle, the price of having few readings.
"""

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
import random

from custom_components.dexcom_share.glucose.delays import HORIZON, DelayEstimate
from custom_components.dexcom_share.glucose.optimiser import PollTuning
from custom_components.dexcom_share.glucose.planner import PollPlanner
from share_simulator import Reading
from share_simulator.trace import (
    BIMODAL_DELAY_MIX,
    DEFAULT_DELAY_MIX,
    HEAVY_TAIL_DELAY_MIX,
    SLOW_DELAY_MIX,
    DelayMix,
    TraceProfile,
)

DAY_SECONDS = 86400.0
# Traces start a day before the measured day (Share's 24 hours at setup); one
# 40-minute signal loss at 14:00 of the measured day, its readings backfilled at once.
SIGNAL_LOSS = ((DAY_SECONDS + 14 * 3600, 40 * 60.0),)


def mix_cdf(mix: DelayMix) -> list[float]:
    """P(delay <= x) for x = 0..HORIZON seconds of a mix of even bands."""
    total = sum(share for share, _, _ in mix)
    return [
        sum(share * min(1.0, max(0.0, (x - low) / (high - low))) for share, low, high in mix)
        / total
        for x in range(HORIZON + 1)
    ]


@dataclass(frozen=True)
class Trace:
    """One benchmark trace: how it is generated and its true delay distribution."""

    name: str
    title: str
    profile: TraceProfile
    cdf: tuple[float, ...]
    """Over the measured day (the drift: half of each mix)."""


def _trace(name: str, title: str, mix: DelayMix) -> Trace:
    profile = TraceProfile(delay_mix=mix, signal_losses=SIGNAL_LOSS)
    return Trace(name, title, profile, tuple(mix_cdf(mix)))


TRACES = {
    trace.name: trace
    for trace in (
        _trace("mix", "current mix (8-35 s, some to 2 min, a few to 5 min)", DEFAULT_DELAY_MIX),
        _trace("heavy_tail", "heavier tail (80/15/5 %)", HEAVY_TAIL_DELAY_MIX),
        _trace("slow", "slow uploader (55-75 s)", SLOW_DELAY_MIX),
        _trace("bimodal", "bimodal phone (10-20 s or 90-150 s)", BIMODAL_DELAY_MIX),
        Trace(
            "drift",
            "fast to slow at noon",
            TraceProfile(
                delay_mix=DEFAULT_DELAY_MIX,
                delay_changes=((DAY_SECONDS + 12 * 3600, SLOW_DELAY_MIX),),
                signal_losses=SIGNAL_LOSS,
            ),
            tuple(
                (fast + slow) / 2
                for fast, slow in zip(
                    mix_cdf(DEFAULT_DELAY_MIX), mix_cdf(SLOW_DELAY_MIX), strict=True
                )
            ),
        ),
    )
}


class KnownDelays(DelayEstimate):
    """The true delay distribution, never updated: the planner then is the oracle."""

    probe_share = 0.0

    def __init__(self, cdf: tuple[float, ...]) -> None:
        """Plan from `cdf` alone."""
        super().__init__()
        self._cdf = list(cdf)

    def add(self, lower: float, upper: float, weight: float = 1.0) -> None:
        """Learn nothing: the distribution is known."""

    def cdf(self) -> list[float]:
        """The true distribution."""
        return list(self._cdf)


class ToldDelays(DelayEstimate):
    """Learns each reading's exact delay, looked up from the trace."""

    def __init__(self, readings: list[Reading]) -> None:
        """The trace's readings, to look each one up by when it was taken."""
        super().__init__()
        self._readings = sorted(readings, key=lambda reading: reading.time)
        self._taken = [reading.time for reading in self._readings]
        self.read_at = 0.0

    def add(self, lower: float, upper: float, weight: float = 1.0) -> None:
        """Learn the delay of the reading found `upper` seconds after it was taken.

        The reading is the one taken then, to within the microseconds a datetime keeps
        (readings are minutes apart).
        """
        taken = self.read_at - upper
        reading = self._readings[bisect.bisect_left(self._taken, taken - 0.001)]
        if abs(reading.time - taken) > 0.001:
            raise LookupError(f"no reading taken at {taken}")
        delay = reading.visible_from - reading.time
        super().add(delay - 0.01, delay + 0.01, weight)


class ToldPlanner(PollPlanner):
    """The planner as shipped, polling as it does, but told each reading's exact delay."""

    delays: ToldDelays

    def __init__(self, tuning: PollTuning, rng: random.Random, readings: list[Reading]) -> None:
        """A new account on `readings`, from the prior."""
        super().__init__(tuning, rng, ToldDelays(readings))

    def observe(self, now: datetime, arrived: Iterable[datetime]) -> None:
        """Learn as the planner does, from when each new reading was served."""
        self.delays.read_at = now.timestamp()
        super().observe(now, arrived)
