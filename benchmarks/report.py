"""Turn the benchmark's runs into JSON (with the targets checked) and a chart."""

import json
from pathlib import Path
import statistics
from typing import Any

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import NullFormatter, ScalarFormatter

from custom_components.dexcom_share.glucose.optimiser import PollTuning

from .harness import lag_figures
from .readme import write as write_page

# The targets, against the oracle.
MEDIAN_WITHIN = 3.0
P95_WITHIN = 10.0
READS_WITHIN = 0.1
VARIANT_LABELS = {
    "ours": "dexcom_share",
    "new_account": "dexcom_share, new account",
    "oracle": "oracle (best fixed schedule)",
    "builtin": "built-in dexcom",
}
RAW = Path(__file__).parent.parent / ".cache" / "benchmark-runs.json"
COLOURS = {
    "ours": "tab:blue",
    "new_account": "tab:cyan",
    "oracle": "tab:green",
    "builtin": "tab:red",
}


def differences(ours: dict[str, Any], best: dict[str, Any]) -> dict[str, Any]:
    """Ours minus the oracle, and whether that is within the targets."""
    median = round(ours["median_lag_s"] - best["median_lag_s"], 1)
    p95 = round(ours["p95_lag_s"] - best["p95_lag_s"], 1)
    reads = round(ours["reads_per_reading"] - best["reads_per_reading"], 3)
    return {
        "median_lag_s": median,
        "p95_lag_s": p95,
        "reads_per_reading": reads,
        "within_targets": median <= MEDIAN_WITHIN
        and p95 <= P95_WITHIN
        and reads <= READS_WITHIN
        and ours["never_shown_newest_60s"] == 0,
    }


def hour_differences(ours: dict[str, Any], best: dict[str, Any]) -> dict[str, Any]:
    """Median and p95 lag of some hours minus the oracle's in the same hours."""
    median = round(ours["median_lag_s"] - best["median_lag_s"], 1)
    p95 = round(ours["p95_lag_s"] - best["p95_lag_s"], 1)
    return {
        "median_lag_s": median,
        "p95_lag_s": p95,
        "within_targets": median <= MEDIAN_WITHIN and p95 <= P95_WITHIN,
    }


def _spread(days: list[float]) -> dict[str, Any]:
    """How single days' median differences from the oracle spread."""
    return {
        "median_minus_oracle_min": min(days),
        "median_minus_oracle_median": statistics.median(days),
        "median_minus_oracle_max": max(days),
        "days_median_within": sum(day <= MEDIAN_WITHIN for day in days),
        "days": len(days),
    }


def family_report(family: dict[str, Any]) -> dict[str, Any]:
    """Each trace's pooled days, with the differences from the oracle judged."""
    report = {}
    for name, figures in family.items():
        ours, best = figures["ours"], figures["oracle"]
        restart = figures["first_hour_after_restart"]
        report[name] = {
            **figures,
            "ours_minus_oracle": {
                **differences(ours, best),
                "cost_s": round(ours["cost_s"] - best["cost_s"], 2),
            },
            "new_account_minus_oracle": [
                hour_differences(hour["ours"], hour["oracle"])
                for hour in figures["new_account_hours"]
            ],
            "told_delays_new_account_minus_oracle": [
                hour_differences(hour["told_delays"], hour["oracle"])
                for hour in figures["new_account_hours"]
            ],
            "told_delays_minus_oracle": differences(figures["told_delays"], best),
            "single_days": {
                planner: _spread(days)
                for planner, days in figures["single_days_median_minus_oracle"].items()
            },
            "after_restart_minus_oracle": hour_differences(restart["ours"], restart["oracle"]),
            "after_restart_minus_not_restarted": hour_differences(
                restart["ours"], restart["not_restarted"]
            ),
        }
    return report


