"""The one data object published per update: what every entity shows."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from .history import ReadingHistory
from .models import DailySummary, DataStatus, GlucoseRange, GlucoseReading, SensorLimit, Thresholds
from .report import GlucoseReport
from .session import SensorSession, SensorType


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
    history: ReadingHistory
    """Every reading held (up to 90 days): the one store, as of this snapshot."""
    readings: tuple[GlucoseReading, ...]
    """The history's last 24 hours, newest first."""
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
