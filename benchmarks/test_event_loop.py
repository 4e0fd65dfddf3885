"""Event-loop time per poll with 90 days of readings stored.

One account with a full 90-day history (a random walk, so no two days are alike)
follows six hours of readings arriving every 5 minutes, 20 s late, through the
whole integration against the Share simulator. The report covers all 90 days. Per poll it measures the CPU time of
the event loop's thread: the coordinator's update alone (Share's answer, the merge,
the planner, the snapshot with the 90-day report and the sensor session), and
everything the loop did for the poll (Home Assistant writing 37 entities' states
included); and, on the real clock, the glucose core's own work per poll. Written to
`results/event_loop.json` (a quick run prints it only).
"""

from collections.abc import Awaitable, Callable, Generator
from datetime import UTC, datetime, timedelta
import json
import os
from pathlib import Path
import random
import statistics
import time
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.dexcom_share import coordinator
from custom_components.dexcom_share.const import CONF_REGION, CONF_REPORT_DAYS, DOMAIN
from custom_components.dexcom_share.coordinator import DexcomShareCoordinator
from custom_components.dexcom_share.glucose.analysis import build_snapshot
from custom_components.dexcom_share.glucose.history import ReadingHistory
from custom_components.dexcom_share.glucose.models import GlucoseReading, Thresholds, Trend
from custom_components.dexcom_share.glucose.planner import PollPlanner
from custom_components.dexcom_share.glucose.session import DEFAULT_SENSOR_TYPE
from custom_components.dexcom_share.glucose.snapshot import DisplayOptions
from custom_components.dexcom_share.glucose.units import MG_DL
from custom_components.dexcom_share.storage import async_entry_state
from share_simulator import Reading, ShareSimulator
from tests.helpers import advance

RESULTS = Path(__file__).parent / "results"
QUICK = bool(os.environ.get("BENCHMARK_QUICK"))
START = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
STORED_DAYS = 90
HOURS = 2 if QUICK else 6
UPLOAD_DELAY = timedelta(seconds=20)
PERIOD = timedelta(minutes=5)


def random_walk(rng: random.Random, count: int, end: datetime) -> list[GlucoseReading]:
    """`count` readings every 5 minutes up to `end`, wandering within 40-400 mg/dL."""
    value, readings = 120.0, []
    for index in range(count):
        value = min(400.0, max(40.0, value + rng.gauss(0, 6)))
        readings.append(
            GlucoseReading(end - PERIOD * (count - 1 - index), round(value), Trend.STEADY)
        )
    return readings


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@pytest.fixture(scope="module")
def figures() -> Generator[dict[str, Any]]:
    """Both tests' figures, written together when the module ends (a quick run prints them)."""
    collected: dict[str, Any] = {}
    yield collected
    print(json.dumps(collected, indent=2))
    if not QUICK and {"update_ms_median", "core_ms_per_poll"} <= collected.keys():
        (RESULTS / "event_loop.json").write_text(json.dumps(collected, indent=2) + "\n")


