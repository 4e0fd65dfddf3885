"""The planner against the oracle over a family of days, not one.

A day of one account holds about 280 readings: its p95 lag rests on the 14 slowest,
and two runs of the same trace differ by several seconds on it. So each trace is also
judged over `DAYS` days, each with its own seed (its own delays, period jitter and
sensor phase), by replaying the planner as shipped against the readings without Home
Assistant or HTTP (`harness.replay`: the same `observe` and `next_poll` calls the
coordinator makes), pooled:

- steady state: the planner learned the day before, against the oracle, pooled and
  day by day (a single day strays, as each account of the 20-account run does), and
  the same for the planner told each reading's exact delay (`ToldPlanner`);
- a new account: the first three hours from the prior, also for the same planner
  told each reading's exact delay (`ToldPlanner`): what the polls' brackets cost;
- after a restart: the planner saved and loaded (as the entry's Store does) every
  three hours, each first hour after one judged;
- the cost the planner minimises: the mean lag plus the price per read times the
  reads per reading, against the oracle's.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
import itertools
import random
import statistics
from typing import Any

from custom_components.dexcom_share.glucose.optimiser import PollTuning
from custom_components.dexcom_share.glucose.planner import PollPlanner
from share_simulator import Reading

from .harness import (
    DAY,
    SEED,
    START,
    Result,
    judge_day,
    judge_replay,
    lag_figures,
    pretrained,
    replay,
    trace_readings,
    warm_up,
)
from .oracle import KnownDelays, ToldPlanner, Trace

DAYS = 24
RESTART_EVERY = timedelta(hours=3)
HOUR = 3600.0


def _judge_restarted(
    readings: list[Reading],
    planner: PollPlanner,
    tuning: PollTuning,
    seed: int,
    restarts: Sequence[timedelta],
) -> Result:
    """Replay the measured day, the planner saved and loaded at each of `restarts`.

    Like a restart of Home Assistant: the first read after one takes Share's whole
    day and teaches nothing; the estimate comes back from its stored form.
    """
    shown: dict[int, float] = {}
    polls = 0
    bounds = [START, *(START + at for at in restarts), START + DAY]
    for index, (start, end) in enumerate(itertools.pairwise(bounds)):
        if index:
            rng = random.Random(f"{seed} restart {index}")
            planner = PollPlanner.from_dict(planner.to_dict(), tuning, rng)
        part, count = replay(readings, planner, start, end)
        for key, at in part.items():
            shown.setdefault(key, at)
        polls += count
    return judge_day("restarted", readings, shown, polls - 1)


def _pooled(
    results: Iterable[Result],
    hours: Callable[[float], bool] | None = None,
    price: float = PollTuning().price_per_read,
) -> dict[str, Any]:
    """Median and p95 lag over the readings of all days (within `hours`, if given).

    Over whole days also the reads per reading, the readings never shown and the
    cost the planner minimises: mean lag plus `price` per read per reading.
    """
    results = list(results)
    lags = [lag for result in results for at, lag in result.lags if hours is None or hours(at)]
    figures: dict[str, Any] = {**lag_figures(lags), "readings_judged": len(lags)}
    if hours is None:
        reads = sum(result.reads for result in results) / sum(r.readings for r in results)
        figures |= {
            "reads_per_reading": round(reads, 3),
            "cost_s": round(statistics.fmean(lags) + price * reads, 2),
            "never_shown": sum(result.missed for result in results),
            "never_shown_newest_60s": sum(result.missed_long for result in results),
        }
    return figures


def _day_medians_minus(results: Sequence[Result], best: Sequence[Result]) -> list[float]:
    """Each day's median lag minus the oracle's on the same day."""
    return [
        round(
            lag_figures(lag for _, lag in day.lags)["median_lag_s"]
            - lag_figures(lag for _, lag in oracle.lags)["median_lag_s"],
            1,
        )
        for day, oracle in zip(results, best, strict=True)
    ]


@dataclass
class FamilyRun:
    """One trace over `days` days: what each way of running the planner showed."""

    trace: Trace
    tuning: PollTuning
    days: int = DAYS

    def measure(self) -> dict[str, Any]:
        """Pooled figures: steady state, new account, after restarts, the oracle, cost."""
        steady, best, new, told, told_steady, restarted = [], [], [], [], [], []
        restarts = [RESTART_EVERY * index for index in range(1, 8)]
        for day in range(self.days):
            seed = SEED + 1000 + day
            readings = trace_readings(self.trace, seed, phase=random.Random(seed).uniform(0, 300))
            # The planners' own draws (jitter, probes), apart from the trace's.
            draws = f"{seed} planner"
            warm = pretrained(readings, self.tuning, draws)
            planner = PollPlanner.from_dict(warm, self.tuning, random.Random(draws))
            steady.append(judge_replay("steady", readings, planner))
            oracle = PollPlanner(self.tuning, random.Random(draws), KnownDelays(self.trace.cdf))
            best.append(judge_replay("oracle", readings, oracle))
            fresh = PollPlanner(self.tuning, random.Random(draws))
            new.append(judge_replay("new account", readings, fresh))
            told_fresh = ToldPlanner(self.tuning, random.Random(draws), readings)
            told.append(judge_replay("told delays", readings, told_fresh))
            told_warm = ToldPlanner(self.tuning, random.Random(draws), readings)
            warm_up(readings, told_warm)
            told_steady.append(judge_replay("told delays, steady", readings, told_warm))
            warm_again = PollPlanner.from_dict(warm, self.tuning, random.Random(draws))
            restarted.append(_judge_restarted(readings, warm_again, self.tuning, seed, restarts))

        def first_hour_after_restart(at: float) -> bool:
            return any(0 <= at - restart.total_seconds() < HOUR for restart in restarts)

        def in_hour(hour: int) -> Callable[[float], bool]:
            return lambda at: hour * HOUR <= at < (hour + 1) * HOUR

        price = self.tuning.price_per_read
        return {
            "days": self.days,
            "ours": _pooled(steady, price=price),
            "oracle": _pooled(best, price=price),
            "told_delays": _pooled(told_steady, price=price),
            # One day's figures against the oracle's on the same day, for each day: how
            # far a single account's day (as in the 20-account run) strays.
            "single_days_median_minus_oracle": {
                "ours": _day_medians_minus(steady, best),
                "told_delays": _day_medians_minus(told_steady, best),
            },
            "new_account_hours": [
                {
                    "ours": _pooled(new, in_hour(hour)),
                    "told_delays": _pooled(told, in_hour(hour)),
                    "oracle": _pooled(best, in_hour(hour)),
                }
                for hour in range(3)
            ],
            "first_hour_after_restart": {
                "ours": _pooled(restarted, first_hour_after_restart),
                "not_restarted": _pooled(steady, first_hour_after_restart),
                "oracle": _pooled(best, first_hour_after_restart),
            },
        }
