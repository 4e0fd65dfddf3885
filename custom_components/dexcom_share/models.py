"""The integration's data types, shared by the Share client, the coordinator and the entities."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from .report import GlucoseReport
    from .session import SensorSession, SensorType


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
class DisplayOptions:
    """The entry's options, checked: what every figure of a snapshot is computed with."""

    unit: str
    """The unit glucose is shown in (mg/dL or mmol/L)."""
    stale_after: timedelta
    """No new reading for this long turns "Data stale" on."""
    thresholds: Thresholds
    sensor_type: SensorType
    report_days: int
    """The report's period: 7, 14, 30 or 90 days."""


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


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the entities show, computed once per update from one set of options.

    Built again (same `generation`) when the options change or the newest reading
    crosses an age that matters, so an entity never mixes two moments or two units.
    Glucose figures are in mg/dL (Home Assistant converts them for display); the rate
    is already in `options.unit` per minute.
    """

    at: datetime
    generation: int
    """Increases with every update that read Share; events fire once per generation."""
    readings: tuple[GlucoseReading, ...]
    """The last 24 hours, newest first, one per timestamp."""
    new: tuple[GlucoseReading, ...]
    """Readings this generation added, oldest first (none for the first load)."""
    options: DisplayOptions
    current: GlucoseReading | None
    """The newest reading while it is less than 15 minutes old."""
    data_stale: bool
    status: DataStatus
    share_problem: DataStatus | None
    """The known cause that keeps Share's readings from coming (one of `SHARE_PROBLEMS`)."""
    change: int | None
    rate: float | None
    glucose_range: GlucoseRange | None
    sensor_limit: SensorLimit | None
    predicted_15: float | None
    predicted_30: float | None
    low_soon: bool | None
    daily: DailySummary | None
    report: GlucoseReport
    """The clinic's figures over the report period, from the local history."""
    session: SensorSession | None
    """The sensor's session, once its start is known."""

    @property
    def newest(self) -> GlucoseReading | None:
        """The newest reading held, however old."""
        return self.readings[0] if self.readings else None

    @property
    def rate_unit(self) -> str:
        """The unit of `rate`."""
        return f"{self.options.unit}/min"
