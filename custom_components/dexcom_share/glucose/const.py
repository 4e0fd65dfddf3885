"""What CGM readings are: how often they come, their range and how long they count."""

from datetime import timedelta
from typing import Final

READING_PERIOD: Final = timedelta(minutes=5)
# A reading older than this is never shown as the current glucose.
STALE_AFTER: Final = timedelta(minutes=15)
# Share keeps 24 hours of readings; so does the coordinator.
HISTORY: Final = timedelta(hours=24)
# "Low soon" looks this far ahead.
LOW_SOON_WITHIN: Final = timedelta(minutes=20)

LOW_VALUE: Final = 39
"""Dexcom's LOW: below 40 mg/dL, the sensor's range."""
HIGH_VALUE: Final = 401
"""Dexcom's HIGH: above 400 mg/dL."""
