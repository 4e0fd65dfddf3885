"""Render benchmarks/README.md from the committed results, every figure from the JSON.

`python -m benchmarks.readme` writes it again; the full benchmark run does so at its end.
"""

import json
from pathlib import Path
import statistics
from typing import Any

HERE = Path(__file__).parent
RESULTS = HERE / "results"
PAGE = HERE / "README.md"
# The targets, against the oracle (as in report.py, which needs matplotlib).
MEDIAN_WITHIN = 3.0
P95_WITHIN = 10.0
READS_WITHIN = 0.1
# Typeset in the page: a real minus sign and an en dash for ranges.
MINUS = "\N{MINUS SIGN}"
DASH = "\N{EN DASH}"
TRACE_LABELS = {
    "mix": "Current mix",
    "heavy_tail": "Heavier tail",
    "slow": "Slow uploader",
    "bimodal": "Bimodal phone",
    "drift": "Drift to slow",
}
LEARNER_LABELS = {
    "ours": "this integration",
    "told": "this estimator told each reading's exact delay (same rules, probes included)",
    "told_free": "told, and learning free (no probes, no first hour's grid)",
    "told_free_forever": "told, free, forgetting nothing",
    "told_free_forever_no_margin": "told, free, forgetting nothing, no switching margin",
    "told_free_last_day_exact": (
        "planning at every reading from the last 288 exact delays"
        " (no prior, no smoothing, no margin, free)"
    ),
}


def signed(value: float, digits: int = 1) -> str:
    """+1.4 or -0.1 (with a real minus sign): a difference."""
    return f"{value:+.{digits}f}".replace("-", MINUS)


def number(value: float, digits: int = 1) -> str:
    """A figure, with a real minus sign."""
    return f"{value:.{digits}f}".replace("-", MINUS)


def trio(figures: dict[str, Any], *, bold: bool = False, seconds: bool = False) -> str:
    """Median / p95 / reads per reading."""
    unit = " s" if seconds else ""
    text = (
        f"{number(figures['median_lag_s'])}{unit} / {number(figures['p95_lag_s'])}{unit}"
        f" / {number(figures['reads_per_reading'], 2)}"
    )
    return f"**{text}**" if bold else text


def differences(figures: dict[str, Any]) -> str:
    """Median / p95 / reads minus the oracle's."""
    return (
        f"{signed(figures['median_lag_s'])} / {signed(figures['p95_lag_s'])}"
        f" / {signed(figures['reads_per_reading'], 2)}"
    )


def lag_pair(figures: dict[str, Any]) -> str:
    """Median / p95 lag minus the oracle's."""
    return f"{signed(figures['median_lag_s'])} / {signed(figures['p95_lag_s'])}"


def met(figures: dict[str, Any]) -> str:
    """Whether a comparison is within the targets."""
    return "met" if figures["within_targets"] else "**missed**"


def label(name: str) -> str:
    """A trace's name in a table."""
    return TRACE_LABELS.get(name, name)


def share_percent(probability: float) -> str:
    """A probability as a percentage; the JSON rounds to 0.1 %."""
    return "< 0.1 %" if probability < 0.001 else f"{probability * 100:.1f} %"


