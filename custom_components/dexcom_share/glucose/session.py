"""Sensor sessions: when the sensor started and when it expires.

Share reports no sessions, so the start is found in the readings' timestamps: a new
sensor produces no readings while it warms up, and that hole is never backfilled,
whereas the phone uploads the readings of a signal loss later with their original
timestamps. A start the user gives ("Sensor replaced") wins over the detection until
a later sensor change is detected.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final

from .history import ReadingHistory


class SensorType(StrEnum):
    """The sensor models Share serves readings from (the option's values)."""

    G6 = "g6"
    G7 = "g7"
    G7_15_DAY = "g7_15_day"
    ONE = "one"
    ONE_PLUS = "one_plus"


@dataclass(frozen=True, slots=True)
class SensorSpec:
    """How long a sensor is worn, its grace period after that, and its warm-up."""

    wear: timedelta
    grace: timedelta
    warm_up: timedelta


SENSOR_SPECS: Final[Mapping[SensorType, SensorSpec]] = {
    SensorType.G6: SensorSpec(timedelta(days=10), timedelta(0), timedelta(hours=2)),
    SensorType.G7: SensorSpec(timedelta(days=10), timedelta(hours=12), timedelta(minutes=30)),
    SensorType.G7_15_DAY: SensorSpec(
        timedelta(days=15), timedelta(hours=12), timedelta(minutes=30)
    ),
    SensorType.ONE: SensorSpec(timedelta(days=10), timedelta(0), timedelta(hours=2)),
    SensorType.ONE_PLUS: SensorSpec(timedelta(days=10), timedelta(hours=12), timedelta(minutes=30)),
}
DEFAULT_SENSOR_TYPE: Final = SensorType.G7

# A hole is taken as a sensor change once the readings after it span this long and it
# is still there: the backfill of a signal loss arrives within minutes of the signal.
CONFIRMATION: Final = timedelta(hours=1)
# A detected start replaces the user's own only when it is this much later: pressing
# "Sensor replaced" at the change must not be overridden by that same change's
# detection, which lands a few minutes later.
MANUAL_START_MARGIN: Final = timedelta(hours=1)
EXPIRING_SOON: Final = timedelta(hours=24)
# Readings this long after the expiry come from another sensor (room for clocks).
OUTLIVED_AFTER: Final = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Hole:
    """Two consecutive readings at least a warm-up apart."""

    last_before: datetime
    first_after: datetime


def _holes(history: ReadingHistory, warm_up: timedelta) -> list[Hole]:
    """The holes as long as the warm-up or longer, newest first.

    Only the watched part of a hole counts: after a day away, the readings Share no
    longer held are missing whether or not the sensor changed.
    """
    seconds = warm_up.total_seconds()
    holes = []
    for before, after in reversed(history.gaps()):
        if after - before < seconds:
            continue
        watched_from = max(
            (end for start, end in history.unwatched if start < after and end > before),
            default=before,
        )
        if after - watched_from >= seconds:
            holes.append(
                Hole(datetime.fromtimestamp(before, UTC), datetime.fromtimestamp(after, UTC))
            )
    return holes


def _confirmed(history: ReadingHistory, hole: Hole) -> bool:
    """Readings have followed the hole for `CONFIRMATION`, and it is still there."""
    return history.times[-1] - hole.first_after.timestamp() >= CONFIRMATION.total_seconds()


def detect_session_start(history: ReadingHistory, sensor_type: SensorType) -> datetime | None:
    """When the newest confirmed warm-up began: the first reading after it minus the warm-up.

    A warm-up is a hole (two consecutive readings at least the warm-up apart) that
    readings have followed for `CONFIRMATION` without a backfill filling it. None
    without such a hole in the history.
    """
    warm_up = SENSOR_SPECS[sensor_type].warm_up
    for hole in _holes(history, warm_up):
        if _confirmed(history, hole):
            return hole.first_after - warm_up
    return None


@dataclass(frozen=True, slots=True)
class SensorSession:
    """A sensor's session: when it started and when it stops giving readings."""

    start: datetime
    expires: datetime
    """start + wear + grace: the sensor's last possible reading."""
    manual: bool
    """The start is the user's ("Sensor replaced"), not detected."""

    @property
    def expiring_soon_from(self) -> datetime:
        """When "Sensor expiring soon" turns on: 24 hours before expiry."""
        return self.expires - EXPIRING_SOON

    def expiring_soon(self, now: datetime) -> bool:
        """Within 24 hours of expiry, or past it."""
        return now >= self.expiring_soon_from


def sensor_session(
    sensor_type: SensorType,
    detected_start: datetime | None,
    manual_start: datetime | None,
    newest_reading: datetime | None = None,
) -> SensorSession | None:
    """The session from the detected and the user's start; None while neither is known.

    The user's start wins unless the detected one is more than `MANUAL_START_MARGIN`
    later (the sensor was changed again since). A session that readings outlived is
    over: the sensor was changed unseen (while nobody watched), so none is known.
    """
    if manual_start is not None and (
        detected_start is None or detected_start <= manual_start + MANUAL_START_MARGIN
    ):
        start, manual = manual_start, True
    elif detected_start is not None:
        start, manual = detected_start, False
    else:
        return None
    spec = SENSOR_SPECS[sensor_type]
    expires = start + spec.wear + spec.grace
    if newest_reading is not None and newest_reading > expires + OUTLIVED_AFTER:
        return None
    return SensorSession(start=start, expires=expires, manual=manual)