def print_figures(collected: dict[str, Any]) -> None:
    """The figures of a partial run, without the lags (also in .cache/benchmark-runs.json)."""
    RAW.parent.mkdir(parents=True, exist_ok=True)
    RAW.write_text(json.dumps({"quick": True, "collected": collected}))
    for name, runs in collected["traces"].items():
        for variant, run in runs.items():
            if isinstance(run, dict):
                print(name, variant, json.dumps(_without_lags(run)))
    for key in ("family", "tradeoff", "accounts", "accounts_whole_seconds", "heap_per_account_kib"):
        if collected.get(key):
            print(key, json.dumps(collected[key])[:3000])


def write_report(collected: dict[str, Any], folder: Path, *, quick: bool) -> None:
    """Write freshness.json, and freshness.png for a full run.

    The runs themselves go to .cache/benchmark-runs.json first, so that the report (and,
    for a full run, benchmarks/README.md) can be written again from them
    (`python -m benchmarks.report`) without a rerun.
    """
    RAW.parent.mkdir(parents=True, exist_ok=True)
    RAW.write_text(json.dumps({"quick": quick, "collected": collected}))
    folder.mkdir(parents=True, exist_ok=True)
    traces: dict[str, Any] = {}
    for name, runs in collected["traces"].items():
        entry = {key: _without_lags(value) for key, value in runs.items()}
        if "ours" in runs and "oracle" in runs:
            entry["ours_minus_oracle"] = differences(runs["ours"], runs["oracle"])
        if "new_account" in runs and "oracle" in runs:
            entry["new_account_minus_oracle"] = differences(runs["new_account"], runs["oracle"])
        if "ours" in runs and "builtin" in runs:
            entry["builtin_over_ours"] = {
                key: round(runs["builtin"][key] / runs["ours"][key], 2)
                for key in ("median_lag_s", "p95_lag_s", "reads_per_reading")
            }
        traces[name] = entry
    report: dict[str, Any] = {
        "price_per_read_s": PollTuning().price_per_read,
        "traces": traces,
        "learning": collected["learning"],
        "tradeoff": sorted(
            collected["tradeoff"], key=lambda point: (point["kind"], point["price_per_read"])
        ),
    }
    if family := collected.get("family"):
        report["family"] = family_report(family)
    for key in ("accounts", "accounts_whole_seconds"):
        if accounts := collected.get(key):
            report[key] = _accounts(accounts)
    if heap := collected.get("heap_per_account_kib"):
        report["heap_per_account_kib"] = heap
    name = "freshness-quick.json" if quick else "freshness.json"
    (folder / name).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({key: report.get(key) for key in ("traces", "family")}, indent=1)[:8000])
    if not quick and len(collected["traces"]) > 1:
        _chart(collected, report, folder / "freshness.png")


def _without_lags(run: Any) -> Any:
    if not isinstance(run, dict):
        return run
    return {key: value for key, value in run.items() if key != "lags"}


def _accounts(accounts: dict[str, Any]) -> dict[str, Any]:
    """The worst account against its own oracle, each trace's four pooled, the totals."""
    by_trace: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for key, result in accounts["accounts"].items():
        runs = by_trace.setdefault(key.split("-", 1)[1], {"ours": [], "oracle": []})
        runs["ours"].append(result)
        runs["oracle"].append(result["oracle"])
    pooled = {
        name: {kind: _pool(day) for kind, day in runs.items()} for name, runs in by_trace.items()
    }
    for figures in pooled.values():
        figures["minus_oracle"] = differences(figures["ours"], figures["oracle"])
    per_account = {
        key: {
            **_without_lags(result),
            "oracle": _without_lags(result["oracle"]),
        }
        for key, result in accounts["accounts"].items()
    }
    compared = {
        key: differences(_without_oracle(result), result["oracle"])
        for key, result in per_account.items()
    }
    worst = max(
        compared, key=lambda key: compared[key]["median_lag_s"] + compared[key]["p95_lag_s"] / 3
    )
    return {
        **{key: value for key, value in accounts.items() if key != "accounts"},
        "worst_account": {
            "key": worst,
            **_without_oracle(per_account[worst]),
            "oracle": per_account[worst]["oracle"],
            "minus_oracle": compared[worst],
        },
        "largest_difference_from_oracle": {
            figure: max(result[figure] for result in compared.values())
            for figure in ("median_lag_s", "p95_lag_s", "reads_per_reading")
        },
        "accounts_within_targets": sum(result["within_targets"] for result in compared.values()),
        "readings_never_shown": sum(result["never_shown"] for result in per_account.values()),
        "never_shown_newest_60s": sum(
            result["never_shown_newest_60s"] for result in per_account.values()
        ),
        "pooled_by_trace": pooled,
        "traces_within_targets": sum(
            figures["minus_oracle"]["within_targets"] for figures in pooled.values()
        ),
        "median_lag_s_median_account": round(
            statistics.median(result["median_lag_s"] for result in per_account.values()), 1
        ),
        "planner_cpu_ms_per_poll_max": max(
            result.get("planner_cpu_ms_per_poll", 0.0) for result in per_account.values()
        ),
        "accounts": per_account,
    }


