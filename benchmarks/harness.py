"""Run integrations against the Share simulator for simulated days and measure them.

Everything runs in Home Assistant's test harness with time travel: the clock jumps
from one pending timer to the next, and every step waits for the background tasks the
timers start (a coordinator's refresh runs as one), so no integration is seen slower
than it is. After every step each account's glucose sensor is checked; the first
moment it shows a reading is that reading's display time.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import math
import random
import statistics
import threading
import time
import tracemalloc
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import storage
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.dexcom_share.const import DOMAIN
from custom_components.dexcom_share.glucose.const import READING_PERIOD
from custom_components.dexcom_share.glucose.optimiser import PollTuning
from custom_components.dexcom_share.glucose.planner import PollPlanner
from share_simulator import Reading, ShareSimulator, generate_trace
from share_simulator.model import LOGINS, READ
from tests.helpers import step, step_whole_second

from .oracle import KnownDelays, Trace

START = datetime.fromisoformat("2026-11-21T00:00:00+00:00")
DAY = timedelta(hours=24)
PASSWORD = "bench-password"  # noqa: S105 - simulator account
SEED = 2026
# Readings that became available this close to the end are not judged.
TAIL = timedelta(minutes=15)
# A restart (reload) of the learning run, late enough for the estimate to be settled.
RESTART_AT = timedelta(hours=21)
_FROM_DICT = PollPlanner.from_dict.__func__  # type: ignore[attr-defined]
# Memory of the test bench itself (mocks, time travel, the simulator, this harness's
# records), left out of the heap an installation would have.
NOT_THE_INSTALLATION = [
    tracemalloc.Filter(inclusive=False, filename_pattern=pattern)
    for pattern in (
        "*/unittest/mock.py",
        "*/freezegun/*",
        "*/pytest_homeassistant_custom_component/*",
        "*/share_simulator/*",
        "*/http/server.py",
        "*/socketserver.py",
        "*/benchmarks/*",
        "*/tracemalloc.py",
    )
]


def shown_key(epoch: float) -> int:
    """A reading's key in `first_shown`: its whole second, as the integration stores it."""
    return math.floor(epoch)


def trace_readings(
    trace: Trace, seed: int = SEED, phase: float = 0.0, days: int = 2
) -> list[Reading]:
    """The day before START (Share's history at setup), then the measured days.

    `phase` shifts the sensor's 5-minute rhythm, as different sensors have.
    """
    start = (START - DAY).timestamp() + phase
    return generate_trace(start, start + days * DAY.total_seconds(), trace.profile, seed)


class MeasuredPlanner(PollPlanner):
    """The planner, counting the CPU time (of its own thread) it takes per call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Start the counters at zero."""
        super().__init__(*args, **kwargs)
        self.cpu_seconds = 0.0
        self.calls = 0

    def observe(self, now: datetime, arrived: Any) -> None:
        """Time `observe`."""
        started = time.thread_time()
        super().observe(now, arrived)
        self.cpu_seconds += time.thread_time() - started

    def next_poll(self, newest: datetime | None, now: datetime) -> datetime:
        """Time `next_poll`; one call per poll."""
        started = time.thread_time()
        planned = super().next_poll(newest, now)
        self.cpu_seconds += time.thread_time() - started
        self.calls += 1
        return planned


type PlannerFactory = Callable[[Mapping[str, Any] | None], PollPlanner]


def learning(
    tuning: PollTuning, seed: int, warm: Mapping[str, Any] | None = None
) -> PlannerFactory:
    """The integration's planner as shipped (from `warm` state, or from the prior)."""
    rng = random.Random(seed)

    def make(stored: Mapping[str, Any] | None) -> PollPlanner:
        planner: PollPlanner = _FROM_DICT(MeasuredPlanner, stored or warm, tuning, rng)
        return planner

    return make


def oracle(tuning: PollTuning, seed: int, cdf: tuple[float, ...]) -> PlannerFactory:
    """The planner handed the true distribution: the best fixed schedule at this price."""
    rng = random.Random(seed)
    return lambda _stored: MeasuredPlanner(tuning, rng, KnownDelays(cdf))


def pretrained(readings: list[Reading], tuning: PollTuning, seed: int | str) -> dict[str, Any]:
    """What polling the day before START taught the planner (its stored form)."""
    planner = PollPlanner(tuning, random.Random(seed))
    warm_up(readings, planner)
    return planner.to_dict()


