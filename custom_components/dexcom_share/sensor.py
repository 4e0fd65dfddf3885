"""Glucose sensors: value, trend and sensor limit of the current reading."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfBloodGlucoseConcentration
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .const import CONF_UNIT, DEFAULT_UNIT
from .coordinator import DexcomShareConfigEntry, DexcomShareCoordinator
from .entity import DexcomShareEntity
from .share import GlucoseReading, Trend

# Coordinator is used to centralize the data updates.
PARALLEL_UPDATES = 0

# Dexcom reports readings below its measuring range as 39 and above it as 401.
LOW_VALUE: Final = 39
HIGH_VALUE: Final = 401

TREND_ARROWS: Final = {
    Trend.RISING_QUICKLY: "↑↑",
    Trend.RISING: "↑",
    Trend.RISING_SLIGHTLY: "↗",
    Trend.STEADY: "→",
    Trend.FALLING_SLIGHTLY: "↘",
    Trend.FALLING: "↓",
    Trend.FALLING_QUICKLY: "↓↓",
    Trend.NOT_COMPUTABLE: "?",
    Trend.RATE_OUT_OF_RANGE: "-",
}


def sensor_limit(reading: GlucoseReading) -> str:
    """Whether Share reported LOW, HIGH or a value within the sensor's range."""
    if reading.value <= LOW_VALUE:
        return "low"
    if reading.value >= HIGH_VALUE:
        return "high"
    return "within_range"


@dataclass(frozen=True, kw_only=True)
class DexcomShareSensorEntityDescription(SensorEntityDescription):
    """A sensor computed from the current reading."""

    value_fn: Callable[[GlucoseReading], StateType]
    attributes_fn: Callable[[GlucoseReading], dict[str, Any]] | None = None


SENSORS: Final = (
    DexcomShareSensorEntityDescription(
        key="glucose_value",
        translation_key="glucose_value",
        device_class=SensorDeviceClass.BLOOD_GLUCOSE_CONCENTRATION,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfBloodGlucoseConcentration.MILLIGRAMS_PER_DECILITER,
        value_fn=lambda reading: reading.value,
    ),
    DexcomShareSensorEntityDescription(
        key="glucose_trend",
        translation_key="glucose_trend",
        device_class=SensorDeviceClass.ENUM,
        options=[trend.value for trend in Trend],
        value_fn=lambda reading: reading.trend,
        attributes_fn=lambda reading: {
            "arrow": TREND_ARROWS[reading.trend] if reading.trend else None
        },
    ),
    DexcomShareSensorEntityDescription(
        key="sensor_limit",
        translation_key="sensor_limit",
        device_class=SensorDeviceClass.ENUM,
        options=["low", "within_range", "high"],
        value_fn=sensor_limit,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DexcomShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the glucose sensors of one account."""
    async_add_entities(
        DexcomShareSensor(entry.runtime_data, description) for description in SENSORS
    )


class DexcomShareSensor(DexcomShareEntity, SensorEntity):
    """A sensor that shows the current reading; unavailable when there is none."""

    entity_description: DexcomShareSensorEntityDescription

    def __init__(
        self,
        coordinator: DexcomShareCoordinator,
        description: DexcomShareSensorEntityDescription,
    ) -> None:
        """Create the sensor; glucose values start in the unit chosen in the options."""
        super().__init__(coordinator, description.key)
        self.entity_description = description
        if description.device_class is SensorDeviceClass.BLOOD_GLUCOSE_CONCENTRATION:
            self._attr_suggested_unit_of_measurement = coordinator.config_entry.options.get(
                CONF_UNIT, DEFAULT_UNIT
            )

    @property
    @override
    def available(self) -> bool:
        """Available while the newest reading is current, even if a poll failed since.

        A reading older than 15 minutes is never shown as current; a failed poll does
        not hide one that still is.
        """
        return self.current_reading is not None

    @property
    @override
    def native_value(self) -> StateType:
        if (reading := self.current_reading) is None:
            return None
        return self.entity_description.value_fn(reading)

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any] | None:
        reading = self.current_reading
        if reading is None or self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(reading)
