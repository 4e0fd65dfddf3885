"""The local reading history: 90 days per entry, compact in memory and on disk.

Share keeps only 24 hours, so the report, the glucose profile and the session
detection read this history instead. It is immutable: `merged` returns a new one.
A reading costs 11 bytes here (time, value and trend in three parallel arrays)
instead of some 200 as a `GlucoseReading`.
"""

from array import array
import base64
import binascii
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate, pairwise
import math
from operator import sub
import struct
from typing import Any, Final, Literal, Self, override
import zlib

from .bands import BANDS, band_index
from .const import HIGH_VALUE, LOW_VALUE
from .models import GlucoseReading, Trend

RETENTION: Final = timedelta(days=90)
# A reading stamped further ahead of the clock than this is not kept (a bad uploader
# or a clock not yet set); it could otherwise pose as the newest for long.
FUTURE_TOLERANCE: Final = timedelta(minutes=5)
# Twice what 90 days hold at the 5-minute cadence: a hard bound on memory and file size.
MAX_READINGS: Final = 2 * 90 * 288
GAP: Final = timedelta(minutes=7, seconds=30)
"""Readings further apart than this (1.5 periods) have readings missing between them."""
SHARE_REACH: Final = timedelta(hours=24)
"""How far back Share answers: older readings missed while nobody watched are gone."""
MAX_UNWATCHED: Final = 90
"""Spans kept where nothing was watched (one per outage of over a day)."""
SLOT: Final = 150
"""Seconds either side of a Share reading where a fallback reading is replaced by it."""
STORAGE_VERSION: Final = 1
DAY: Final = 86400

# Dexcom's own trend numbers (0: none), so that stored codes never depend on the enum.
TREND_CODES: Final[Mapping[Trend, int]] = {
    Trend.RISING_QUICKLY: 1,
    Trend.RISING: 2,
    Trend.RISING_SLIGHTLY: 3,
    Trend.STEADY: 4,
    Trend.FALLING_SLIGHTLY: 5,
    Trend.FALLING: 6,
    Trend.FALLING_QUICKLY: 7,
    Trend.NOT_COMPUTABLE: 8,
    Trend.RATE_OUT_OF_RANGE: 9,
}
TRENDS_BY_CODE: Final[Mapping[int, Trend]] = {code: trend for trend, code in TREND_CODES.items()}

type Typecode = Literal["q", "H", "I", "B"]
TIME_TYPE: Final = "q"  # epoch seconds
VALUE_TYPE: Final = "H"  # mg/dL
STEP_TYPE: Final = "I"  # seconds from one stored reading to the next
TREND_TYPE: Final = "B"


def _epoch(moment: datetime) -> int:
    """Whole epoch seconds: the history keeps one reading per second at most."""
    return math.floor(moment.timestamp())


def _packed(values: Iterable[int], typecode: Typecode) -> memoryview[int]:
    """An immutable machine array of the values."""
    return memoryview(array(typecode, values).tobytes()).cast(typecode)


def _encoded(values: Sequence[int], typecode: Typecode) -> str:
    """Little-endian, deflated and base64: one short JSON string instead of a list.

    Home Assistant's storage indents JSON, which would put every number of a list
    on its own line.
    """
    packed = struct.pack(f"<{len(values)}{typecode}", *values)
    return base64.b64encode(zlib.compress(packed)).decode("ascii")


def _decoded(text: Any, typecode: Typecode, count: int) -> array[int]:
    """The values `_encoded` wrote; ValueError when they are not exactly `count`."""
    if not isinstance(text, str):
        raise TypeError("not a string")
    size = struct.calcsize(f"<{count}{typecode}")
    inflate = zlib.decompressobj()
    # max_length stops a small file from expanding into gigabytes.
    raw = inflate.decompress(base64.b64decode(text, validate=True), size + 1)
    if len(raw) != size or not inflate.eof:
        raise ValueError("wrong length")
    return array(typecode, struct.unpack(f"<{count}{typecode}", raw))


@dataclass(frozen=True, slots=True)
class Tally:
    """Count, readings per consensus band, sum and sum of squares of some values (mg/dL).

    Exact integers, so tallies add up without rounding: a period's tally is the sum
    of its days'.
    """

    count: int = 0
    bands: tuple[int, ...] = (0,) * BANDS
    total: int = 0
    squares: int = 0

    def __add__(self, other: Tally) -> Tally:
        """Both tallies together."""
        return Tally(
            self.count + other.count,
            tuple(map(sum, zip(self.bands, other.bands, strict=True))),
            self.total + other.total,
            self.squares + other.squares,
        )


