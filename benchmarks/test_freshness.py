"""Freshness benchmark: this integration against the best fixed schedule and the built-in.

Run with `scripts/benchmark`. For each trace (`oracle.TRACES`: the current delay mix,
a heavier tail, a slow uploader, a bimodal phone, a drift from fast to slow; each with
period jitter and one backfilled 40-minute signal loss) over the same 24 hours:

- dexcom_share as a running installation (its planner learned the day before);
- dexcom_share for a new account, restarted (reloaded) at 21:00: the learning curve;
- the oracle: the best fixed schedule at the same price per read;
- Home Assistant's built-in `dexcom` integration.

Then the trade-off curve over the price per read; 20 accounts in one Home Assistant
(worst account, Share requests per second, CPU per poll, threads); and the heap per
account over a day and a half.
Figures go to `benchmarks/results/freshness.json`, the chart to `freshness.png`.
BENCHMARK_QUICK=1 runs only the current mix, ours and the oracle (a smoke run).
"""

from collections.abc import Generator
from contextlib import nullcontext
from datetime import timedelta
import os
from pathlib import Path
import random
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from custom_components.dexcom_share.glucose.optimiser import PollTuning
from custom_components.dexcom_share.glucose.planner import PollPlanner
from share_simulator import ShareSimulator

from .family import DAYS, FamilyRun
from .harness import (
    RESTART_AT,
    SEED,
    Account,
    judge_replay,
    learning,
    oracle,
    pretrained,
    run,
    trace_readings,
)
from .oracle import TRACES, KnownDelays
from .readme import write as write_page
from .single_days import IDEALISED, replay_days

RESULTS = Path(__file__).parent / "results"
QUICK = bool(os.environ.get("BENCHMARK_QUICK"))
CHOSEN = PollTuning()
# The chosen price (10) is measured with the traces.
PRICES = (5.0, 15.0, 30.0)
VARIANTS = ("ours", "new_account", "oracle", "builtin")
ACCOUNTS = 20
HEAP_HOURS = 36
# Home Assistant's sub-second offset for every coordinator in the whole-seconds run.
LATE_OFFSET_US = 450_000


@pytest.fixture(scope="session")
def results() -> Generator[dict[str, Any]]:
    """Collect every run; write the report and benchmarks/README.md when the session ends.

    A partial run (`-k`) only prints its figures: the report stays whole.
    """
    collected: dict[str, Any] = {"traces": {}, "tradeoff": [], "learning": {}}
    yield collected
    from .report import print_figures, write_report  # noqa: PLC0415 - matplotlib only here

    complete = all(set(VARIANTS) <= runs.keys() for runs in collected["traces"].values()) and len(
        collected["traces"]
    ) == len(TRACES)
    complete = complete and len(collected.get("family", {})) == len(TRACES)
    complete = complete and {"accounts", "accounts_whole_seconds"} <= collected.keys()
    if QUICK or (complete and "heap_per_account_kib" in collected):
        write_report(collected, RESULTS, quick=QUICK)
        if not QUICK:
            # benchmarks/README.md from the new freshness.json (and single_days.json).
            write_page(RESULTS)
    else:
        print_figures(collected)


def accounts_for(variant: str, trace_name: str, tuning: PollTuning = CHOSEN) -> Account:
    """The account of one run: the trace's readings and who follows them."""
    trace = TRACES[trace_name]
    readings = trace_readings(trace)
    if variant == "builtin":
        return Account(f"builtin-{trace_name}", readings, domain="dexcom")
    if variant == "oracle":
        return Account(f"oracle-{trace_name}", readings, planner=oracle(tuning, SEED, trace.cdf))
    warm = pretrained(readings, tuning, SEED) if variant == "ours" else None
    return Account(f"{variant}-{trace_name}", readings, planner=learning(tuning, SEED, warm))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("trace_name", list(TRACES))
async def test_trace(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    share: ShareSimulator,
    results: dict[str, Any],
    trace_name: str,
    variant: str,
) -> None:
    """One integration on one trace for the measured day."""
    if QUICK and (trace_name != "mix" or variant not in {"ours", "oracle"}):
        pytest.skip("quick run: the current mix, ours and the oracle")
    account = accounts_for(variant, trace_name)
    restart = RESTART_AT if variant == "new_account" else None
    outcome, _ = await run(hass, freezer, share, [account], restart_at=restart)
    result = outcome[account.key]
    summary = result.summary()
    results["traces"].setdefault(trace_name, {"title": TRACES[trace_name].title})[variant] = {
        **summary,
        "lags": [round(lag, 1) for _, lag in result.lags],
    }
    if variant in {"new_account", "oracle"}:
        curve = results["learning"].setdefault(trace_name, {})
        curve[variant] = {
            "first_hours": result.hourly(timedelta(0), 3),
            "after_restart": result.hourly(RESTART_AT, 3),
        }
        if variant == "new_account":
            curve["readings_learned_when_restarted"] = result.readings_learned_after_restart
    assert result.readings > 250