async def test_event_loop_per_poll(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    share: ShareSimulator,
    figures: dict[str, Any],
) -> None:
    """Measure; the figures go to the results, the README quotes them."""
    freezer.move_to(START)
    # The test harness runs the loop in debug mode, which records a traceback for every
    # callback; Home Assistant does not.
    hass.loop.set_debug(False)
    rng = random.Random(20261207)
    stored = random_walk(rng, STORED_DAYS * 288, START - timedelta(minutes=1))
    live = random_walk(rng, HOURS * 12, START - timedelta(minutes=1) + PERIOD * HOURS * 12)
    share_readings = [
        Reading(
            time=reading.time.timestamp(),
            value=reading.value,
            available_at=(reading.time + UPLOAD_DELAY).timestamp(),
        )
        for reading in [*stored[-288:], *live]
    ]
    account = share.state.add_account(
        username="loop",
        password="a password",  # noqa: S106
        readings=share_readings,
    )
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="loop",
        unique_id=account.account_id,
        data={CONF_USERNAME: "loop", CONF_PASSWORD: "a password", CONF_REGION: "us"},
        # The longest report: every stored day counts.
        options={CONF_REPORT_DAYS: str(STORED_DAYS)},
    )
    entry.add_to_hass(hass)
    state = await async_entry_state(hass, entry.entry_id)
    state.history, _ = ReadingHistory().merged(stored, START)

    update_ms: list[float] = []
    parts: dict[str, list[float]] = {"snapshot": [], "planner": []}
    running = dict.fromkeys(parts, 0.0)

    def timed(part: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                running[part] += (time.thread_time() - started) * 1000

        return call

    original: Callable[..., Awaitable[Any]] = DexcomShareCoordinator._async_update_data

    async def measured(self: DexcomShareCoordinator) -> Any:
        running.update(dict.fromkeys(parts, 0.0))
        started = time.thread_time()
        try:
            return await original(self)
        finally:
            update_ms.append((time.thread_time() - started) * 1000)
            for part, values in parts.items():
                values.append(running[part])

    loop_ms: list[float] = []
    with (
        patch.object(DexcomShareCoordinator, "_async_update_data", measured),
        patch.object(coordinator, "build_snapshot", timed("snapshot", coordinator.build_snapshot)),
        patch.object(PollPlanner, "observe", timed("planner", PollPlanner.observe)),
        patch.object(PollPlanner, "next_poll", timed("planner", PollPlanner.next_poll)),
    ):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        first = len(update_ms)
        for _ in range(HOURS * 60):
            polls = len(update_ms)
            started = time.thread_time()
            await advance(hass, freezer, timedelta(minutes=1))
            if len(update_ms) > polls:
                loop_ms.append((time.thread_time() - started) * 1000)
        await hass.config_entries.async_unload(entry.entry_id)
    polls = update_ms[first:]
    figures |= {
        "stored_days": STORED_DAYS,
        "stored_readings": len(stored),
        "polls": len(polls),
        "update_ms_median": round(statistics.median(polls), 2),
        "update_ms_p95": round(percentile(polls, 0.95), 2),
        "first_update_ms": round(update_ms[0], 1),
        "snapshot_ms_median": round(statistics.median(parts["snapshot"][first:]), 2),
        "snapshot_ms_p95": round(percentile(parts["snapshot"][first:], 0.95), 2),
        "planner_ms_median": round(statistics.median(parts["planner"][first:]), 2),
        "planner_ms_p95": round(percentile(parts["planner"][first:], 0.95), 2),
        "loop_ms_per_poll_median": round(statistics.median(loop_ms), 2),
        "loop_ms_per_poll_p95": round(percentile(loop_ms, 0.95), 2),
    }
    assert len(polls) >= HOURS * 12


def test_core_per_poll(figures: dict[str, Any]) -> None:
    """The glucose core's work per poll on the real clock (the test clock is slower).

    Merge a new reading into the 90 days, find what it added, and build the snapshot
    (every figure, the 90-day report and the sensor session), for 100 polls.
    """
    stored = random_walk(random.Random(20261207), STORED_DAYS * 288, START)
    history, _ = ReadingHistory().merged(stored, START)
    options = DisplayOptions(MG_DL, timedelta(minutes=30), Thresholds(), DEFAULT_SENSOR_TYPE, 90)
    rng = random.Random(20261208)
    spent = []
    for poll in range(100):
        now = START + PERIOD * (poll + 1)
        fetched = [GlucoseReading(now - UPLOAD_DELAY, rng.randint(40, 400), Trend.STEADY)]
        started = time.perf_counter()
        held = history
        history, _ = held.merged(fetched, now)
        new = history.newly_held(held, fetched)
        build_snapshot(
            history,
            new,
            generation=poll,
            options=options,
            now=now,
            merged_at=now,
            sensor_started=None,
            problem=None,
            share_empty=False,
            share_answered=True,
            normal_delay=timedelta(seconds=30),
        )
        spent.append((time.perf_counter() - started) * 1000)
    figures["core_ms_per_poll"] = {
        "median": round(statistics.median(spent), 2),
        "p95": round(percentile(spent, 0.95), 2),
    }
