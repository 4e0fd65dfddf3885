"""Sensors: the current reading, its change and range, a prediction and 24-hour figures."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, UnitOfBloodGlucoseConcentration
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .analysis import (
    HIGH_VALUE,
    LOW_VALUE,
    MG_DL_PER_MMOL_L,
    GlucoseRange,
    Thresholds,
    daily_summary,
    delta,
    glucose_range,
    predict,
    rate_per_minute,
)
from .coordinator import DexcomShareConfigEntry, DexcomShareCoordinator, GlucoseData
from .entity import DexcomShareEntity
from .models import GlucoseReading, Trend
from .options import glucose_unit, thresholds

# Coordinator is used to centralize the data updates.
PARALLEL_UPDATES = 0

MG_DL: Final = UnitOfBloodGlucoseConcentration.MILLIGRAMS_PER_DECILITER
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


@dataclass(frozen=True, slots=True)
class SensorInput:
    """What a sensor's value is computed from."""

    data: GlucoseData
    current: GlucoseReading
    thresholds: Thresholds
    unit: str


def sensor_limit(reading: GlucoseReading) -> str:
    """Whether Share reported LOW, HIGH or a value within the sensor's range."""
    if reading.value <= LOW_VALUE:
        return "low"
    if reading.value >= HIGH_VALUE:
        return "high"
    return "within_range"


def rate_in_unit(source: SensorInput) -> float | None:
    """Rate of change per minute in the unit chosen in the options."""
    rate = rate_per_minute(source.data.readings)
    if rate is None or source.unit == MG_DL:
        return rate
    return round(rate / MG_DL_PER_MMOL_L, 3)


def _daily(field: str) -> Callable[[SensorInput], StateType]:
    def value(source: SensorInput) -> StateType:
        summary = daily_summary(source.data.readings, source.thresholds)
        return None if summary is None else float(getattr(summary, field))

    return value


def _prediction(minutes: int) -> Callable[[SensorInput], StateType]:
    return lambda source: predict(source.data.readings, timedelta(minutes=minutes))


@dataclass(frozen=True, kw_only=True)
class DexcomShareSensorEntityDescription(SensorEntityDescription):
    """A sensor computed from the readings held."""

    value_fn: Callable[[SensorInput], StateType | datetime]
    attributes_fn: Callable[[SensorInput], dict[str, Any]] | None = None
    needs_current: bool = True
    """Unavailable without a current reading (the 24-hour figures and the reading
    time are not: they describe the past)."""
    unit_follows_option: bool = False


