"""Realistic reading traces: 5-minute cadence with drift, upload delays, gaps, backfill."""

from dataclasses import dataclass
import math
import random

from .model import Reading

type DelayMix = tuple[tuple[float, float, float], ...]
"""(share of readings, shortest delay s, longest delay s), each even in between."""

# Following the reference: mostly 8-35 s, some 35-120 s, a few 2-5 min.
DEFAULT_DELAY_MIX: DelayMix = ((0.88, 8.0, 35.0), (0.09, 35.0, 120.0), (0.03, 120.0, 300.0))
# The same phones on a worse network: a heavier tail.
HEAVY_TAIL_DELAY_MIX: DelayMix = ((0.80, 8.0, 35.0), (0.15, 35.0, 120.0), (0.05, 120.0, 300.0))
# A phone that always uploads late (battery saving, a slow uploader app).
SLOW_DELAY_MIX: DelayMix = ((1.0, 55.0, 75.0),)
# A phone that uploads at once when awake and much later when dozing.
BIMODAL_DELAY_MIX: DelayMix = ((0.5, 10.0, 20.0), (0.5, 90.0, 150.0))


@dataclass(frozen=True)
class TraceProfile:
    """What a generated day looks like."""

    period: float = 299.8
    period_jitter: float = 0.3
    delay_mix: DelayMix = DEFAULT_DELAY_MIX
    delay_changes: tuple[tuple[float, DelayMix], ...] = ()
    """(start, mix) in seconds after the trace start, in order: readings taken from
    then on upload with that mix instead (a phone that changes)."""
    signal_losses: tuple[tuple[float, float], ...] = ()
    """(start, duration) in seconds after the trace start: readings taken meanwhile
    reach Share all at once when the signal returns (backfill)."""
    gaps: tuple[tuple[float, float], ...] = ()
    """(start, duration): readings never taken (sensor warm-up, dropouts)."""
    start_value: float = 120.0
    utc_offset_minutes: int = -300


def trend_for_slope(slope: float) -> str:
    """Share's arrow for a rate of change in mg/dL per minute (1/2/3 thresholds)."""
    magnitude = abs(slope)
    if magnitude < 1:
        return "Flat"
    up = slope > 0
    if magnitude < 2:
        return "FortyFiveUp" if up else "FortyFiveDown"
    if magnitude < 3:
        return "SingleUp" if up else "SingleDown"
    return "DoubleUp" if up else "DoubleDown"


def _share_value(value: float) -> int:
    """Round to Share's integers, with LOW as 39 and HIGH as 401."""
    if value < 40:
        return 39
    if value > 400:
        return 401
    return round(value)


def _delay(rng: random.Random, mix: DelayMix) -> float:
    pick = rng.random() * sum(share for share, _, _ in mix)
    for share, low, high in mix:
        if pick < share:
            return rng.uniform(low, high)
        pick -= share
    return mix[-1][2]


def generate_trace(
    start: float, end: float, profile: TraceProfile = TraceProfile(), seed: int = 1
) -> list[Reading]:
    """Readings taken between `start` and `end` (epoch seconds), oldest first."""
    rng = random.Random(seed)
    # Each signal loss ends with the phone uploading its backlog in one go.
    releases = [
        start + loss_start + duration + rng.uniform(5, 20)
        for loss_start, duration in profile.signal_losses
    ]
    readings: list[Reading] = []
    value = profile.start_value
    slope = 0.0
    taken = start
    while taken <= end:
        offset = taken - start
        # A slow swing (meals, insulin) plus a mean-reverting random rate.
        target = 130 + 60 * math.sin(offset / 3600 / 4 * 2 * math.pi)
        slope = 0.8 * slope + 0.02 * (target - value) + rng.gauss(0, 0.35)
        slope = max(-4.0, min(4.0, slope))
        value = max(35.0, min(410.0, value + slope * profile.period / 60))
        if not any(s <= offset < s + d for s, d in profile.gaps):
            mix = profile.delay_mix
            for start_offset, later_mix in profile.delay_changes:
                if offset >= start_offset:
                    mix = later_mix
            available = taken + _delay(rng, mix)
            for (loss_start, duration), release in zip(
                profile.signal_losses, releases, strict=True
            ):
                if loss_start <= offset < loss_start + duration:
                    available = release
            readings.append(
                Reading(
                    time=round(taken, 3),
                    value=_share_value(value),
                    trend=trend_for_slope(slope),
                    available_at=round(available, 3),
                    utc_offset_minutes=profile.utc_offset_minutes,
                )
            )
        taken += profile.period + rng.uniform(-profile.period_jitter, profile.period_jitter)
    return readings
