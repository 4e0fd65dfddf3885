"""Event entities: one per new reading, and one per thing that happens to an alert."""

from typing import Any, override

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DEFAULT_UNIT
from .coordinator import DexcomShareConfigEntry, DexcomShareCoordinator
from .entity import DexcomShareAlertEntity, DexcomShareEntity
from .glucose.alerts import AlertEvent, AlertEventType
from .glucose.units import convert

# Coordinator is used to centralize the data updates.
PARALLEL_UPDATES = 0

NEW_READING = "new_reading"
GLUCOSE_ALERT = "glucose_alert"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DexcomShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the new-reading and alert events of one account."""
    async_add_entities(
        [DexcomShareReadingEvent(entry.runtime_data), DexcomShareAlertEvent(entry.runtime_data)]
    )


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


def alert_attributes(event: AlertEvent, unit: str) -> dict[str, Any]:
    """What an alert event carries: the kind, the value in the entry's unit, who did it."""
    value = None
    if event.value is not None:
        value = round(convert(event.value, unit), 0 if unit == DEFAULT_UNIT else 1)
    attributes: dict[str, Any] = {
        "alert": str(event.kind),
        "value": int(value) if value is not None and unit == DEFAULT_UNIT else value,
        "unit": unit,
        "by": event.by,
    }
    if event.reason is not None:
        attributes["reason"] = event.reason
    if event.until is not None:
        attributes["until"] = event.until.isoformat()
    return attributes


class DexcomShareAlertEvent(DexcomShareAlertEntity, EventEntity):
    """Fires `raised`, `repeated`, `escalated`, `acknowledged`, `snoozed` and `cleared`.

    The delivery blueprint turns these into notifications; each carries the alert's
    kind, the glucose in the entry's unit and who acted.
    """

    _attr_translation_key = GLUCOSE_ALERT

    def __init__(self, coordinator: DexcomShareCoordinator) -> None:
        """One per account, on its device."""
        super().__init__(coordinator, GLUCOSE_ALERT)
        self._attr_event_types = [str(event_type) for event_type in AlertEventType]

    @callback
    @override
    def _alert(self, event: AlertEvent | None) -> None:
        if event is None:
            return
        self._trigger_event(
            str(event.type), alert_attributes(event, self.coordinator.data.options.unit)
        )
        self.async_write_ha_state()
