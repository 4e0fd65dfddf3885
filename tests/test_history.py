"""The 90-day reading history: merging, bounds, queries and its stored form."""

import base64
from datetime import UTC, datetime, timedelta
import itertools
import json
import math
import random
import tracemalloc
from typing import Any
import zlib

from homeassistant.helpers.json import prepare_save_json
from hypothesis import example, given, settings, strategies as st
import pytest

from custom_components.dexcom_share.glucose import history as history_module
from custom_components.dexcom_share.glucose.bands import band_index
from custom_components.dexcom_share.glucose.history import (
    DAY,
    FUTURE_TOLERANCE,
    GAP,
    MAX_READINGS,
    RETENTION,
    ReadingHistory,
    Tally,
)
from custom_components.dexcom_share.glucose.models import GlucoseReading, Trend

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
FIVE = timedelta(minutes=5)


def reading(
    minutes_ago: float, value: int = 120, trend: Trend | None = Trend.STEADY
) -> GlucoseReading:
    """A reading taken `minutes_ago` before NOW."""
    return GlucoseReading(NOW - timedelta(minutes=minutes_ago), value, trend)


def ninety_days(seed: int = 1) -> list[GlucoseReading]:
    """A realistic 90-day trace: 25,920 readings, a random walk with a slight clock drift."""
    rng = random.Random(seed)
    value, readings = 120.0, []
    time = NOW - RETENTION + timedelta(seconds=30)
    for _ in range(25_920):
        value = min(401.0, max(39.0, value + rng.gauss(0, 4) + (120 - value) * 0.02))
        change = value - readings[-1].value if readings else 0
        trend = Trend.STEADY if abs(change) < 5 else (Trend.RISING if change > 0 else Trend.FALLING)
        readings.append(GlucoseReading(time, round(value), trend))
        time += timedelta(seconds=300 + rng.choice((0, 0, 1, -1)))
    return readings