def _one_day(report: dict[str, Any]) -> list[str]:
    traces = report["traces"]
    lines = [
        "## One day in Home Assistant",
        "",
        "Test harness, time travel, real pydexcom and HTTP against the Share simulator; this",
        "integration as a running installation (its estimate learned the day before). Median /",
        "p95 lag (s) / reads per reading (`traces` in `freshness.json`).",
        "",
        "| Trace | dexcom_share | new account | oracle | built-in dexcom"
        f" | ours {MINUS} oracle | targets |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, entry in traces.items():
        lines.append(
            f"| {label(name)} | {trio(entry['ours'], bold=True, seconds=True)}"
            f" | {trio(entry['new_account'])} | {trio(entry['oracle'])}"
            f" | {trio(entry['builtin'])} | {differences(entry['ours_minus_oracle'])}"
            f" | {met(entry['ours_minus_oracle'])} |"
        )
    never = [
        ", ".join(str(entry[variant]["never_shown_newest_60s"]) for entry in traces.values())
        for variant in ("ours", "new_account", "oracle", "builtin")
    ]
    lines.append(f"| Never shown (newest ≥ 1 min) | {' | '.join(never)} | | |")
    medians = [entry["builtin_over_ours"]["median_lag_s"] for entry in traces.values()]
    reads = [
        entry["ours"]["reads_per_reading"] / entry["builtin"]["reads_per_reading"]
        for entry in traces.values()
    ]
    lines += [
        "",
        "The built-in integration's median lag is"
        f" {min(medians):.1f}{DASH}{max(medians):.1f} times",
        f"this integration's, which reads {min(reads):.2f}{DASH}{max(reads):.2f} times as often.",
        "A single day strays: the 24 days per trace below are the judgement.",
        "",
    ]
    return lines


def _family(report: dict[str, Any]) -> list[str]:
    family = report["family"]
    days = next(iter(family.values()))["days"]
    price = number(report["price_per_read_s"], 0)
    lines = [
        f"## {days} days per trace",
        "",
        f"Each trace replayed on {days} more days, each with its own seed (delays, period",
        "jitter, sensor phase) and warmed up on its own day before, by the planner as shipped",
        "without Home Assistant or HTTP (the same `observe` and `next_poll` calls the",
        "coordinator makes), pooled (`family` in `freshness.json`). *Cost* is what the planner",
        f"minimises: the mean lag plus {price} s per read per reading. *Told delays* is the same",
        "planner told each reading's exact delay instead of the two polls between which it",
        "arrived.",
        "",
        f"| Trace | dexcom_share | oracle | ours {MINUS} oracle | cost: ours / oracle | targets"
        f" | told delays {MINUS} oracle |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, entry in family.items():
        ours, best = entry["ours"], entry["oracle"]
        lines.append(
            f"| {label(name)} | {trio(ours, bold=True, seconds=True)} | {trio(best)}"
            f" | {differences(entry['ours_minus_oracle'])}"
            f" | {number(ours['cost_s'])} / {number(best['cost_s'])} s"
            f" | {met(entry['ours_minus_oracle'])}"
            f" | {differences(entry['told_delays_minus_oracle'])} |"
        )
    never = sum(
        entry[variant]["never_shown_newest_60s"]
        for entry in family.values()
        for variant in ("ours", "oracle")
    )
    lines += [
        "",
        f"Readings never shown (newest ≥ 1 min), this integration and the oracle, in"
        f" {days * len(family)} days: {never}.",
        "",
        "**Single days**: each day's median lag minus the oracle's on that day"
        " (`single_days_median_minus_oracle`).",
        "",
        f"| Trace | dexcom_share: lowest / median / highest | days within {MEDIAN_WITHIN:g} s"
        " | told delays: lowest / median / highest | days within |",
        "|---|---|---|---|---|",
    ]
    for name, entry in family.items():
        cells = []
        for planner in ("ours", "told_delays"):
            spread = entry["single_days"][planner]
            cells.append(
                f"{signed(spread['median_minus_oracle_min'])}"
                f" / {signed(spread['median_minus_oracle_median'], 2)}"
                f" / {signed(spread['median_minus_oracle_max'])} s"
                f" | {spread['days_median_within']} of {spread['days']}"
            )
        lines.append(f"| {label(name)} | {' | '.join(cells)} |")
    lines.append("")
    return lines


def _learning(report: dict[str, Any]) -> list[str]:
    family = report["family"]
    days = next(iter(family.values()))["days"]
    lines = [
        "## A new account, and after a restart",
        "",
        "Median / p95 lag (s) minus the oracle's in the same hours, over the same "
        f"{days} days pooled.",
        "A new account has no stored estimate and starts from the prior of a typical phone;",
        "*told* is the same new account told each reading's exact delay. After a restart",
        "the estimate comes back from the entry's storage; the replay restarts every 3 hours",
        "and reads at once after each, like the integration.",
        "",
        "| Trace | new account: 1st hour | 2nd hour | 3rd hour | told: 1st / 2nd / 3rd hour"
        " | 1st hour after a restart | … minus not restarted |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, entry in family.items():
        hours = [lag_pair(hour) for hour in entry["new_account_minus_oracle"]]
        told = ", ".join(
            signed(hour["median_lag_s"]) for hour in entry["told_delays_new_account_minus_oracle"]
        )
        lines.append(
            f"| {label(name)} | {' | '.join(hours)} | {told} (median)"
            f" | {lag_pair(entry['after_restart_minus_oracle'])}"
            f" {met(entry['after_restart_minus_oracle'])}"
            f" | {lag_pair(entry['after_restart_minus_not_restarted'])} |"
        )
    lines.append("")
    return lines


def _tradeoff(report: dict[str, Any]) -> list[str]:
    price = report["price_per_read_s"]
    mix = report["traces"]["mix"]
    points = [*report["tradeoff"]]
    points += [{**mix[kind], "kind": kind, "price_per_read": price} for kind in ("ours", "oracle")]
    prices = sorted({point["price_per_read"] for point in points})
    by = {(point["kind"], point["price_per_read"]): point for point in points}
    lines = [
        "## Trade-off over the price per read",
        "",
        "The current mix, one day, as the price per read (seconds of lag one read is worth)",
        f"goes from {prices[0]:g} to {prices[-1]:g} s; the integration ships with {price:g} s."
        " Median / p95 lag (s) / reads per reading (`tradeoff`).",
        "",
        "| Price per read | dexcom_share | oracle |",
        "|---|---|---|",
    ]
    for value in prices:
        chosen = " (chosen)" if value == price else ""
        lines.append(
            f"| {value:g} s{chosen} | {trio(by['ours', value])} | {trio(by['oracle', value])} |"
        )
    lines.append("")
    return lines


def _accounts(report: dict[str, Any]) -> list[str]:
    runs = {
        "every timer on time": report["accounts"],
        "whole-second timers": report["accounts_whole_seconds"],
    }

    def row(title: str, value: Any) -> str:
        return f"| {title} | {' | '.join(value(figures) for figures in runs.values())} |"

    def worst(figures: dict[str, Any]) -> str:
        account = figures["worst_account"]
        return f"{account['key']}: {differences(account['minus_oracle'])}"

    def largest(figures: dict[str, Any]) -> str:
        return differences(figures["largest_difference_from_oracle"])

    def planner(figures: dict[str, Any]) -> str:
        mean = statistics.mean(
            account.get("planner_cpu_ms_per_poll", 0.0) for account in figures["accounts"].values()
        )
        return f"{mean:.1f} / {figures['planner_cpu_ms_per_poll_max']:.1f} ms"

    count = len(report["accounts"]["accounts"])
    lines = [
        f"## {count} accounts in one Home Assistant",
        "",
        "Four accounts per trace, each sensor on its own 5-minute rhythm, each one day with its",
        "estimate learned the day before, each compared with its own oracle replayed on its",
        "readings (`accounts`). The same accounts were also run with Home Assistant's timers",
        "firing only at whole seconds, as its test helper `async_fire_time_changed` does (each",
        "refresh up to a second late), and every entry's sub-second offset at 0.45 s",
        "(`accounts_whole_seconds`).",
        "",
        f"| {count} accounts | {' | '.join(runs)} |",
        "|---|---|---|",
        row("Median lag of the median account", lambda f: f"{f['median_lag_s_median_account']} s"),
        row("Readings never shown", lambda f: str(f["readings_never_shown"])),
        row("Never shown (newest ≥ 1 min)", lambda f: str(f["never_shown_newest_60s"])),
        row("Accounts within all targets", lambda f: f"{f['accounts_within_targets']} of {count}"),
        row(
            "Traces within all targets, 4 accounts pooled",
            lambda f: f"{f['traces_within_targets']} of {len(f['pooled_by_trace'])}",
        ),
        row("Worst account (median + p95 / 3), minus its oracle", worst),
        row("Largest differences from the oracle (median / p95 / reads)", largest),
        row(
            "Share requests in any one second, at most", lambda f: str(f["max_requests_per_second"])
        ),
        row("… after setup", lambda f: str(f["max_requests_per_second_after_setup"])),
        row("Threads, at most", lambda f: str(f["max_threads"])),
        row("Planner CPU per poll, mean of the accounts / largest", planner),
        row(
            "Whole test process CPU per poll (simulator and harness included)",
            lambda f: f"{number(f['process_cpu_ms_per_poll'])} ms",
        ),
        "",
        "Pooled per trace, 4 accounts each; median / p95 lag (s) / reads per reading:",
        "",
        f"| Trace | {' | '.join(f'{run}: ours {MINUS} oracle' for run in runs)} |",
        "|---|---|---|",
    ]
    for name in report["accounts"]["pooled_by_trace"]:
        cells = [
            f"{differences(figures['pooled_by_trace'][name]['minus_oracle'])}"
            f" {met(figures['pooled_by_trace'][name]['minus_oracle'])}"
            for figures in runs.values()
        ]
        lines.append(f"| {label(name)} | {' | '.join(cells)} |")
    lines.append("")
    return lines


def _heap(report: dict[str, Any]) -> list[str]:
    heap = report["heap_per_account_kib"]
    return [
        "## Heap per account",
        "",
        "tracemalloc, two accounts on their own after a warm-up, the test bench's own memory",
        "left out (`heap_per_account_kib`).",
        "",
        f"| After | {' | '.join(heap)} |",
        f"|---|{'---|' * len(heap)}",
        f"| KiB per account | {' | '.join(f'{value:.0f}' for value in heap.values())} |",
        "",
    ]


def _event_loop(loop: dict[str, Any]) -> list[str]:
    core = loop["core_ms_per_poll"]
    return [
        "## Event loop per poll",
        "",
        f"One account with {loop['stored_days']} days stored ({loop['stored_readings']:,}"
        " readings, the report over all",
        "of them) follows six hours of readings through the whole integration",
        "(`benchmarks/test_event_loop.py`, `results/event_loop.json`). CPU",
        "time of the event loop's thread per poll, median / p95 in ms, on the test clock (which",
        "makes every date slower); and the glucose core's own work per poll on the real clock",
        "(merge, new readings, every figure with the report and the sensor session).",
        "",
        "| Per poll | Median | p95 |",
        "|---|---|---|",
        f"| Snapshot: figures, 90-day report, sensor session | {loop['snapshot_ms_median']} |"
        f" {loop['snapshot_ms_p95']} |",
        f"| Planner | {loop['planner_ms_median']} | {loop['planner_ms_p95']} |",
        f"| The coordinator's whole update | {loop['update_ms_median']} |"
        f" {loop['update_ms_p95']} |",
        f"| Everything the loop did in the poll's minute | {loop['loop_ms_per_poll_median']} |"
        f" {loop['loop_ms_per_poll_p95']} |",
        f"| The glucose core alone, real clock | {core['median']} | {core['p95']} |",
        "",
    ]


def _single_days(single: dict[str, Any]) -> list[str]:
    learners = {key: value for key, value in single.items() if isinstance(value, dict)}
    names = list(next(iter(learners.values()))["traces"])
    days = single["days"]
    per_trace = single["accounts_per_trace"]
    lines = [
        "## Single days of learners that know more",
        "",
        "`benchmarks/single_days.py` (`.venv/bin/python -m benchmarks.single_days`, not part of",
        f"`scripts/benchmark`) replays the same {days} days per trace for this integration and",
        "for learners that know more than polls can tell, and counts the days within all",
        f"targets (`results/single_days.json`). All {per_trace * len(names)} accounts within:",
        f"the product over traces of (days within / {days})^{per_trace}, {per_trace} accounts"
        " per trace.",
        "",
        f"| learner | days within (of {days}): {' / '.join(label(name) for name in names)}"
        f" | all {per_trace * len(names)} accounts within |",
        "|---|---|---|",
    ]
    for key, figures in learners.items():
        within = " / ".join(str(figures["traces"][name]["days_within"]) for name in names)
        lines.append(
            f"| {LEARNER_LABELS.get(key, key)} | {within}"
            f" | {share_percent(figures['all_20_within_probability'])} |"
        )
    lines += [
        "",
        "Worst single day's median minus the oracle's (s):",
        "",
        f"| learner | {' | '.join(label(name) for name in names)} |",
        f"|---|{'---|' * len(names)}",
    ]
    for key, figures in learners.items():
        worst = " | ".join(
            signed(figures["traces"][name]["worst_median_minus_oracle_s"]) for name in names
        )
        lines.append(f"| {LEARNER_LABELS.get(key, key)} | {worst} |")
    lines.append("")
    return lines


def render(report: dict[str, Any], single: dict[str, Any], loop: dict[str, Any]) -> str:
    """The page, from freshness.json, single_days.json and event_loop.json."""
    price = number(report["price_per_read_s"], 0)
    lines = [
        "# Freshness benchmark",
        "",
        "<!-- Generated by benchmarks/readme.py from results/freshness.json,",
        "results/single_days.json and results/event_loop.json; the full benchmark run writes",
        "it again. Do not edit. -->",
        "",
        "dexcom_share against the best fixed schedule (the oracle) and Home Assistant's built-in",
        "dexcom integration. How the polling works: [How data is updated](../docs/polling.md).",
        "",
        "## How to run",
        "",
        "- `scripts/benchmark`: the whole benchmark. It writes `results/freshness.json`,",
        "  `results/freshness.png` and, from them and `results/single_days.json`, this page.",
        "- `BENCHMARK_QUICK=1 scripts/benchmark`: only the current mix, ours and the oracle;",
        "  writes `results/freshness-quick.json` and leaves the results and this page alone.",
        "- `.venv/bin/python -m benchmarks.readme`: this page again from the results.",
        "",
        "## What is measured",
        "",
        "Five 24-hour traces: a reading every ~300 s with jitter, one 40-minute signal loss at",
        "14:00 whose readings are backfilled at once, and upload delays that are the *current",
        f"mix* (88 % 8{DASH}35 s, 9 % 35{DASH}120 s, 3 % 2{DASH}5 min), a *heavier tail*"
        " (80/15/5 %), a *slow*",
        f"uploader (always 55{DASH}75 s), a *bimodal* phone (10{DASH}20 s or 90{DASH}150 s,"
        " half each) and a",
        "*drift* from the current mix to slow at noon. Each trace is followed by this",
        "integration, by the **oracle** (the same planner handed the trace's true delay",
        f"distribution: the best fixed schedule at the same {price} s per read; for the drift,",
        "the day's mixture) and by the built-in integration. *Lag* is the time from the moment",
        "Share can serve a reading to the moment the glucose sensor shows it; *reads* are Share",
        "reads per reading; *never shown* counts readings that were the newest on Share for a",
        "minute or more but never shown. The targets, against the oracle: a median within",
        f"{MEDIAN_WITHIN:g} s, a p95 within {P95_WITHIN:g} s, no more than {READS_WITHIN:g} more",
        "reads per reading, and no reading never shown.",
        "",
        "![Lag distributions, traces, trade-off and learning](results/freshness.png)",
        "",
    ]
    for part in (_one_day, _family, _learning, _tradeoff, _accounts, _heap):
        lines += part(report)
    lines += _single_days(single)
    lines += _event_loop(loop)
    return "\n".join(lines).rstrip("\n") + "\n"


def render_results(folder: Path = RESULTS) -> str:
    """The page from the results in a folder."""
    report = json.loads((folder / "freshness.json").read_text())
    single = json.loads((folder / "single_days.json").read_text())
    loop = json.loads((folder / "event_loop.json").read_text())
    return render(report, single, loop)


def write(folder: Path = RESULTS, page: Path = PAGE) -> None:
    """Write the page from the results."""
    page.write_text(render_results(folder))


if __name__ == "__main__":
    write()
