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
import itertools
import math
import random
from typing import Any, Final

from pydexcom.const import MAX_MAX_COUNT, MAX_MINUTES

from .const import READING_PERIOD
from .delays import HORIZON, DelayEstimate
from .optimiser import PollTuning, plan_schedule

# Extra minutes read beyond the gap, so a late previous reading is caught too.
WINDOW_MARGIN_MINUTES: Final = 10
REPLAN_AFTER: Final = 0.01
"""Total variation of the estimate since the last plan that is worth a new plan."""
MAX_ARRIVALS_LEARNED: Final = 2
"""More new readings than this in one read are a backfill, which says nothing of the delay."""
LEARNING_READINGS: Final = 12
"""A new account's first readings (its first hour), each looked for every LEARNING_GRID s."""
LEARNING_GRID: Final = 15
"""Seconds between the extra polls of a learning period, give or take the rounding."""
PROBE_WEIGHT: Final = 6.0
"""Readings a probed period's reading counts for in the fit."""
PHASE_DRIFT: Final = 0.5
"""Seconds per period since the newest reading held by which the guard comes earlier."""
PHASE_DRIFT_MAX: Final = 30.0
"""Seconds by which the guard comes earlier at most (5 hours of PHASE_DRIFT)."""
SKEW_READINGS: Final = 6
"""Fresh readings whose arrival judges how far their stamps are off (the last half hour)."""
SKEW_HEADROOM: Final = 10.0
"""Seconds before the soonest reading found that a corrected stamp is placed."""
SKEW_LEAST: Final = 20.0
"""Seconds before its stamp a reading must be found to show the stamps ahead."""
PROMPT: Final = 7.5
"""Seconds after its stamp within which no phone gets a reading onto Share."""
STAMP_OFF_MAX: Final = 86_400.0
"""The most seconds a stored stamp offset or arrival may be off: Share holds 24 hours."""
STORAGE_VERSION: Final = 1


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


def _is_seconds(value: Any) -> bool:
    """A finite number of seconds as `to_dict` writes them (not a bool or a string)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


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
        self._prompt_missed = -math.inf
        """Seconds after its stamp of the latest read known to have missed a reading,
        while the stamps are taken as they are: the early looks of a phone that uploads
        within PROMPT go on from there, not from the start, and end once the stamps can
        be no more than SKEW_LEAST ahead (each look costs a read and finds nothing)."""
        self._early_probe: float | None = None
        """Seconds from the due time of the early look in this period (drawn with the probes)."""

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
            ahead = stored["ahead"]
            bounds = [(-math.inf if after is None else after, by) for after, by in stored["bounds"]]
        except KeyError, TypeError, ValueError:
            return
        numbers = [ahead, *(by for _, by in bounds), *(a for a, _ in bounds if a != -math.inf)]
        if len(bounds) > SKEW_READINGS or not all(
            _is_seconds(number) and abs(number) <= STAMP_OFF_MAX for number in numbers
        ):
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
        if soonest < -SKEW_LEAST or (full and soonest > HORIZON):
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
            missed = max(
                (after for after, _ in self._arrival_bounds if after <= 0), default=-math.inf
            )
            self._prompt_missed = max(self._prompt_missed, missed)
            settled = self._prompt_missed > -(SKEW_LEAST + SKEW_HEADROOM)
            return self._arrival_bounds[-1][1] <= PROMPT and not (checked or settled)
        self._prompt_missed = -math.inf
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
            self._early_probe = self._early_offset(due, now)
        probes: tuple[float, ...] = self._probes[1]
        if self._early_probe is not None:
            probes = (*probes, self._early_probe)
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
        if self.stamp_ahead == 0:
            missed = max(missed, self._prompt_missed)
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
