"""The glucose data types, at the bottom: everything else builds on them."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final


class Trend(StrEnum):
    """Share's trend arrows, in Home Assistant's words."""

    RISING_QUICKLY = "rising_quickly"
    RISING = "rising"
    RISING_SLIGHTLY = "rising_slightly"
    STEADY = "steady"
    FALLING_SLIGHTLY = "falling_slightly"
    FALLING = "falling"
    FALLING_QUICKLY = "falling_quickly"
    NOT_COMPUTABLE = "not_computable"
    RATE_OUT_OF_RANGE = "rate_out_of_range"


@dataclass(frozen=True, slots=True)
class GlucoseReading:
    """One CGM reading: when it was taken, mg/dL as Share sends it, and the arrow."""

    time: datetime
    value: int
    trend: Trend | None
    from_fallback: bool = False
    """Taken from the fallback glucose sensor while Share had nothing new, not from Share."""


class GlucoseRange(StrEnum):
    """Where a reading lies against the user's thresholds."""

    URGENT_LOW = "urgent_low"
    LOW = "low"
    IN_RANGE = "in_range"
    HIGH = "high"
    URGENT_HIGH = "urgent_high"


class DataStatus(StrEnum):
    """Why the glucose value shows what it shows: a known cause first, then the age."""

    CURRENT = "current"
    """The newest reading is less than a reading period old."""
    WAITING = "waiting"
    """The next reading is due, within this account's normal upload delay."""
    DELAYED = "delayed"
    """Later than the normal upload delay, not yet stale."""
    STALE = "stale"
    """Share answers, but the newest reading is older than the stale time."""
    NO_READINGS = "no_readings"
    """Share answers, but holds no reading of the last 24 hours."""
    SHARE_UNREACHABLE = "share_unreachable"
    RATE_LIMITED = "rate_limited"
    LOGIN_REJECTED = "login_rejected"
    LOCKED = "locked"
    FALLBACK = "fallback"
    """The glucose value is the fallback sensor's: Share has had nothing new for 10 min."""


SHARE_PROBLEMS: Final = (
    DataStatus.LOCKED,
    DataStatus.RATE_LIMITED,
    DataStatus.LOGIN_REJECTED,
    DataStatus.SHARE_UNREACHABLE,
)
"""Known causes that keep Share's readings from coming, most telling first."""


class SensorLimit(StrEnum):
    """Whether Share reported LOW, HIGH or a value within the sensor's range."""

    LOW = "low"
    WITHIN_RANGE = "within_range"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The user's thresholds in mg/dL; in range means low ≤ value ≤ high."""

    urgent_low: float = 55
    low: float = 70
    high: float = 180
    urgent_high: float = 250


@dataclass(frozen=True, slots=True)
class DailySummary:
    """Figures over the readings of the last 24 hours."""

    readings: int
    from_fallback: int
    """Of the readings, those from the fallback glucose sensor."""
    time_in_range: float
    time_below_range: float
    time_above_range: float
    mean: float
    gmi: float
    cv: float
