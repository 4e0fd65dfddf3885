"""When to ask Share next, and for how much: the one place that decides.

CGM readings come every 5 minutes and reach Share some seconds later. The planner
anchors every poll to the newest reading's own timestamp: the first poll for the next
reading goes out when it is due plus the upload delay this account usually shows, then
retries follow on a short, growing ladder until it arrives. After a long signal loss,
or while Share has no data at all, it falls back to one poll per reading period.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
import math
import random
from typing import Final

from pydexcom.const import MAX_MAX_COUNT, MAX_MINUTES

READING_PERIOD: Final = timedelta(minutes=5)
# Extra minutes read beyond the gap, so a late previous reading is caught too.
WINDOW_MARGIN_MINUTES: Final = 10


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

    initial_upload_delay: float = 25.0
    """Seconds after a reading is due before the first poll, until learned."""
    first_poll_miss_rate: float = 0.3
    """How often the first poll may come too early; the learned delay settles where
    this share of readings arrive after it (lower: fewer reads, more lag)."""
    learn_step: float = 0.5
    min_upload_delay: float = 5.0
    max_upload_delay: float = 120.0
    retry_gaps: tuple[float, ...] = (10.0, 60.0, 60.0, 120.0)
    """Seconds between retries while the reading is missing; the last one repeats."""
    long_loss: timedelta = timedelta(minutes=20)
    """With no new reading for this long, poll once per reading period only."""
    no_data_interval: timedelta = timedelta(minutes=5)
    jitter: float = 3.0
    """Up to this many seconds added at random, so accounts do not poll in step."""
    min_spacing: timedelta = timedelta(seconds=5)
    error_backoff_min: float = 30.0
    error_backoff_max: float = 300.0


class PollPlanner:
    """Plans the next poll of one account and learns its upload delay."""

    def __init__(self, tuning: PollTuning | None = None, rng: random.Random | None = None) -> None:
        """Start from the tuning's initial guess."""
        self.tuning = tuning or PollTuning()
        self.upload_delay = self.tuning.initial_upload_delay
        self.consecutive_errors = 0
        self._misses = 0
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not security

    def observe(self, previous: datetime | None, newest: datetime | None, now: datetime) -> None:
        """Learn from a successful read whether the expected reading came on the first poll."""
        self.consecutive_errors = 0
        if previous is None or newest is None:
            return
        expected = previous + READING_PERIOD
        if newest > previous:
            if abs(newest - expected) < READING_PERIOD / 2:
                self._learn(first_poll_hit=self._misses == 0)
            self._misses = 0
        elif now >= expected + timedelta(seconds=self.upload_delay - 1):
            self._misses += 1

    def _learn(self, *, first_poll_hit: bool) -> None:
        """Move the delay so that the first poll misses `first_poll_miss_rate` of readings."""
        tuning = self.tuning
        if first_poll_hit:
            delay = self.upload_delay - tuning.learn_step
        else:
            rate = tuning.first_poll_miss_rate
            delay = self.upload_delay + tuning.learn_step * (1 - rate) / rate
        self.upload_delay = min(tuning.max_upload_delay, max(tuning.min_upload_delay, delay))

    def next_poll(self, newest: datetime | None, now: datetime) -> datetime:
        """When to read next, after a successful read."""
        tuning = self.tuning
        earliest = now + tuning.min_spacing
        if newest is None:
            return now + tuning.no_data_interval
        delay = timedelta(seconds=self.upload_delay)
        first = newest + READING_PERIOD + delay
        # One poll per period, aligned to when each following reading is due.
        periods = max(0, math.ceil((earliest - first) / READING_PERIOD))
        planned = first + READING_PERIOD * periods
        if now - newest < tuning.long_loss:
            # Plus the retry ladder for the reading that is due.
            ladder = first
            gaps = iter(tuning.retry_gaps)
            gap = tuning.retry_gaps[-1]
            while ladder < earliest:
                gap = next(gaps, gap)
                ladder += timedelta(seconds=gap)
            planned = min(planned, ladder)
        return planned + timedelta(seconds=self._rng.uniform(0, tuning.jitter))

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
