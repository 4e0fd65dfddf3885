"""Turn the benchmark's runs into JSON and a chart."""

import json
from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt

COMPARED = ("median_lag_s", "p95_lag_s", "reads_per_reading", "logins_24h_after_setup")


def write_report(collected: dict[str, Any], folder: Path, *, quick: bool) -> None:
    """Write freshness.json (and freshness.png with the built-in run)."""
    folder.mkdir(parents=True, exist_ok=True)
    ours, builtin = collected.get("ours"), collected.get("builtin")
    report: dict[str, Any] = {"dexcom_share": ours, "builtin_dexcom": builtin}
    if ours and builtin:
        report["ratios_builtin_over_ours"] = {
            key: round(builtin[key] / ours[key], 2) if ours[key] else None for key in COMPARED
        }
    report["tradeoff"] = sorted(
        [*collected["runs"], *([ours] if ours else [])], key=lambda run: run["reads_per_reading"]
    )
    name = "freshness-quick.json" if quick else "freshness.json"
    (folder / name).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "tradeoff"}, indent=2))
    if quick or not (ours and builtin):
        return

    figure, (lags, curve) = plt.subplots(1, 2, figsize=(12, 4.5))
    for label, values in (
        ("dexcom_share", collected["ours_lags"]),
        ("built-in dexcom", collected["builtin_lags"]),
    ):
        ordered = sorted(values)
        share = [(index + 1) / len(ordered) * 100 for index in range(len(ordered))]
        lags.step(ordered, share, where="post", label=label)
    lags.set_xlabel("lag from 'Share can serve it' to 'sensor shows it' (s)")
    lags.set_ylabel("readings shown within that lag (%)")
    lags.set_title("Lag distribution, 24 h trace")
    lags.grid(visible=True, alpha=0.3)
    lags.legend()

    points = report["tradeoff"]
    curve.plot(
        [p["reads_per_reading"] for p in points],
        [p["median_lag_s"] for p in points],
        "o",
        label="median lag",
    )
    curve.plot(
        [p["reads_per_reading"] for p in points],
        [p["p95_lag_s"] for p in points],
        "s",
        label="p95 lag",
    )
    curve.plot(
        [ours["reads_per_reading"]], [ours["median_lag_s"]], "r*", markersize=14, label="chosen"
    )
    curve.plot(
        [builtin["reads_per_reading"]],
        [builtin["median_lag_s"]],
        "kx",
        markersize=10,
        label="built-in dexcom (median)",
    )
    curve.set_xlabel("Share reads per reading")
    curve.set_ylabel("lag (s)")
    curve.set_title("Trade-off of the poll planner's tuning")
    curve.grid(visible=True, alpha=0.3)
    curve.legend()
    figure.tight_layout()
    figure.savefig(folder / "freshness.png", dpi=110)