@pytest.mark.parametrize("trace_name", list(TRACES))
def test_family(results: dict[str, Any], trace_name: str) -> None:
    """The planner replayed over `DAYS` days of one trace, pooled, against the oracle."""
    if QUICK and trace_name != "mix":
        pytest.skip("quick run: the current mix, one day")
    figures = FamilyRun(TRACES[trace_name], CHOSEN, days=1 if QUICK else DAYS).measure()
    results.setdefault("family", {})[trace_name] = figures
    assert figures["ours"]["readings_judged"] > 250 * figures["days"]


@pytest.mark.parametrize("kind", ["ours", "oracle"])
@pytest.mark.parametrize("price", PRICES)
async def test_tradeoff(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    share: ShareSimulator,
    results: dict[str, Any],
    price: float,
    kind: str,
) -> None:
    """One point of the lag / reads-per-reading curve on the current mix."""
    if QUICK:
        pytest.skip("quick run: no trade-off curve")
    account = accounts_for(kind, "mix", PollTuning(price_per_read=price))
    outcome, _ = await run(hass, freezer, share, [account])
    summary = outcome[account.key].summary()
    results["tradeoff"].append({"kind": kind, "price_per_read": price, **summary})
    assert outcome[account.key].readings > 250


@pytest.mark.parametrize(
    ("key", "whole_seconds"), [("accounts", False), ("accounts_whole_seconds", True)]
)
async def test_twenty_accounts(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    share: ShareSimulator,
    results: dict[str, Any],
    key: str,
    whole_seconds: bool,
) -> None:
    """20 accounts in one Home Assistant, each sensor on its own 5-minute rhythm.

    Four accounts per trace, each with its own readings and delays; every one is
    compared with the best fixed schedule for its trace, replayed on its readings.
    Run twice: timers at their own moments, and at whole seconds only with every
    coordinator's sub-second offset at 0.45 s (each refresh up to a second late, as
    when the pacer's livelock stopped entries).
    """
    if QUICK:
        pytest.skip("quick run: one account")
    rng = random.Random(SEED)
    names = list(TRACES)
    accounts, oracles = [], {}
    for index in range(ACCOUNTS):
        trace = TRACES[names[index % len(names)]]
        readings = trace_readings(trace, SEED + index, phase=rng.uniform(0, 300))
        name = f"account{index:02d}-{trace.name}"
        warm = pretrained(readings, CHOSEN, SEED + index)
        accounts.append(Account(name, readings, planner=learning(CHOSEN, SEED + index, warm)))
        best = PollPlanner(CHOSEN, random.Random(SEED + index), KnownDelays(trace.cdf))
        oracles[name] = judge_replay(name, readings, best)
    offset = patch("homeassistant.helpers.update_coordinator.randint", return_value=LATE_OFFSET_US)
    with offset if whole_seconds else nullcontext():
        outcome, stats = await run(hass, freezer, share, accounts, whole_seconds=whole_seconds)
    results[key] = {
        "accounts": {
            name: {
                **result.summary(),
                "lags": [lag for _, lag in result.lags],
                "oracle": {
                    **oracles[name].summary(),
                    "lags": [lag for _, lag in oracles[name].lags],
                },
            }
            for name, result in outcome.items()
        },
        "max_requests_per_second": stats.max_requests_per_second,
        "max_requests_per_second_after_setup": stats.max_requests_per_second_after_setup,
        "max_threads": stats.max_threads,
        "process_cpu_ms_per_poll": stats.process_cpu_ms_per_poll,
    }
    assert all(result.readings > 250 for result in outcome.values())


async def test_heap_per_account(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    share: ShareSimulator,
    results: dict[str, Any],
) -> None:
    """The Python heap an account costs (tracemalloc) over a day and a half.

    Tracing every allocation slows Python threefold, so this runs two accounts, not 20.
    A first short run loads the code, which no account pays for.
    """
    if QUICK:
        pytest.skip("quick run: no heap")
    warm_up = Account("warm-up", trace_readings(TRACES["mix"]), planner=learning(CHOSEN, SEED))
    await run(hass, freezer, share, [warm_up], length=timedelta(minutes=30))
    accounts = [
        Account(
            f"heap{index}-{name}",
            trace_readings(TRACES[name], SEED + index, days=3),
            planner=learning(CHOSEN, SEED + index),
        )
        for index, name in enumerate(("mix", "bimodal"))
    ]
    length = HEAP_HOURS * timedelta(hours=1)
    marks = tuple(timedelta(hours=hours) for hours in (6, 12, 24, HEAP_HOURS))
    _, stats = await run(hass, freezer, share, accounts, length=length, heap_at=marks)
    results["heap_per_account_kib"] = stats.heap_per_account_kib
    assert stats.heap_per_account_kib


@pytest.mark.parametrize(
    "learner", ["ours", "told_free_forever_no_margin", "told_free_last_day_exact"]
)
def test_single_days_replay(learner: str) -> None:
    """One day of `single_days.py`'s replay (on its own it takes 22 minutes).

    The idealised learners' constants are put back after it, for the planner as shipped.
    """
    shipped = {name: getattr(module, name) for name, module in IDEALISED.items()}
    _, _, rows = replay_days((learner, "mix", 1))
    assert len(rows) == 1
    *_, missed, later_plan_share = rows[0]
    assert missed >= 0
    assert 0 <= later_plan_share <= 1
    assert {name: getattr(module, name) for name, module in IDEALISED.items()} == shipped
