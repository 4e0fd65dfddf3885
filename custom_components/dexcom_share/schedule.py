"""When to ask Share next, and for how much: the one place that decides."""

from dataclasses import dataclass
from datetime import datetime, timedelta
import math
from typing import Final

from pydexcom.const import MAX_MAX_COUNT, MAX_MINUTES

POLL_INTERVAL: Final = timedelta(minutes=2)
READING_PERIOD: Final = timedelta(minutes=5)
# Extra minutes read beyond the gap, so a late previous reading is caught too.
WINDOW_MARGIN_MINUTES: Final = 10


@dataclass(frozen=True, slots=True)
class ReadWindow:
    """The `minutes` and `maxCount` of one Share read."""

    minutes: int
    max_count: int


def read_window(newest: datetime | None, now: datetime) -> ReadWindow:
    """Cover the gap since the newest reading held, or all of Share's 24 hours."""
    if newest is None:
        return ReadWindow(MAX_MINUTES, MAX_MAX_COUNT)
    gap_minutes = max(0.0, (now - newest).total_seconds() / 60)
    minutes = min(MAX_MINUTES, math.ceil(gap_minutes) + WINDOW_MARGIN_MINUTES)
    period_minutes = READING_PERIOD.total_seconds() / 60
    return ReadWindow(minutes, min(MAX_MAX_COUNT, math.ceil(minutes / period_minutes) + 1))