def warm_up(readings: list[Reading], planner: PollPlanner) -> None:
    """Let the planner poll the day before START, as an installation running already."""
    replay(readings, planner, START - DAY + timedelta(minutes=10), START)


def replay(
    readings: list[Reading], planner: PollPlanner, start: datetime, end: datetime
) -> tuple[dict[int, float], int]:
    """Poll the trace with the planner alone, without Home Assistant or HTTP.

    Each poll returns the readings then on Share. Returns when each reading was first
    the newest one held (its display time, keyed like `Account.first_shown`) and the
    number of polls.
    """
    pending = sorted(readings, key=lambda reading: reading.visible_from)
    now = start.timestamp()
    held: set[float] = set()
    first_shown: dict[int, float] = {}
    index = polls = 0
    while now < end.timestamp():
        polls += 1
        while index < len(pending) and pending[index].visible_from <= now:
            index += 1
        arrived = [r.time for r in pending[:index] if r.time not in held]
        loaded = bool(held)
        held.update(arrived)
        newest = max(held, default=None)
        if newest is not None and now - newest < 15 * 60:
            first_shown.setdefault(shown_key(newest), now)
        planner.observe(_utc(now), [_utc(taken) for taken in arrived] if loaded else [])
        now = planner.next_poll(_utc(newest) if newest else None, _utc(now)).timestamp()
    return first_shown, polls


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@dataclass
class Account:
    """One Share account in a run and the integration that follows it."""

    key: str
    readings: list[Reading]
    domain: str = DOMAIN
    planner: PlannerFactory | None = None
    username: str = ""
    account_id: str = ""
    entry: MockConfigEntry | None = None
    first_shown: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """A username from the key."""
        self.username = self.username or f"{self.key.replace('_', '-')}@example.com"

    def patched(self) -> AbstractContextManager[Any]:
        """Home Assistant creating this account's planner (ours only)."""
        if self.planner is None:
            return nullcontext()
        make = self.planner
        return patch.object(
            PollPlanner, "from_dict", classmethod(lambda _cls, stored, *_: make(stored))
        )

    def make_entry(self) -> MockConfigEntry:
        """A config entry for the account, in the integration's own format."""
        if self.domain == DOMAIN:
            data = {"username": self.username, "password": PASSWORD, "region": "us"}
        else:
            data = {"username": self.username, "password": PASSWORD, "server": "US"}
        self.entry = MockConfigEntry(
            domain=self.domain, title=self.username, unique_id=self.username, data=data
        )
        return self.entry

    def shown(self) -> datetime | None:
        """The time of the reading the glucose sensor shows now, if any."""
        assert self.entry is not None
        coordinator = getattr(self.entry, "runtime_data", None)
        data = getattr(coordinator, "data", None)
        if data is None:
            return None
        if self.domain == DOMAIN:
            return data.current.time if data.current else None
        taken: datetime = data.datetime
        return taken


@dataclass
class Result:
    """How one integration did for one account."""

    key: str
    lags: list[tuple[float, float]] = field(default_factory=list)
    """(seconds after START the reading became available, lag)."""
    missed: int = 0
    missed_long: int = 0
    reads: int = 0
    readings: int = 0
    logins: int = 0
    planner_cpu_ms_per_poll: float | None = None
    readings_learned_after_restart: int | None = None

    def summary(self) -> dict[str, Any]:
        """Figures for the JSON report."""
        ordered = sorted(lag for _, lag in self.lags)
        return {
            **lag_figures(ordered),
            "max_lag_s": round(ordered[-1], 1),
            "readings_shown": len(ordered),
            "never_shown": self.missed,
            "never_shown_newest_60s": self.missed_long,
            "reads": self.reads,
            "readings": self.readings,
            "reads_per_reading": round(self.reads / self.readings, 3),
            "logins_after_setup": self.logins,
            **(
                {"planner_cpu_ms_per_poll": round(self.planner_cpu_ms_per_poll, 3)}
                if self.planner_cpu_ms_per_poll is not None
                else {}
            ),
        }

    def hourly(self, start: timedelta, hours: int) -> list[dict[str, float]]:
        """Median and p95 lag of the readings available in each hour from `start`."""
        out = []
        for hour in range(hours):
            low = (start + timedelta(hours=hour)).total_seconds()
            lags = [lag for at, lag in self.lags if low <= at < low + 3600]
            out.append(lag_figures(lags) if lags else {})
        return out


