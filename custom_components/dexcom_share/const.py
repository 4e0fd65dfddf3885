"""Constants for the Dexcom Share integration."""

import logging
from typing import Final

from homeassistant.const import Platform, UnitOfBloodGlucoseConcentration

DOMAIN: Final = "dexcom_share"
LOGGER = logging.getLogger(__package__)
PLATFORMS: Final = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.DATETIME,
    Platform.EVENT,
    Platform.IMAGE,
    Platform.SENSOR,
]

CONF_REGION: Final = "region"
CONF_UNIT: Final = "unit_of_measurement"
CONF_STALE_MINUTES: Final = "stale_minutes"
CONF_URGENT_LOW: Final = "urgent_low"
CONF_LOW: Final = "low"
CONF_HIGH: Final = "high"
CONF_URGENT_HIGH: Final = "urgent_high"
CONF_SENSOR_TYPE: Final = "sensor_type"
CONF_REPORT_DAYS: Final = "report_days"
CONF_ALERTS_ON: Final = "alerts_on"
CONF_HIGH_MINUTES: Final = "high_minutes"
CONF_NO_DATA_MINUTES: Final = "no_data_minutes"
CONF_RATE: Final = "rate_alert"
"""mg/dL per minute for the rise and fall alerts."""
CONF_ESCALATE_MINUTES: Final = "escalate_minutes"
CONF_FALLBACK: Final = "fallback_sensor"
"""The entity ID of a glucose sensor that stands in while Share has nothing new."""
CONF_REPEAT: Final = "repeat_{}"
"""Minutes between repeats of one alert kind (formatted with the kind)."""
THRESHOLD_KEYS: Final = (CONF_URGENT_LOW, CONF_LOW, CONF_HIGH, CONF_URGENT_HIGH)
DEFAULT_STALE_MINUTES: Final = 15
# Below two reading periods, "Data stale" would turn on for the upload delay before
# every reading.
MIN_STALE_MINUTES: Final = 10
MAX_STALE_MINUTES: Final = 120

REGIONS: Final = ("us", "ous", "jp")
DEFAULT_REGION: Final = "us"
DEFAULT_UNIT: Final = UnitOfBloodGlucoseConcentration.MILLIGRAMS_PER_DECILITER