def _pool(days: list[dict[str, Any]]) -> dict[str, Any]:
    """Median and p95 lag and reads per reading of several accounts' days together."""
    return {
        **lag_figures(lag for day in days for lag in day["lags"]),
        "reads_per_reading": round(
            sum(day["reads"] for day in days) / sum(day["readings"] for day in days), 3
        ),
        "never_shown_newest_60s": sum(day["never_shown_newest_60s"] for day in days),
        "accounts": len(days),
    }


def _without_oracle(result: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in result.items() if key != "oracle"}


def _chart(collected: dict[str, Any], report: dict[str, Any], path: Path) -> None:
    figure, ((lags, per_trace), (curve, learning)) = plt.subplots(2, 2, figsize=(13, 9))
    mix = collected["traces"].get("mix", {})
    for variant in ("ours", "oracle", "builtin"):
        if variant in mix:
            ordered = sorted(mix[variant]["lags"])
            share = [(index + 1) / len(ordered) * 100 for index in range(len(ordered))]
            lags.step(
                ordered, share, where="post", label=VARIANT_LABELS[variant], color=COLOURS[variant]
            )
    lags.set_xscale("symlog", linthresh=10)
    lags.set_xticks([0, 5, 10, 30, 100, 200], ["0", "5", "10", "30", "100", "200"])
    lags.set_xlabel("lag from 'Share can serve it' to 'sensor shows it' (s)")
    lags.set_ylabel("readings shown within that lag (%)")
    lags.set_title("Lag distribution, current mix, 24 h")
    lags.grid(visible=True, alpha=0.3)
    lags.legend(loc="lower right")

    names = list(report["traces"])
    width = 0.26
    for offset, variant in zip((-width, 0, width), ("ours", "oracle", "builtin"), strict=True):
        medians = [report["traces"][name].get(variant, {}).get("median_lag_s", 0) for name in names]
        p95s = [report["traces"][name].get(variant, {}).get("p95_lag_s", 0) for name in names]
        positions = [index + offset for index in range(len(names))]
        per_trace.bar(
            positions,
            medians,
            width,
            color=COLOURS[variant],
            label=f"{VARIANT_LABELS[variant]}: median",
        )
        per_trace.scatter(positions, p95s, marker="_", s=300, color=COLOURS[variant], linewidths=2)
    per_trace.scatter([], [], marker="_", s=300, color="black", label="p95 (marks)")
    per_trace.set_xticks(range(len(names)), [name.replace("_", " ") for name in names])
    per_trace.set_yscale("log")
    per_trace.set_ylim(3, 400)
    per_trace.yaxis.set_major_formatter(ScalarFormatter())
    per_trace.set_ylabel("lag (s)")
    per_trace.set_title("Median (bars) and p95 (marks) per 24-h trace")
    per_trace.grid(visible=True, axis="y", alpha=0.3)
    per_trace.legend(fontsize=8, loc="upper center", ncol=2)

    points: dict[str, list[dict[str, Any]]] = {"ours": [], "oracle": []}
    for point in report["tradeoff"]:
        points[point["kind"]].append(point)
    chosen = PollTuning().price_per_read
    for kind in ("ours", "oracle"):
        if kind in mix:
            points[kind].append({**_without_lags(mix[kind]), "price_per_read": chosen})
        ordered = sorted(points[kind], key=lambda point: point["reads_per_reading"])
        reads = [point["reads_per_reading"] for point in ordered]
        filled = kind == "ours"
        curve.plot(
            reads,
            [p["median_lag_s"] for p in ordered],
            "o-" if filled else "o--",
            color=COLOURS[kind],
            mfc=None if filled else "white",
            label=f"{VARIANT_LABELS[kind]}: median",
        )
        curve.plot(
            reads,
            [p["p95_lag_s"] for p in ordered],
            "s-" if filled else "s--",
            color=COLOURS[kind],
            mfc=None if filled else "white",
            alpha=0.6,
            label=f"{VARIANT_LABELS[kind]}: p95",
        )
        for point in ordered:
            curve.annotate(
                f"{point['price_per_read']:g}",
                (point["reads_per_reading"], point["median_lag_s"]),
                textcoords="offset points",
                xytext=(4, -10),
                fontsize=7,
                color=COLOURS[kind],
            )
    if "ours" in mix:
        curve.plot(
            [mix["ours"]["reads_per_reading"]],
            [mix["ours"]["median_lag_s"]],
            "r*",
            markersize=15,
            label=f"chosen: {chosen:g} s per read",
        )
    if "builtin" in mix:
        curve.plot(
            [mix["builtin"]["reads_per_reading"]],
            [mix["builtin"]["median_lag_s"]],
            "kx",
            markersize=10,
            label="built-in dexcom: median",
        )
    curve.set_yscale("log")
    curve.set_yticks([5, 10, 20, 50, 100], ["5", "10", "20", "50", "100"])
    curve.yaxis.set_minor_formatter(NullFormatter())
    curve.set_xlabel("Share reads per reading")
    curve.set_ylabel("lag (s)")
    curve.set_title("Trade-off over the price per read (s of lag), current mix")
    curve.grid(visible=True, alpha=0.3)
    curve.legend(fontsize=8)

    hours = ["1st hour", "2nd hour", "3rd hour"]
    learning.axhspan(
        -MEDIAN_WITHIN, MEDIAN_WITHIN, color="tab:green", alpha=0.12, label="target: within 3 s"
    )
    family = report.get("family", {})
    for index, name in enumerate(family):
        gaps = [hour["median_lag_s"] for hour in family[name]["new_account_minus_oracle"]]
        learning.plot(hours, gaps, "-", marker="o", color=f"C{index}", label=f"{name}: new account")
        told = [
            hour["median_lag_s"] for hour in family[name]["told_delays_new_account_minus_oracle"]
        ]
        learning.plot(hours, told, "--", color=f"C{index}", alpha=0.6)
        restarted = family[name]["after_restart_minus_oracle"]["median_lag_s"]
        learning.plot(
            hours[:1],
            [restarted],
            marker="*",
            markersize=12,
            linestyle="none",
            color=f"C{index}",
            label=f"{name}: 1st hour after a restart",
        )
    if family:
        learning.plot([], [], "--", color="grey", label="dashed: new account, told each delay")
    shown = [MEDIAN_WITHIN, -MEDIAN_WITHIN] + [
        value for line in learning.get_lines() for value in line.get_ydata()
    ]
    low, high = min(shown), max(shown)
    # Room above the lines for the legend.
    learning.set_ylim(low - 1, high + 0.9 * (high - low))
    learning.axhline(0, color="black", linewidth=0.8)
    learning.set_ylabel("median lag minus the oracle's, that hour (s)")
    days = next(iter(family.values()), {}).get("days", 0)
    learning.set_title(f"Learning curve, {days} days per trace: a new account, after a restart")
    learning.grid(visible=True, alpha=0.3)
    learning.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


if __name__ == "__main__":
    saved = json.loads(RAW.read_text())
    write_report(saved["collected"], Path(__file__).parent / "results", quick=saved["quick"])
    if not saved["quick"]:
        write_page()