def lag_figures(lags: Iterable[float]) -> dict[str, float]:
    """Median and p95 of some lags, as every figure of the benchmark gives them."""
    ordered = sorted(lags)
    return {
        "median_lag_s": round(statistics.median(ordered), 1),
        "p95_lag_s": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
    }


@dataclass
class Traffic:
    """Share requests tallied as they come; the simulator's own log is emptied each step.

    The log would otherwise grow in this process and count as the integration's heap.
    """

    per_second: Counter[int] = field(default_factory=Counter)
    reads: Counter[str] = field(default_factory=Counter)
    """Reads per account ID."""

    def drain(self, share: ShareSimulator) -> None:
        """Count what the simulator logged since the last call, and forget it."""
        with share.state.lock:
            entries, share.state.log[:] = list(share.state.log), []
            owners = {
                session_id: session.account_id
                for session_id, session in share.state.sessions.items()
            }
        for entry in entries:
            self.per_second[int(entry.time)] += 1
            if entry.endpoint == READ:
                self.reads[owners.get(str(_session_of(entry.params)), "?")] += 1


@dataclass
class RunStats:
    """What the run as a whole cost."""

    max_requests_per_second: int = 0
    max_requests_per_second_after_setup: int = 0
    max_threads: int = 0
    heap_per_account_kib: dict[str, float] = field(default_factory=dict)
    process_cpu_ms_per_poll: float = 0.0


async def run(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    share: ShareSimulator,
    accounts: list[Account],
    *,
    length: timedelta = DAY,
    restart_at: timedelta | None = None,
    heap_at: tuple[timedelta, ...] = (),
    whole_seconds: bool = False,
) -> tuple[dict[str, Result], RunStats]:
    """Set the accounts up at START and let `length` pass; judge every account.

    `restart_at` reloads every entry then (a restart: the planner comes back from the
    entry's stored state). `heap_at` measures the Python heap (tracemalloc) then.
    `whole_seconds` fires timers only at whole seconds, as Home Assistant's own test
    helper does (each up to a second late), instead of at their own moments; otherwise
    each coordinator's sub-second offset is drawn from SEED too, so that the same seed
    gives the same figures.
    """
    offsets = random.Random(SEED)
    seeded = (
        nullcontext()
        if whole_seconds
        else patch("homeassistant.helpers.update_coordinator.randint", offsets.randint)
    )
    with seeded:
        return await _run(
            hass,
            freezer,
            share,
            accounts,
            length=length,
            restart_at=restart_at,
            heap_at=heap_at,
            whole_seconds=whole_seconds,
        )