SENSORS: Final = (
    DexcomShareSensorEntityDescription(
        key="glucose_value",
        translation_key="glucose_value",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda source: source.current.value,
        device_class=SensorDeviceClass.BLOOD_GLUCOSE_CONCENTRATION,
        native_unit_of_measurement=MG_DL,
    ),
    DexcomShareSensorEntityDescription(
        key="glucose_trend",
        translation_key="glucose_trend",
        device_class=SensorDeviceClass.ENUM,
        options=[trend.value for trend in Trend],
        value_fn=lambda source: source.current.trend,
        attributes_fn=lambda source: {
            "arrow": TREND_ARROWS[source.current.trend] if source.current.trend else None
        },
    ),
    DexcomShareSensorEntityDescription(
        key="sensor_limit",
        translation_key="sensor_limit",
        device_class=SensorDeviceClass.ENUM,
        options=["low", "within_range", "high"],
        value_fn=lambda source: sensor_limit(source.current),
    ),
    DexcomShareSensorEntityDescription(
        key="reading_time",
        translation_key="reading_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        needs_current=False,
        value_fn=lambda source: source.data.newest.time if source.data.newest else None,
    ),
    DexcomShareSensorEntityDescription(
        key="glucose_delta",
        translation_key="glucose_delta",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda source: delta(source.data.readings),
        device_class=SensorDeviceClass.BLOOD_GLUCOSE_CONCENTRATION,
        native_unit_of_measurement=MG_DL,
    ),
    DexcomShareSensorEntityDescription(
        key="glucose_rate",
        translation_key="glucose_rate",
        entity_registry_enabled_default=False,
        unit_follows_option=True,
        value_fn=rate_in_unit,
    ),
    DexcomShareSensorEntityDescription(
        key="glucose_range",
        translation_key="glucose_range",
        device_class=SensorDeviceClass.ENUM,
        options=[glucose_range.value for glucose_range in GlucoseRange],
        value_fn=lambda source: glucose_range(source.current, source.thresholds),
    ),
    DexcomShareSensorEntityDescription(
        key="predicted_glucose_15",
        translation_key="predicted_glucose_15",
        entity_registry_enabled_default=False,
        value_fn=_prediction(15),
        device_class=SensorDeviceClass.BLOOD_GLUCOSE_CONCENTRATION,
        native_unit_of_measurement=MG_DL,
    ),
    DexcomShareSensorEntityDescription(
        key="predicted_glucose_30",
        translation_key="predicted_glucose_30",
        entity_registry_enabled_default=False,
        value_fn=_prediction(30),
        device_class=SensorDeviceClass.BLOOD_GLUCOSE_CONCENTRATION,
        native_unit_of_measurement=MG_DL,
    ),
    DexcomShareSensorEntityDescription(
        key="time_in_range",
        translation_key="time_in_range",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        needs_current=False,
        value_fn=_daily("time_in_range"),
    ),
    DexcomShareSensorEntityDescription(
        key="time_below_range",
        translation_key="time_below_range",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=_daily("time_below_range"),
        needs_current=False,
        entity_registry_enabled_default=False,
    ),
    DexcomShareSensorEntityDescription(
        key="time_above_range",
        translation_key="time_above_range",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=_daily("time_above_range"),
        needs_current=False,
        entity_registry_enabled_default=False,
    ),
    DexcomShareSensorEntityDescription(
        key="average_glucose",
        translation_key="average_glucose",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_daily("mean"),
        device_class=SensorDeviceClass.BLOOD_GLUCOSE_CONCENTRATION,
        native_unit_of_measurement=MG_DL,
        needs_current=False,
        entity_registry_enabled_default=False,
    ),
    DexcomShareSensorEntityDescription(
        key="glucose_management_indicator",
        translation_key="glucose_management_indicator",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=_daily("gmi"),
        needs_current=False,
        entity_registry_enabled_default=False,
    ),
    DexcomShareSensorEntityDescription(
        key="coefficient_of_variation",
        translation_key="coefficient_of_variation",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=_daily("cv"),
        needs_current=False,
        entity_registry_enabled_default=False,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DexcomShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of one account."""
    async_add_entities(
        DexcomShareSensor(entry.runtime_data, description) for description in SENSORS
    )


class DexcomShareSensor(DexcomShareEntity, SensorEntity):
    """A sensor computed from the readings the coordinator holds."""

    entity_description: DexcomShareSensorEntityDescription

    def __init__(
        self,
        coordinator: DexcomShareCoordinator,
        description: DexcomShareSensorEntityDescription,
    ) -> None:
        """Create the sensor; glucose values start in the unit chosen in the options."""
        super().__init__(coordinator, description.key)
        self.entity_description = description
        unit = glucose_unit(coordinator.config_entry.options)
        if description.device_class is SensorDeviceClass.BLOOD_GLUCOSE_CONCENTRATION:
            self._attr_suggested_unit_of_measurement = unit
        if description.unit_follows_option:
            self._attr_native_unit_of_measurement = f"{unit}/min"

    def _input(self) -> SensorInput | None:
        data = self.coordinator.data
        current = data.current(dt_util.utcnow())
        if current is None:
            if self.entity_description.needs_current or not data.readings:
                return None
            current = data.readings[0]
        options = self.coordinator.config_entry.options
        return SensorInput(data, current, thresholds(options), glucose_unit(options))

    @property
    @override
    def available(self) -> bool:
        """Available while there is something current to show, even if a poll failed since.

        A reading older than 15 minutes is never shown as current; a failed poll does
        not hide one that still is.
        """
        return self._input() is not None

    @property
    @override
    def native_value(self) -> StateType | datetime:
        if (source := self._input()) is None:
            return None
        return self.entity_description.value_fn(source)

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any] | None:
        source = self._input()
        if source is None or self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(source)
