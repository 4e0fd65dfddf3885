"""An event entity that fires once for every new reading, repeats and backlogs included."""

from typing import override

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import DexcomShareConfigEntry, DexcomShareCoordinator, GlucoseData
from .entity import DexcomShareEntity

# Coordinator is used to centralize the data updates.
PARALLEL_UPDATES = 0

NEW_READING = "new_reading"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DexcomShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the new-reading event of one account."""
    async_add_entities([DexcomShareReadingEvent(entry.runtime_data)])


class DexcomShareReadingEvent(DexcomShareEntity, EventEntity):
    """Fires `new_reading` with value (mg/dL), trend and reading time."""

    _attr_translation_key = "new_reading"

    def __init__(self, coordinator: DexcomShareCoordinator) -> None:
        """Remember the data already seen, so that nothing fires twice."""
        super().__init__(coordinator, NEW_READING)
        self._attr_event_types = [NEW_READING]
        self._seen: GlucoseData | None = coordinator.data

    @property
    @override
    def available(self) -> bool:
        """Events can arrive whenever Share answers."""
        return True

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        data = self.coordinator.data
        if data is self._seen:
            return  # listeners were only woken because a reading aged
        self._seen = data
        for reading in data.new:
            self._trigger_event(
                NEW_READING,
                {
                    "value": reading.value,
                    "trend": reading.trend,
                    "reading_time": reading.time.isoformat(),
                },
            )
            self.async_write_ha_state()
