"""Render the glucose profile of docs/report.md from a made-up but realistic fortnight.

Run from the repository's root: `.venv/bin/python -m scripts.render_profile`. It draws
with the integration's own code (`agp.glucose_profile`, `agp.render_agp_png`), as the
*Glucose profile* entity does, and writes docs/screenshots/glucose_profile.png.

The trace (seeded, so every run draws the same picture): a person with type 1
diabetes in New York, readings every 5 minutes, a higher morning (dawn phenomenon),
three meals a day at varying times and sizes with the insulin's dip after them, some
afternoons of exercise, two nights with a low, sensor noise, a sensor change with its
warm-up and two stretches without data.
"""

from datetime import UTC, datetime, timedelta
import math
from pathlib import Path
import random
from zoneinfo import ZoneInfo

from custom_components.dexcom_share.glucose.agp import glucose_profile, render_agp_png
from custom_components.dexcom_share.glucose.history import ReadingHistory
from custom_components.dexcom_share.glucose.models import GlucoseReading

OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots" / "glucose_profile.png"
TIME_ZONE = ZoneInfo("America/New_York")
END = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)
DAYS = 14
FIVE = timedelta(minutes=5)
# (usual local hour, spread in hours, smallest and largest rise in mg/dL)
MEALS = ((7.5, 0.6, 60, 135), (12.5, 0.8, 40, 115), (19.0, 1.0, 70, 170))
# (start, duration) in hours before END: a sensor change (old sensor off, new one's
# warm-up) and a phone left at home.
NO_DATA = ((9 * 24 + 3.2, 1.1), (4 * 24 + 8.5, 2.5))


def _bump(minutes: float, peak: float) -> float:
    """0 before a meal, 1 at `peak` minutes after it, then fading (a gamma-like curve)."""
    if minutes <= 0:
        return 0.0
    ratio = minutes / peak
    return ratio * math.exp(1 - ratio)


def _day_plan(rng: random.Random) -> list[tuple[float, float]]:
    """Each meal of a day as (local hour, rise in mg/dL)."""
    return [(rng.gauss(hour, spread), rng.uniform(low, high)) for hour, spread, low, high in MEALS]


def fortnight(seed: int = 20261121) -> list[GlucoseReading]:
    """Readings every 5 minutes over the `DAYS` days up to END (with two gaps)."""
    rng = random.Random(seed)  # noqa: S311 - a seeded, made-up trace
    first = END - timedelta(days=DAYS)
    local_days = {
        (first + timedelta(days=offset)).astimezone(TIME_ZONE).date()
        for offset in range(-1, DAYS + 1)
    }
    plans = {day: _day_plan(rng) for day in sorted(local_days)}
    exercise = {day for day in plans if rng.random() < 0.3}
    night_lows = set(rng.sample(sorted(plans)[1:-1], 2))
    drift = 0.0
    noise = 0.0
    readings = []
    time = first + timedelta(minutes=2)
    while time <= END:
        hours_before_end = (END - time).total_seconds() / 3600
        local = time.astimezone(TIME_ZONE)
        hour = local.hour + local.minute / 60
        drift = 0.995 * drift + rng.gauss(0, 3.6)
        noise = 0.6 * noise + rng.gauss(0, 3.0)
        value = 145 + drift + noise
        value += 28 * _bump(hour - 3.5, 180)  # dawn phenomenon
        for day, plan in plans.items():
            day_start = datetime.combine(day, datetime.min.time(), TIME_ZONE)
            for meal_hour, rise in plan:
                since = (time - day_start).total_seconds() / 60 - meal_hour * 60
                value += rise * _bump(since, 65) - 0.3 * rise * _bump(since, 190)
        if local.date() in exercise:
            value -= 35 * _bump(hour * 60 - 16.5 * 60, 70)
        if local.date() in night_lows:
            value -= 70 * _bump(hour * 60 - 1.5 * 60, 90)
        if not any(start - length < hours_before_end <= start for start, length in NO_DATA):
            shown = 39 if value < 40 else 401 if value > 400 else round(value)
            readings.append(GlucoseReading(time, shown, None))
        time += FIVE
    return readings


def main() -> None:
    """Draw the fortnight as the entity would, in mg/dL, and write the PNG."""
    history, _ = ReadingHistory().merged(fortnight(), END)
    profile = glucose_profile(history, END, DAYS, TIME_ZONE)
    OUTPUT.write_bytes(render_agp_png(profile, "mg/dL", "Dexcom jane"))
    report = profile.report
    print(
        f"{OUTPUT.name}: {report.readings} readings, coverage {report.coverage} %, "
        f"time in range {report.time_in_range} %, very low {report.time_very_low} %, "
        f"mean {report.mean} mg/dL, GMI {report.gmi} %, CV {report.cv} %"
    )


if __name__ == "__main__":
    main()
