"""An event entity that fires once for every new reading, repeats and backlogs included."""

from typing import override

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import DexcomShareConfigEntry, DexcomShareCoordinator
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
        """Remember the update already seen, so that nothing fires twice."""
        super().__init__(coordinator, NEW_READING)
        self._attr_event_types = [NEW_READING]
        self._seen_generation = coordinator.data.generation

    @property
    @override
    def available(self) -> bool:
        """Events can arrive whenever Share answers."""
        return True

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        snapshot = self.coordinator.data
        if snapshot.generation == self._seen_generation:
            return  # the same update, shown again for new options or an age
        self._seen_generation = snapshot.generation
        for reading in snapshot.new:
            self._trigger_event(
                NEW_READING,
                {
                    "value": reading.value,
                    "trend": reading.trend,
                    "reading_time": reading.time.isoformat(),
                },
            )
            self.async_write_ha_state()
