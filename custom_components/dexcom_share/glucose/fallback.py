"""The fallback glucose sensor: another source of readings while Share has none.

Any Home Assistant sensor of blood glucose (Nightscout, LibreLinkUp, xDrip+, a second
account) may stand in when Share's newest reading is more than 10 minutes old. Its
state is taken only while fresh, numeric, in a known unit and within the sensor range,
so that a stale or absurd value never poses as current glucose.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
import math
from typing import Final

from .const import HIGH_VALUE, LOW_VALUE, READING_PERIOD
from .models import GlucoseReading
from .units import UNITS, convert

# Share's newest reading older than this lets the fallback in.
SHARE_QUIET_AFTER: Final = timedelta(minutes=10)
# The fallback's state changed longer ago than this is not used.
FRESH_FOR: Final = timedelta(minutes=10)
# A fallback state this far ahead of the clock is not a reading of now.
MAX_AHEAD: Final = timedelta(minutes=1)
# One fallback reading per reading period at most: sources that update every minute
# would otherwise weigh five times as much as Share's readings in every figure.
MIN_SPACING: Final = READING_PERIOD - timedelta(seconds=30)


def glucose_mg_dl(state: str, unit: str | None) -> int | None:
    """A sensor's state in whole mg/dL, if it is a glucose reading a CGM could report.

    None when it is not a number, in a unit other than mg/dL or mmol/L, or outside
    what a CGM reports (39-401 mg/dL).
    """
    if unit not in UNITS:
        return None
    try:
        value = float(state)
    except ValueError:
        return None
    mg_dl = convert(value, "mg/dL", unit)
    if not math.isfinite(mg_dl):
        return None
    rounded = round(mg_dl)
    return rounded if LOW_VALUE <= rounded <= HIGH_VALUE else None


def fresh(reading: GlucoseReading, now: datetime) -> bool:
    """Taken within the last 10 minutes (and not ahead of the clock)."""
    return -MAX_AHEAD <= now - reading.time <= FRESH_FOR


def fallback_reading(
    state: str, unit: str | None, changed: datetime, now: datetime
) -> GlucoseReading | None:
    """The fallback sensor's state as a reading taken when it changed, if usable now."""
    mg_dl = glucose_mg_dl(state, unit)
    if mg_dl is None:
        return None
    reading = GlucoseReading(changed, mg_dl, None, from_fallback=True)
    return reading if fresh(reading, now) else None


def newest_from_share(readings: Iterable[GlucoseReading]) -> GlucoseReading | None:
    """The newest of Share's own readings (newest first, both sources)."""
    return next((reading for reading in readings if not reading.from_fallback), None)


def fallback_wanted(
    readings: tuple[GlucoseReading, ...], candidate: GlucoseReading, now: datetime
) -> bool:
    """Whether to take `candidate` (readings newest first, both sources).

    Only while Share's newest reading is over 10 minutes old (or there is none), only
    newer than every reading held, and at most one per reading period.
    """
    share_newest = newest_from_share(readings)
    if share_newest is not None and now - share_newest.time <= SHARE_QUIET_AFTER:
        return False
    newest = readings[0] if readings else None
    return newest is None or candidate.time - newest.time >= MIN_SPACING
