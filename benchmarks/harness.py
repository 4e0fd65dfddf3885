"""Run one integration for 24 simulated hours against the Share simulator and measure it.

Both integrations run in Home Assistant's test harness with time travel: the clock
jumps from one pending timer to the next, and every step waits for the background
tasks the timers start (a coordinator's refresh runs as one), so no integration is
seen slower than it is. After every step the glucose sensor's state is checked; the
first moment it shows a reading is that reading's display time.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import statistics
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from share_simulator import Reading, ShareSimulator, TraceProfile, generate_trace
from share_simulator.model import LOGINS, READ
from tests.helpers import step

START = datetime.fromisoformat("2026-11-21T00:00:00+00:00")
DAY = timedelta(hours=24)
USERNAME = "bench@example.com"
PASSWORD = "bench-password"  # noqa: S105 - simulator account
# One 40-minute signal loss in the afternoon; its readings arrive at once afterwards.
PROFILE = TraceProfile(signal_losses=((14 * 3600, 40 * 60),))
SEED = 2026
# Readings that became available this close to the end are not judged.
TAIL = timedelta(minutes=15)


def day_trace() -> list[Reading]:
    """The shared trace: yesterday as history, then the measured day."""
    return generate_trace((START - DAY).timestamp(), (START + DAY).timestamp(), PROFILE, SEED)


@dataclass
class RunResult:
    """What one integration did on the trace."""

    name: str
    lags: list[float] = field(default_factory=list)
    missed: int = 0
    missed_long: int = 0
    reads: int = 0
    readings: int = 0
    logins: int = 0
    parameters: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Figures for the JSON report."""
        ordered = sorted(self.lags)
        return {
            "name": self.name,
            "parameters": self.parameters,
            "median_lag_s": round(statistics.median(ordered), 1),
            "p95_lag_s": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
            "max_lag_s": round(ordered[-1], 1),
            "readings_shown": len(ordered),
            "never_shown": self.missed,
            "never_shown_newest_60s": self.missed_long,
            "reads": self.reads,
            "readings": self.readings,
            "reads_per_reading": round(self.reads / self.readings, 3),
            "logins_24h_after_setup": self.logins,
        }


async def run_day(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    share: ShareSimulator,
    name: str,
    entry: MockConfigEntry,
    entity_id: str,
    shown_reading_time: Callable[[MockConfigEntry], datetime | None],
) -> RunResult:
    """Set `entry` up at START and let 24 hours pass."""
    freezer.move_to(START)
    trace = day_trace()
    share.state.add_account(username=USERNAME, password=PASSWORD, readings=trace)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    reads_at_setup = share.state.request_count(READ)
    logins_at_setup = sum(share.state.request_count(endpoint) for endpoint in LOGINS)

    first_shown: dict[int, float] = {}
    end = START + DAY

    def record() -> None:
        state = hass.states.get(entity_id)
        taken = shown_reading_time(entry)
        if state is None or taken is None or not state.state.replace(".", "").isdigit():
            return
        first_shown.setdefault(round(taken.timestamp() * 1000), dt_util.utcnow().timestamp())

    record()
    while dt_util.utcnow() < end:
        await step(hass, freezer, end)
        record()

    result = RunResult(name=name)
    result.reads = share.state.request_count(READ) - reads_at_setup
    result.logins = sum(share.state.request_count(e) for e in LOGINS) - logins_at_setup
    _judge(result, trace, first_shown)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return result


def _judge(result: RunResult, trace: list[Reading], first_shown: dict[int, float]) -> None:
    """Lag of every reading that was the newest on Share at some moment."""
    start, end = START.timestamp(), (START + DAY - TAIL).timestamp()
    by_time = sorted(trace, key=lambda reading: reading.time)
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
        shown = first_shown.get(int(reading.time * 1000))
        if shown is None:
            result.missed += 1
            result.missed_long += superseded - available >= 60
        else:
            result.lags.append(max(0.0, shown - available))