@dataclass(frozen=True, slots=True)
class _DaySummary:
    """What the report and the sensor session need of one UTC day's readings."""

    tally: Tally
    gaps: tuple[tuple[int, int], ...]


def _day_summary(times: memoryview[int], values: memoryview[int]) -> _DaySummary:
    counts = [0] * BANDS
    for value in values:
        counts[band_index(value)] += 1
    limit = GAP.total_seconds()
    return _DaySummary(
        Tally(len(values), tuple(counts), sum(values), sum(value * value for value in values)),
        tuple((before, after) for before, after in pairwise(times) if after - before > limit),
    )


class ReadingHistory:
    """Readings oldest first, one per second, at most 90 days old.

    `times` (epoch seconds) and `values` (mg/dL; 39 is LOW, 401 HIGH) are parallel
    read-only arrays, as are the trend codes (`TREND_CODES`, 0 for none). `unwatched`
    holds the spans nobody could see: Home Assistant, the entry or Share was away for
    longer than Share keeps readings, so a hole there says nothing about the sensor.
    `fallback` holds the times of the readings taken from the fallback glucose sensor
    (none, as a rule): Share's reading replaces one within `SLOT` seconds of it.
    """

    __slots__ = (
        "_days_known",
        "_fallback",
        "_share_days_known",
        "_share_only",
        "_times",
        "_trend_codes",
        "_unwatched",
        "_values",
    )

    def __init__(self) -> None:
        """An empty history; `merged` and `from_dict` fill one."""
        self._times = _packed((), TIME_TYPE)
        self._values = _packed((), VALUE_TYPE)
        self._trend_codes = b""
        self._fallback: frozenset[int] = frozenset()
        self._share_only: ReadingHistory | None = None
        self._days_known: dict[int, _DaySummary] = {}
        """Summaries of whole UTC days by day number, for views and merges to share.

        A poll changes today only: a merge hands the days before its first change
        down, so a 90-day report sums summaries instead of passing 26,000 readings.
        A history's first day may be partial (a view, or pruned): it is never kept.
        The glucose profile adds to it from the executor, so a merge copies it whole
        (one step under the GIL) before it reads it.
        """
        self._share_days_known: dict[int, _DaySummary] = {}
        """The same for Share's own readings (`from_share`), handed down alike."""
        self._unwatched: tuple[tuple[int, int], ...] = ()

    @classmethod
    def _of(
        cls,
        times: memoryview[int],
        values: memoryview[int],
        trend_codes: bytes,
        fallback: frozenset[int] = frozenset(),
        unwatched: tuple[tuple[int, int], ...] = (),
        *,
        days_known: dict[int, _DaySummary] | None = None,
        share_days_known: dict[int, _DaySummary] | None = None,
    ) -> Self:
        history = cls()
        history._times, history._values, history._trend_codes = times, values, trend_codes
        history._fallback, history._unwatched = fallback, unwatched
        if days_known is not None:
            history._days_known = days_known
        if share_days_known is not None:
            history._share_days_known = share_days_known
        return history

    @property
    def unwatched(self) -> tuple[tuple[int, int], ...]:
        """(start, end) epoch seconds of the spans nobody could see, oldest first."""
        return self._unwatched

    @property
    def times(self) -> Sequence[int]:
        """Epoch seconds of the readings, ascending."""
        return self._times

    @property
    def values(self) -> Sequence[int]:
        """mg/dL, parallel to `times`."""
        return self._values

    def __len__(self) -> int:
        """How many readings are held."""
        return len(self._times)

    @property
    def from_fallback(self) -> int:
        """How many of the readings came from the fallback glucose sensor."""
        return len(self._fallback)

    def _reading(self, index: int) -> GlucoseReading:
        return GlucoseReading(
            time=datetime.fromtimestamp(self._times[index], UTC),
            value=self._values[index],
            trend=TRENDS_BY_CODE.get(self._trend_codes[index]),
            from_fallback=self._times[index] in self._fallback,
        )

    def __iter__(self) -> Iterator[GlucoseReading]:
        """The readings, oldest first."""
        return map(self._reading, range(len(self)))

    def __reversed__(self) -> Iterator[GlucoseReading]:
        """The readings, newest first (as `get_readings` answers)."""
        return map(self._reading, reversed(range(len(self))))

    @override
    def __repr__(self) -> str:
        if not self:
            return "ReadingHistory(empty)"
        first = datetime.fromtimestamp(self._times[0], UTC).isoformat()
        last = datetime.fromtimestamp(self._times[-1], UTC).isoformat()
        return f"ReadingHistory({len(self)} readings, {first} to {last})"

    def since(self, start: datetime) -> ReadingHistory:
        """The readings taken at or after `start` (times and values are not copied)."""
        first = math.ceil(start.timestamp())
        index = bisect_left(self._times, first)
        return self._of(
            self._times[index:],
            self._values[index:],
            self._trend_codes[index:],
            frozenset(time for time in self._fallback if time >= first),
            self._unwatched,
            days_known=self._days_known,
            share_days_known=self._share_days_known,
        )

    def from_share(self) -> ReadingHistory:
        """Share's readings only: the sensor's own timeline (its warm-ups, its gaps)."""
        if not self._fallback:
            return self
        if self._share_only is None:
            # Computed once per history (it is immutable), not once per snapshot: the
            # runs between fallback readings are copied whole, not reading by reading.
            dropped = sorted(bisect_left(self._times, time) for time in self._fallback)
            runs = list(
                zip([0, *(index + 1 for index in dropped)], [*dropped, len(self)], strict=True)
            )
            self._share_only = self._of(
                _joined_runs(self._times, runs, TIME_TYPE),
                _joined_runs(self._values, runs, VALUE_TYPE),
                b"".join(self._trend_codes[start:end] for start, end in runs),
                frozenset(),
                self._unwatched,
                days_known=self._share_days_known,
            )
        return self._share_only

    def gap_start(self, since: datetime) -> datetime | None:
        """The reading before the oldest gap that ended after `since`.

        A gap is two consecutive readings more than `GAP` apart: a signal loss whose
        backfill may still be on its way, or a sensor change.
        """
        first = max(1, bisect_right(self._times, math.floor(since.timestamp())))
        limit = GAP.total_seconds()
        for index in range(first, len(self._times)):
            if self._times[index] - self._times[index - 1] > limit:
                return datetime.fromtimestamp(self._times[index - 1], UTC)
        return None

    def newly_held(
        self, previous: ReadingHistory, readings: Iterable[GlucoseReading]
    ) -> tuple[GlucoseReading, ...]:
        """Of `readings`, those at a second held here and not in `previous`, oldest first.

        Each second once, however often it came, as held here (the merge's winner).
        """
        seconds = sorted({_epoch(reading.time) for reading in readings})
        return tuple(
            self._reading(bisect_left(self._times, time))
            for time in seconds
            if self._held(time) is not None and previous._held(time) is None
        )

    def _days(self) -> Iterator[tuple[int, int, _DaySummary]]:
        """The first and last time and the summary of each UTC day's readings, oldest first."""
        times, start = self._times, 0
        while start < len(times):
            day = times[start] // DAY
            end = bisect_left(times, (day + 1) * DAY, start)
            summary = self._days_known.get(day) if start else None
            if summary is None:
                summary = _day_summary(times[start:end], self._values[start:end])
                if start:
                    self._days_known[day] = summary
            yield times[start], times[end - 1], summary
            start = end

    def tally(self) -> Tally:
        """The tally of all the values held."""
        return sum((summary.tally for _, _, summary in self._days()), Tally())

    def gaps(self) -> list[tuple[int, int]]:
        """(before, after) times of consecutive readings more than `GAP` apart, oldest first."""
        gaps: list[tuple[int, int]] = []
        limit = GAP.total_seconds()
        previous_last: int | None = None
        for first, last, summary in self._days():
            if previous_last is not None and first - previous_last > limit:
                gaps.append((previous_last, first))
            gaps.extend(summary.gaps)
            previous_last = last
        return gaps

    def _held(self, time: int) -> tuple[int, int, bool] | None:
        """Value, trend code and whether from the fallback, held for this second, if any."""
        index = bisect_left(self._times, time)
        if index < len(self._times) and self._times[index] == time:
            return self._values[index], self._trend_codes[index], time in self._fallback

        return None

    def _near(self, time: int) -> Sequence[int]:
        """The times held within `SLOT` seconds of `time`."""
        return self._times[
            bisect_left(self._times, time - SLOT) : bisect_right(self._times, time + SLOT)
        ]

    def merged(
        self, readings: Iterable[GlucoseReading], now: datetime, *, prune: bool = True
    ) -> tuple[ReadingHistory, int]:
        """These readings plus `readings`, and how many of those were not held as they are.

        A reading replaces the one held for the same second (the later one wins within
        `readings`). New readings further ahead of `now` than the tolerance, or outside
        39-401 mg/dL, are not taken. Retention follows the readings' own timeline, not
        the clock: what ages out is what is older than the retention before the newest
        reading (or before `now`, if that is earlier), so a clock days behind or a year
        ahead never deletes a stored reading; with `prune` off (a clock known to be
        wrong) nothing ages out at all. Beyond `MAX_READINGS` the oldest go. With
        nothing added and nothing aged out, the same object comes back, so nothing needs
        saving.

        Readings arriving while the newest one held is older than Share's reach mark
        the span between them as unwatched.
        """
        newest = _epoch(now + FUTURE_TOLERANCE)
        incoming: dict[int, tuple[int, int, bool]] = {}
        for reading in readings:
            time = _epoch(reading.time)
            if time <= newest and LOW_VALUE <= reading.value <= HIGH_VALUE:
                trend_code = 0 if reading.trend is None else TREND_CODES[reading.trend]
                incoming[time] = (reading.value, trend_code, reading.from_fallback)
        removed = self._replaced_by_share(incoming)
        # Stamped by a clock that was wrong then: not readings of any time there was.
        removed |= {time for time in self._fallback if time > newest}
        newest_reading = max([*incoming, *self._times[-1:]], default=_epoch(now))
        oldest = math.ceil(min(now.timestamp(), newest_reading) - RETENTION.total_seconds())
        if not prune:
            oldest = min(oldest, self._times[0]) if self else oldest
        incoming = {time: held for time, held in incoming.items() if time >= oldest}
        changes = {time: held for time, held in incoming.items() if self._held(time) != held}
        keep_from = bisect_left(self._times, oldest)
        keep_until = len(self)
        if not changes and not removed and keep_from == 0 and keep_until == len(self):
            return self, 0
        unwatched = self._unwatched
        reach = _epoch(now - SHARE_REACH)
        if self and changes and self._times[-1] < reach:
            unwatched = (*unwatched, (self._times[-1], reach))
        unwatched = tuple(span for span in unwatched if span[1] >= oldest)[-MAX_UNWATCHED:]
        # Readings before the oldest change are kept as they are, without unpacking.
        split = keep_until
        if changes or removed:
            first = min([*changes, *removed])
            split = max(keep_from, min(keep_until, bisect_left(self._times, first)))
        tail = {
            self._times[index]: (
                self._values[index],
                self._trend_codes[index],
                self._times[index] in self._fallback,
            )
            for index in range(split, keep_until)
        }
        for time in removed:
            tail.pop(time, None)
        tail.update(changes)
        tail_times = sorted(tail)
        # Over the bound, the oldest go: first from the kept part, then from the tail.
        excess = max(0, split - keep_from + len(tail_times) - MAX_READINGS)
        head_from = keep_from + min(excess, split - keep_from)
        tail_times = tail_times[max(0, excess - (split - keep_from)) :]
        times = _joined(self._times[head_from:split], tail_times, TIME_TYPE)
        fallback = {time for time in self._fallback if time not in removed}
        fallback -= {time for time, held in changes.items() if not held[2]}
        fallback |= {time for time, held in changes.items() if held[2]}
        # The days before the first change hold the same readings as here (a pruned
        # first day does not: it is left out, and so is every day before it).
        unchanged_before = min([*changes, *removed], default=math.inf) // DAY
        first_day = times[0] // DAY if times else 0

        def handed_down(known: dict[int, _DaySummary]) -> dict[int, _DaySummary]:
            return {
                day: summary
                for day, summary in dict(known).items()
                if first_day < day < unchanged_before
            }

        merged = self._of(
            times,
            _joined(
                self._values[head_from:split], (tail[time][0] for time in tail_times), VALUE_TYPE
            ),
            self._trend_codes[head_from:split] + bytes(tail[time][1] for time in tail_times),
            frozenset(time for time in fallback if times and time >= times[0]),
            unwatched,
            days_known=handed_down(self._days_known),
            share_days_known=handed_down(self._share_days_known),
        )
        return merged, len(changes) + len(removed)

    def _replaced_by_share(self, incoming: dict[int, tuple[int, int, bool]]) -> set[int]:
        """The fallback readings held that Share's incoming readings replace.

        Drops from `incoming` the fallback readings in a slot Share fills, now or before.
        """
        share = sorted(time for time, held in incoming.items() if not held[2])
        removed = {
            near for time in share for near in self._near(time) if near in self._fallback
        } - set(incoming)
        for time in [time for time, held in incoming.items() if held[2]]:
            start = bisect_left(share, time - SLOT)
            incoming_share = start < len(share) and share[start] <= time + SLOT
            held_share = any(near not in self._fallback for near in self._near(time))
            if incoming_share or held_share:
                del incoming[time]
        return removed

    def to_dict(self) -> dict[str, Any]:
        """A compact JSON-serialisable form: under 50 kB for 90 days of readings."""
        times = self._times
        return {
            "version": STORAGE_VERSION,
            "count": len(times),
            "start": times[0] if times else 0,
            "steps": _encoded(list(map(sub, times[1:], times[:-1], strict=True)), STEP_TYPE),
            "values": _encoded(self._values, VALUE_TYPE),
            "trends": _encoded(self._trend_codes, TREND_TYPE),
            "fallback": sorted(self._fallback),
            "unwatched": [list(span) for span in self._unwatched],
        }

    @classmethod
    def from_dict(cls, data: Any) -> ReadingHistory:
        """The history `to_dict` saved; empty for anything else (never raises)."""
        try:
            return cls._from_dict(data)
        except ValueError, TypeError, OverflowError, OSError, KeyError, binascii.Error, zlib.error:
            return cls()

    @classmethod
    def _from_dict(cls, data: Any) -> ReadingHistory:
        if not isinstance(data, Mapping) or data.get("version") != STORAGE_VERSION:
            raise ValueError("unknown format")
        count, start = data["count"], data["start"]
        if type(count) is not int or type(start) is not int or not 0 <= count <= MAX_READINGS:
            raise ValueError("bad header")
        unwatched = tuple((start_, end) for start_, end in data.get("unwatched", ()))
        if (
            not all(
                type(start_) is int and type(end) is int and start_ < end
                for start_, end in unwatched
            )
            or len(unwatched) > MAX_UNWATCHED
        ):
            raise ValueError("bad unwatched spans")
        if count == 0:
            return cls()
        steps = _decoded(data["steps"], STEP_TYPE, count - 1)
        values = _decoded(data["values"], VALUE_TYPE, count)
        trend_codes = _decoded(data["trends"], TREND_TYPE, count)
        # Written since the fallback sensor came; before, every reading was Share's. A
        # mark that is not a stored reading's time is dropped, not the history.
        marks = data.get("fallback")
        fallback = frozenset(
            time for time in (marks if isinstance(marks, list) else ()) if type(time) is int
        )
        if (
            0 in steps
            or min(values) < LOW_VALUE
            or max(values) > HIGH_VALUE
            or max(trend_codes) > max(TRENDS_BY_CODE)
        ):
            raise ValueError("out of range")
        times = array(TIME_TYPE, accumulate(steps, initial=start))
        if fallback:
            fallback &= frozenset(times)
        # Both ends must be dates (an absurd start would break every reader later).
        datetime.fromtimestamp(start, UTC)
        datetime.fromtimestamp(times[-1], UTC)
        return cls._of(
            memoryview(times.tobytes()).cast(TIME_TYPE),
            memoryview(values.tobytes()).cast(VALUE_TYPE),
            trend_codes.tobytes(),
            fallback,
            unwatched,
        )


def _joined_runs(
    values: memoryview[int], runs: Iterable[tuple[int, int]], typecode: Typecode
) -> memoryview[int]:
    """The runs `[start, end)` of `values`, one after another (copied as bytes)."""
    joined = b"".join(values[start:end].tobytes() for start, end in runs)
    return memoryview(joined).cast(typecode)


def _joined(head: memoryview[int], tail: Iterable[int], typecode: Typecode) -> memoryview[int]:
    """`head` (copied as bytes, not unpacked) followed by `tail`."""
    return memoryview(head.tobytes() + array(typecode, tail).tobytes()).cast(typecode)
