"""Freshness benchmark: this integration against Home Assistant's built-in `dexcom`.

Run with `scripts/benchmark`. Each case runs one integration through the same 24-hour
trace (a reading every ~300 s; upload delays mostly 8-35 s, some 35-120 s, a few
2-5 min; one 40-minute signal loss whose readings arrive at once). The figures go to
`benchmarks/results/freshness.json` and the chart to `benchmarks/results/freshness.png`.
Set BENCHMARK_QUICK=1 for a smoke run of the chosen configuration only.
"""

from collections.abc import Generator
from datetime import datetime
from functools import partial
import os
from pathlib import Path
import random
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.dexcom_share.const import DOMAIN
from custom_components.dexcom_share.schedule import PollPlanner, PollTuning
from share_simulator import ShareSimulator

from .harness import PASSWORD, SEED, USERNAME, RunResult, run_day

RESULTS = Path(__file__).parent / "results"
QUICK = bool(os.environ.get("BENCHMARK_QUICK"))
CHOSEN = PollTuning()
# The trade-off curve: how often the first poll may come too early, and the retry ladder.
SWEEP = [
    PollTuning(first_poll_miss_rate=rate, retry_gaps=gaps)
    for rate in (0.1, 0.2, 0.3, 0.4, 0.5)
    for gaps in ((10.0, 60.0, 60.0, 120.0), (20.0, 60.0, 120.0))
    if not (rate == CHOSEN.first_poll_miss_rate and gaps == CHOSEN.retry_gaps)
]


def tuning_parameters(tuning: PollTuning) -> dict[str, Any]:
    """The knobs that differ between sweep points."""
    return {"first_poll_miss_rate": tuning.first_poll_miss_rate, "retry_gaps": tuning.retry_gaps}


@pytest.fixture(scope="session")
def results() -> Generator[dict[str, Any]]:
    """Collect every run; write the report when the session ends."""
    collected: dict[str, Any] = {"runs": []}
    yield collected
    if "ours" in collected or collected["runs"]:
        from .report import write_report  # noqa: PLC0415 - matplotlib only when reporting

        write_report(collected, RESULTS, quick=QUICK)


def ours_shown(entry: MockConfigEntry) -> datetime | None:
    reading = entry.runtime_data.data.current(dt_util.utcnow())
    return reading.time if reading else None


def builtin_shown(entry: MockConfigEntry) -> datetime | None:
    reading = entry.runtime_data.data
    return reading.datetime if reading else None


async def run_ours(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, share: ShareSimulator, tuning: PollTuning
) -> RunResult:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=USERNAME,
        unique_id="bench",
        data={"username": USERNAME, "password": PASSWORD, "region": "us"},
    )
    with patch(
        "custom_components.dexcom_share.coordinator.PollPlanner",
        partial(PollPlanner, tuning, random.Random(SEED)),
    ):
        result = await run_day(
            hass,
            freezer,
            share,
            "dexcom_share",
            entry,
            "sensor.dexcom_bench_example_com_glucose_value",
            ours_shown,
        )
    result.parameters = tuning_parameters(tuning)
    return result


async def test_dexcom_share(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    share: ShareSimulator,
    results: dict[str, Any],
) -> None:
    """Run dexcom_share with the chosen tuning."""
    result = await run_ours(hass, freezer, share, CHOSEN)
    results["ours"] = result.summary()
    results["ours_lags"] = result.lags
    assert result.readings > 250


async def test_builtin_dexcom(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    share: ShareSimulator,
    results: dict[str, Any],
) -> None:
    """Home Assistant's own dexcom integration, as shipped."""
    if QUICK:
        pytest.skip("quick run: the chosen configuration only")
    entry = MockConfigEntry(
        domain="dexcom",
        title=USERNAME,
        unique_id=USERNAME,
        data={"username": USERNAME, "password": PASSWORD, "server": "US"},
    )
    result = await run_day(
        hass,
        freezer,
        share,
        "dexcom (built-in)",
        entry,
        "sensor.bench_example_com_glucose_value",
        builtin_shown,
    )
    results["builtin"] = result.summary()
    results["builtin_lags"] = result.lags
    assert result.readings > 250


@pytest.mark.parametrize(
    "tuning",
    SWEEP,
    ids=lambda t: (
        f"miss{t.first_poll_miss_rate}-ladder{'-'.join(str(int(g)) for g in t.retry_gaps)}"
    ),
)
async def test_tradeoff(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    share: ShareSimulator,
    results: dict[str, Any],
    tuning: PollTuning,
) -> None:
    """One point of the lag / reads-per-reading curve."""
    if QUICK:
        pytest.skip("quick run: the chosen configuration only")
    result = await run_ours(hass, freezer, share, tuning)
    results["runs"].append(result.summary())
    assert result.readings > 250
