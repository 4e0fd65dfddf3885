"""Binary sensors: data stale (no new reading for a while), low soon, sensor expiring soon."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, override

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import DexcomShareConfigEntry, DexcomShareCoordinator
from .entity import DexcomShareEntity
from .glucose.snapshot import Snapshot

# Coordinator is used to centralize the data updates.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class DexcomShareBinarySensorEntityDescription(BinarySensorEntityDescription):
    """A yes/no answer from the coordinator's snapshot."""

    is_on_fn: Callable[[Snapshot], bool | None]
    needs_current: bool = True


BINARY_SENSORS: Final = (
    DexcomShareBinarySensorEntityDescription(
        key="data_stale",
        translation_key="data_stale",
        device_class=BinarySensorDeviceClass.PROBLEM,
        needs_current=False,
        is_on_fn=lambda snapshot: snapshot.data_stale,
    ),
    DexcomShareBinarySensorEntityDescription(
        key="low_soon",
        translation_key="low_soon",
        is_on_fn=lambda snapshot: snapshot.low_soon,
    ),
    DexcomShareBinarySensorEntityDescription(
        key="sensor_expiring_soon",
        translation_key="sensor_expiring_soon",
        needs_current=False,
        is_on_fn=lambda snapshot: (
            None if snapshot.session is None else snapshot.session.expiring_soon(snapshot.at)
        ),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DexcomShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of one account."""
    async_add_entities(
        DexcomShareBinarySensor(entry.runtime_data, description) for description in BINARY_SENSORS
    )


class DexcomShareBinarySensor(DexcomShareEntity, BinarySensorEntity):
    """A binary sensor computed from the readings held."""

    entity_description: DexcomShareBinarySensorEntityDescription

    def __init__(
        self,
        coordinator: DexcomShareCoordinator,
        description: DexcomShareBinarySensorEntityDescription,
    ) -> None:
        """Create the binary sensor."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    @override
    def available(self) -> bool:
        """Low soon needs a current reading; data stale and the sensor's expiry do not."""
        return (
            not self.entity_description.needs_current or self.coordinator.data.current is not None
        )

    @property
    @override
    def is_on(self) -> bool | None:
        return self.entity_description.is_on_fn(self.coordinator.data)