def model(readings: list[GlucoseReading], now: datetime) -> list[GlucoseReading]:
    """What the history should hold: one per second (the later wins), in bounds, sorted.

    Retention follows the readings: what is older than 90 days before the newest
    reading (or before `now`, if that is earlier) goes.
    """
    by_second: dict[int, GlucoseReading] = {}
    for item in readings:
        second = int(item.time.timestamp() // 1)
        if (
            datetime.fromtimestamp(second, UTC) <= now + FUTURE_TOLERANCE
            and 39 <= item.value <= 401
        ):
            by_second[second] = GlucoseReading(
                datetime.fromtimestamp(second, UTC), item.value, item.trend
            )
    if not by_second:
        return []
    anchor = min(now.timestamp(), max(by_second))
    oldest = math.ceil(anchor - RETENTION.total_seconds())
    return [by_second[second] for second in sorted(by_second) if second >= oldest][-MAX_READINGS:]


def test_merge_keeps_one_reading_per_second_oldest_first() -> None:
    """Out of order, repeated and replaced readings: sorted, one per time, the later wins."""
    history, added = ReadingHistory().merged(
        [reading(5, 110), reading(15, 100), reading(10, 105), reading(5, 112, None)], NOW
    )
    assert added == 3
    assert list(history) == [reading(15, 100), reading(10, 105), reading(5, 112, None)]
    assert list(reversed(history)) == [reading(5, 112, None), reading(10, 105), reading(15, 100)]
    assert list(history.times) == [
        int((NOW - timedelta(minutes=m)).timestamp()) for m in (15, 10, 5)
    ]
    assert list(history.values) == [100, 105, 112]

    # Share's next answer repeats two readings, changes one and adds one.
    again, added = history.merged([reading(10, 105), reading(5, 113), reading(0, 118)], NOW)
    assert added == 2
    assert [item.value for item in again] == [100, 105, 113, 118]
    assert [item.value for item in history] == [100, 105, 112], "the old history is unchanged"


def test_merge_without_news_returns_the_same_history() -> None:
    """Nothing new and nothing aged out: the same object, so nothing needs saving."""
    history, _ = ReadingHistory().merged([reading(10), reading(5)], NOW)
    same, added = history.merged([reading(5), reading(10)], NOW + timedelta(minutes=1))
    assert same is history
    assert added == 0


def test_backfill_is_inserted_in_place() -> None:
    """Readings of a signal loss arrive after newer ones and land in order."""
    history, _ = ReadingHistory().merged([reading(m) for m in (60, 55, 20, 15, 10)], NOW)
    filled, added = history.merged([reading(m, 90) for m in (50, 45, 40, 35, 30, 25)], NOW)
    assert added == 6
    assert [int((NOW - item.time).total_seconds() // 60) for item in filled] == list(
        range(60, 9, -5)
    )
    assert [item.value for item in filled][2:8] == [90] * 6


def test_bounds_in_time_and_value() -> None:
    """Older than 90 days, over 5 minutes ahead, or outside LOW..HIGH: not kept."""
    readings = [
        GlucoseReading(NOW - RETENTION - timedelta(seconds=1), 100, None),
        GlucoseReading(NOW - RETENTION, 101, None),
        reading(30, 39),
        reading(25, 38),
        reading(20, 401),
        reading(15, 402),
        reading(10, 0),
        GlucoseReading(NOW + FUTURE_TOLERANCE, 102, None),
        GlucoseReading(NOW + FUTURE_TOLERANCE + timedelta(seconds=1), 103, None),
    ]
    history, added = ReadingHistory().merged(readings, NOW)
    assert [item.value for item in history] == [101, 39, 401, 102]
    assert added == 4

    # A day later the oldest has aged out, though nothing new came.
    later, added = history.merged([], NOW + timedelta(days=1))
    assert added == 0
    assert [item.value for item in later] == [39, 401, 102]


def test_since() -> None:
    """Readings at or after a moment; before the first or after the last."""
    history, _ = ReadingHistory().merged([reading(m, 100 + m) for m in (20, 15, 10, 5)], NOW)
    assert [item.value for item in history.since(NOW - timedelta(minutes=15))] == [115, 110, 105]
    assert [item.value for item in history.since(NOW - timedelta(minutes=14, seconds=59))] == [
        110,
        105,
    ]
    assert len(history.since(NOW - timedelta(days=1))) == 4
    assert len(history.since(NOW)) == 0
    assert repr(history.since(NOW)) == "ReadingHistory(empty)"
    assert repr(history) == (
        "ReadingHistory(4 readings, 2026-11-21T11:40:00+00:00 to 2026-11-21T11:55:00+00:00)"
    )


def test_at_most_max_readings_newest_kept() -> None:
    """A flood of readings (every 100 s for 90 days) keeps the newest MAX_READINGS."""
    flood = [
        GlucoseReading(NOW - timedelta(seconds=100 * index), 100 + index % 200, None)
        for index in range(int(RETENTION.total_seconds() // 100))
    ]
    history, _ = ReadingHistory().merged(flood, NOW)
    assert len(history) == MAX_READINGS
    assert history.times[-1] == int(NOW.timestamp())
    assert history.times[0] == int(NOW.timestamp()) - 100 * (MAX_READINGS - 1)

    # Growing past the bound one reading at a time drops the oldest held one.
    grown, added = history.merged([GlucoseReading(NOW + timedelta(seconds=100), 150, None)], NOW)
    assert added == 1
    assert len(grown) == MAX_READINGS
    assert grown.times[0] == history.times[1]
    assert grown.times[-1] == int(NOW.timestamp()) + 100


def test_ninety_days_stay_small() -> None:
    """25,920 readings: about 11 bytes each in memory, under 64 kB as Home Assistant stores them."""
    history, added = ReadingHistory().merged(ninety_days(), NOW)
    assert len(history) == added == 25_920
    _, stored = prepare_save_json(
        {"version": 1, "key": "dexcom_share.x", "data": history.to_dict()}
    )
    assert len(stored) < 64_000
    data = json.loads(stored)["data"]
    tracemalloc.start()
    try:
        loaded = ReadingHistory.from_dict(data)
        snapshot = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    # What the history holds, allocated by its own module (not by any tracer around).
    own = snapshot.filter_traces([tracemalloc.Filter(True, history_module.__file__)])
    assert sum(stat.size for stat in own.statistics("filename")) < 12 * 25_920
    assert list(loaded) == list(history)


def test_round_trip_of_an_empty_history() -> None:
    """An empty history is stored and read back as empty."""
    stored = ReadingHistory().to_dict()
    assert stored["count"] == 0
    assert len(ReadingHistory.from_dict(json.loads(json.dumps(stored)))) == 0


def _encoded(raw: bytes) -> str:
    return base64.b64encode(zlib.compress(raw)).decode()


def _valid() -> dict[str, Any]:
    history, _ = ReadingHistory().merged([reading(10, 100), reading(5, 110, None)], NOW)
    return history.to_dict()


@pytest.mark.parametrize(
    "broken",
    [
        None,
        [],
        "history",
        {},
        _valid() | {"version": 2},
        _valid() | {"count": -1},
        _valid() | {"count": 3},
        _valid() | {"count": True},
        _valid() | {"count": MAX_READINGS + 1},
        _valid() | {"start": "soon"},
        _valid() | {"start": 10**17},
        _valid() | {"start": 253_402_300_800},  # year 10000
        _valid() | {"steps": None},
        _valid() | {"steps": "not base64!"},
        _valid() | {"steps": base64.b64encode(b"not deflated").decode()},
        _valid() | {"steps": _encoded(b"\0\0\0\0")},  # two readings at the same second
        _valid() | {"values": _encoded(b"\x05\0\x64\0")},  # 5 mg/dL
        _valid() | {"values": _encoded(b"\xff\xff\x64\0")},
        _valid() | {"values": _encoded(b"\x64\0" * 1_000_000)},  # far more than announced
        _valid() | {"trends": _encoded(b"\x04\x0a")},  # no trend has code 10
        {key: value for key, value in _valid().items() if key != "trends"},
        _valid() | {"unwatched": [[5, 3]]},
        _valid() | {"unwatched": [[1, 2, 3]]},
        _valid() | {"unwatched": [["a", "b"]]},
        _valid() | {"unwatched": [[1, 2]] * 91},
        _valid() | {"unwatched": 7},
    ],
)
def test_malformed_stored_history_gives_an_empty_one(broken: Any) -> None:
    """Whatever is stored, reading it never raises; anything malformed is dropped whole."""
    assert len(ReadingHistory.from_dict(broken)) == 0


def test_trends_round_trip_by_dexcom_number() -> None:
    """Every trend, and none, survives storage; the stored codes are Dexcom's numbers."""
    readings = [reading(50 - 5 * index, 100, trend) for index, trend in enumerate([*Trend, None])]
    history, _ = ReadingHistory().merged(readings, NOW)
    stored = history.to_dict()
    codes = zlib.decompress(base64.b64decode(stored["trends"]))
    assert list(codes) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]
    assert list(ReadingHistory.from_dict(stored)) == readings


# Milliseconds from NOW: mostly the last half hour (where readings share seconds), also
# anywhere in the retention and just beyond either bound.
offsets = st.one_of(
    st.integers(-1_800_000, 600_000).map(lambda ms: ms - ms % 250),
    st.integers(-int(RETENTION.total_seconds() * 1000) - 600_000, 600_000),
)
readings_strategy = st.lists(
    st.builds(
        GlucoseReading,
        time=offsets.map(lambda ms: NOW + timedelta(milliseconds=ms)),
        value=st.integers(0, 500),
        trend=st.sampled_from([*Trend, None]),
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(first=readings_strategy, second=readings_strategy, hours=st.integers(0, 48))
# A lone reading just over 90 days old: kept, since retention follows the readings.
@example(
    first=[],
    second=[GlucoseReading(NOW - RETENTION - timedelta(milliseconds=1), 39, None)],
    hours=0,
)
def test_merge_properties(
    first: list[GlucoseReading], second: list[GlucoseReading], hours: int
) -> None:
    """Two merges hold what the model says, sorted and in bounds; repeats change nothing."""
    later = NOW + timedelta(hours=hours)
    history, _ = ReadingHistory().merged(first, NOW)
    history, added = history.merged(second, later)
    expected = model(first, NOW)
    expected = model([*expected, *second], later)
    assert list(history) == expected
    times = list(history.times)
    assert times == sorted(set(times))
    assert all(39 <= value <= 401 for value in history.values)
    assert added <= len(second)

    same, added_again = history.merged(second, later)
    assert same is history
    assert added_again == 0


@settings(max_examples=100, deadline=None)
@given(readings=readings_strategy)
def test_round_trip(readings: list[GlucoseReading]) -> None:
    """What is stored comes back exactly, through JSON."""
    history, _ = ReadingHistory().merged(readings, NOW)
    stored = json.loads(json.dumps(history.to_dict()))
    assert list(ReadingHistory.from_dict(stored)) == list(history)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(
    key=st.sampled_from(["version", "count", "start", "steps", "values", "trends", "unwatched"]),
    value=json_values,
)
def test_any_stored_field_is_safe(key: str, value: Any) -> None:
    """Replacing any field by any JSON value never raises, and gives a valid history."""
    history = ReadingHistory.from_dict(_valid() | {key: value})
    assert len(history) in (0, 2)
    assert list(history.times) == sorted(set(history.times))


def test_gap_start() -> None:
    """The reading before the oldest gap that ended after a moment; none without one."""
    five = timedelta(minutes=5)
    times = [NOW - five * n for n in (30, 29, 28, 20, 19, 12, 11, 10, 1, 0)]
    history, _ = ReadingHistory().merged([GlucoseReading(t, 120, None) for t in times], NOW)
    assert history.gap_start(NOW - five * 40) == NOW - five * 28
    assert history.gap_start(NOW - five * 21) == NOW - five * 28
    assert history.gap_start(NOW - five * 20) == NOW - five * 19
    assert history.gap_start(NOW - five * 2) == NOW - five * 10
    assert history.gap_start(NOW - five * 1) is None
    assert history.gap_start(NOW - five * 0.5) is None
    assert ReadingHistory().gap_start(NOW) is None
    # 7.5 minutes apart is still no gap (readings come every 5 minutes, with jitter).
    close, _ = ReadingHistory().merged(
        [GlucoseReading(NOW - timedelta(seconds=450), 120, None), GlucoseReading(NOW, 120, None)],
        NOW,
    )
    assert close.gap_start(NOW - timedelta(hours=1)) is None


@settings(max_examples=100, deadline=None)
@given(
    offset=st.one_of(
        st.integers(-3 * 24 * 60, 0),
        st.integers(0, 400 * 24 * 60),
        st.sampled_from((-2880, 525600)),
    ),
    stored_days=st.integers(1, 89),
)
def test_a_wrong_clock_never_loses_a_stored_reading(offset: int, stored_days: int) -> None:
    """Home Assistant's clock `offset` minutes off (days behind, a year ahead): kept.

    The history holds `stored_days` of readings up to the true now; a poll merges
    Share's last 24 hours at the wrong clock. Every stored reading is still there
    (retention follows the readings, not the clock); once the clock is right again the
    next poll adds what Share has and ages out only what is 90 days older than it.
    """
    every = timedelta(minutes=5)
    held = [
        GlucoseReading(NOW - every * index, 100 + index % 50, Trend.STEADY)
        for index in range(stored_days * 288)
    ]
    history, _ = ReadingHistory().merged(held, NOW)
    assert len(history) == len(held)
    share = held[:288]
    wrong = NOW + timedelta(minutes=offset)
    merged, _ = history.merged(share, wrong)
    assert set(merged.times) >= set(history.times)
    righted, _ = merged.merged([GlucoseReading(NOW + every, 120, None)], NOW + every)
    assert len(righted) == len(held) + 1


def test_a_clock_two_days_behind_keeps_readings_stamped_ahead_of_it() -> None:
    """The issue's case: 865 readings, the clock two days behind at the first poll."""
    held = [GlucoseReading(NOW - FIVE * index, 120, None) for index in range(865)]
    history, _ = ReadingHistory().merged(held, NOW)
    behind, _ = history.merged(held[:288], NOW - timedelta(days=2))
    assert len(behind) == 865
    ahead, _ = history.merged([], NOW + timedelta(days=365))
    assert len(ahead) == 865


def test_pruning_paused_keeps_even_what_retention_would_drop() -> None:
    """With the clock known wrong, nothing ages out; the bound on size still holds."""
    old = [
        GlucoseReading(NOW - RETENTION - timedelta(days=1, minutes=5 * n), 100, None)
        for n in range(3)
    ]
    history, _ = ReadingHistory().merged(old, NOW - RETENTION - timedelta(days=1))
    new = [GlucoseReading(NOW, 120, None)]
    paused, added = history.merged(new, NOW, prune=False)
    assert (len(paused), added) == (4, 1)
    pruned, _ = history.merged(new, NOW)
    assert len(pruned) == 1


# Readings over three days on a 10-second grid, so days, gaps and repeats all occur;
# some from the fallback sensor.
spread_readings = st.lists(
    st.builds(
        GlucoseReading,
        time=st.integers(-3 * 8640, 0).map(lambda steps: NOW + timedelta(seconds=10 * steps)),
        value=st.integers(39, 401),
        trend=st.sampled_from([*Trend, None]),
        from_fallback=st.booleans(),
    ),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(
    first=spread_readings,
    second=spread_readings,
    start=st.integers(0, 3 * 8640).map(lambda steps: NOW - timedelta(seconds=10 * steps)),
)
def test_day_summaries_agree_with_a_pass_over_every_reading(
    first: list[GlucoseReading], second: list[GlucoseReading], start: datetime
) -> None:
    """Tally, gaps and new readings are what a plain pass finds, through merges and views.

    The first history is summarised (whole, from a day on, Share's own) before the
    merge, so the summaries a merge hands down are the ones checked after it.
    """
    held, _ = ReadingHistory().merged(first, NOW)
    for view in (held, held.since(start), held.from_share(), held.from_share().since(start)):
        view.tally()
        view.gaps()
    history, _ = held.merged(second, NOW)
    views = (history, history.since(start), history.from_share(), history.from_share().since(start))
    for view in views:
        values, times = list(view.values), list(view.times)
        bands = [0] * 5
        for value in values:
            bands[band_index(value)] += 1
        expected = Tally(len(values), tuple(bands), sum(values), sum(v * v for v in values))
        assert view.tally() == expected
        limit = GAP.total_seconds()
        assert view.gaps() == [
            (before, after) for before, after in itertools.pairwise(times) if after - before > limit
        ]
    added = history.newly_held(held, second)
    assert [int(reading.time.timestamp()) for reading in added] == sorted(
        set(history.times) - set(held.times)
    )
    assert all(reading in list(history) for reading in added)


def test_a_poll_summarises_only_the_day_it_changed() -> None:
    """Merging a new reading hands every earlier whole day's summary down unchanged."""
    history, _ = ReadingHistory().merged(ninety_days(), NOW)
    history.tally()
    known = dict(history._days_known)
    assert len(known) == len({time // DAY for time in history.times}) - 1
    grown, _ = history.merged([reading(-1, 150)], NOW + FIVE)
    today = int((NOW + timedelta(minutes=1)).timestamp()) // DAY
    assert all(grown._days_known[day] is known[day] for day in known if day < today)
    assert today not in grown._days_known
    # The oldest reading left as the new one came (retention follows the readings).
    values = list(grown.values)
    assert (grown.tally().count, grown.tally().total) == (len(values), sum(values))
    # A backfilled day is summarised again, with every day after it.
    backfilled, _ = grown.merged([reading(60 * 24 * 3 + 2.5, 60)], NOW + FIVE)
    assert max(backfilled._days_known, default=0) < (NOW - timedelta(days=3)).timestamp() // DAY