async def _run(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    share: ShareSimulator,
    accounts: list[Account],
    *,
    length: timedelta,
    restart_at: timedelta | None,
    heap_at: tuple[timedelta, ...],
    whole_seconds: bool,
) -> tuple[dict[str, Result], RunStats]:
    advance = step_whole_second if whole_seconds else step
    freezer.move_to(START)
    stats = RunStats()
    if heap_at:
        tracemalloc.start()
    baseline = 0
    for account in accounts:
        account.account_id = share.state.add_account(
            username=account.username, password=PASSWORD, readings=account.readings
        ).account_id
        account.make_entry().add_to_hass(hass)
        with account.patched():
            assert await hass.config_entries.async_setup(account.entry.entry_id)  # type: ignore[union-attr]
            await hass.async_block_till_done(wait_background_tasks=True)
    at_setup = Traffic()
    at_setup.drain(share)
    traffic = Traffic()
    logins_before = sum(share.state.request_count(endpoint) for endpoint in LOGINS)
    cpu_started = time.process_time()
    end = START + length
    pending_heap = sorted(heap_at)
    restarted = restart_at is None

    def record() -> None:
        now = dt_util.utcnow().timestamp()
        for account in accounts:
            taken = account.shown()
            if taken is not None:
                account.first_shown.setdefault(shown_key(taken.timestamp()), now)

    record()
    while dt_util.utcnow() < end:
        until = end
        if not restarted and restart_at is not None:
            until = min(until, START + restart_at)
        if pending_heap:
            until = min(until, START + pending_heap[0])
        await advance(hass, freezer, until)
        traffic.drain(share)
        record()
        stats.max_threads = max(stats.max_threads, threading.active_count())
        if not restarted and restart_at is not None and dt_util.utcnow() >= START + restart_at:
            restarted = True
            for account in accounts:
                with account.patched():
                    assert await hass.config_entries.async_reload(account.entry.entry_id)  # type: ignore[union-attr]
                    await hass.async_block_till_done(wait_background_tasks=True)
            record()
        if pending_heap and dt_util.utcnow() >= START + pending_heap[0]:
            at = pending_heap.pop(0)
            # The test harness's storage mock records every write; a real Store keeps none.
            storage.Store._async_write_data.reset_mock()  # type: ignore[attr-defined]
            snapshot = tracemalloc.take_snapshot().filter_traces(NOT_THE_INSTALLATION)
            heap = sum(stat.size for stat in snapshot.statistics("filename")) - baseline
            stats.heap_per_account_kib[f"{at.total_seconds() / 3600:g}h"] = round(
                heap / len(accounts) / 1024, 1
            )
    if heap_at:
        tracemalloc.stop()

    traffic.drain(share)
    stats.max_requests_per_second = max((at_setup.per_second + traffic.per_second).values())
    stats.max_requests_per_second_after_setup = max(traffic.per_second.values(), default=0)
    total_reads = sum(traffic.reads.values())
    stats.process_cpu_ms_per_poll = round(
        (time.process_time() - cpu_started) * 1000 / max(1, total_reads), 2
    )
    logins = sum(share.state.request_count(endpoint) for endpoint in LOGINS) - logins_before
    results = {}
    for account in accounts:
        result = Result(account.key)
        result.reads = traffic.reads[account.account_id]
        result.logins = logins if len(accounts) == 1 else 0
        _judge(result, account, length)
        coordinator = getattr(account.entry, "runtime_data", None)
        planner = getattr(coordinator, "planner", None)
        if isinstance(planner, MeasuredPlanner) and planner.calls:
            result.planner_cpu_ms_per_poll = planner.cpu_seconds * 1000 / planner.calls
            if restart_at is not None:
                result.readings_learned_after_restart = planner.delays.learned
        results[account.key] = result
    for account in accounts:
        assert await hass.config_entries.async_unload(account.entry.entry_id)  # type: ignore[union-attr]
    await hass.async_block_till_done(wait_background_tasks=True)
    return results, stats


def _session_of(params: Mapping[str, Any]) -> Any:
    return next((value for key, value in params.items() if key.lower() == "sessionid"), None)


def judge_replay(key: str, readings: list[Reading], planner: PollPlanner) -> Result:
    """A replay of the measured day, judged like a run (the read at START not counted)."""
    first_shown, polls = replay(readings, planner, START, START + DAY)
    return judge_day(key, readings, first_shown, polls - 1)


def judge_day(
    key: str, readings: list[Reading], first_shown: dict[int, float], reads: int
) -> Result:
    """The measured day of a replay, from when each reading was first shown."""
    account = Account(key, readings, first_shown=first_shown)
    result = Result(key, reads=reads)
    _judge(result, account, DAY)
    return result


def _judge(result: Result, account: Account, length: timedelta) -> None:
    """Lag of every reading that was the newest on Share at some moment."""
    start, end = START.timestamp(), (START + length - TAIL).timestamp()
    by_time = sorted(account.readings, key=lambda reading: reading.time)
    # The earliest moment any newer reading became available, for each reading.
    superseded_at = [float("inf")] * len(by_time)
    earliest_newer = float("inf")
    for index in range(len(by_time) - 1, -1, -1):
        superseded_at[index] = earliest_newer
        earliest_newer = min(earliest_newer, by_time[index].visible_from)
    for reading, superseded in zip(by_time, superseded_at, strict=True):
        available = reading.visible_from
        if not start <= available <= end:
            continue
        result.readings += 1
        if available >= superseded:
            continue  # never the newest on Share
        shown = account.first_shown.get(shown_key(reading.time))
        if shown is None:
            result.missed += 1
            result.missed_long += superseded - available >= 60
        else:
            result.lags.append((available - start, max(0.0, shown - available)))


__all__ = ["READING_PERIOD", "Account", "Result", "RunStats", "run"]
