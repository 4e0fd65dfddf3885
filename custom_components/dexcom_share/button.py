"""The "Sensor replaced" button: the user says when the new sensor went on.

The readings show a sensor change only after the warm-up and an hour of new
readings; the button gives the start at once, and corrects a start the readings
got wrong.
"""

from typing import Final, override

from homeassistant.components.button import ButtonEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import DexcomShareConfigEntry, DexcomShareCoordinator
from .entity import DexcomShareEntity

# Coordinator is used to centralize the data updates.
PARALLEL_UPDATES = 0

SENSOR_REPLACED: Final = "sensor_replaced"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DexcomShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the account's "Sensor replaced" button."""
    async_add_entities([DexcomShareSensorReplacedButton(entry.runtime_data)])


class DexcomShareSensorReplacedButton(DexcomShareEntity, ButtonEntity):
    """Sets the sensor session's start to now (kept across restarts)."""

    _attr_translation_key = SENSOR_REPLACED

    def __init__(self, coordinator: DexcomShareCoordinator) -> None:
        """One per account, on its device."""
        super().__init__(coordinator, SENSOR_REPLACED)

    @property
    @override
    def available(self) -> bool:
        """A sensor can be replaced whatever Share does."""
        return True

    @override
    async def async_press(self) -> None:
        self.coordinator.sensor_replaced()
