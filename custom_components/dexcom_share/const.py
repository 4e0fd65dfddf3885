"""Constants for the Dexcom Share integration."""

from datetime import timedelta
import logging
from typing import Final

from homeassistant.const import Platform, UnitOfBloodGlucoseConcentration

DOMAIN: Final = "dexcom_share"
LOGGER = logging.getLogger(__package__)
PLATFORMS: Final = [Platform.SENSOR]

CONF_REGION: Final = "region"
CONF_UNIT: Final = "unit_of_measurement"

REGIONS: Final = ("us", "ous", "jp")
DEFAULT_REGION: Final = "us"
UNITS: Final = (
    UnitOfBloodGlucoseConcentration.MILLIGRAMS_PER_DECILITER,
    UnitOfBloodGlucoseConcentration.MILLIMOLE_PER_LITER,
)
DEFAULT_UNIT: Final = UnitOfBloodGlucoseConcentration.MILLIGRAMS_PER_DECILITER

# A reading older than this is never shown as the current glucose.
STALE_AFTER: Final = timedelta(minutes=15)
# Share keeps 24 hours of readings; so does the coordinator.
HISTORY: Final = timedelta(hours=24)
