"""Binary sensors: data stale (no new reading for a while) and low soon."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, override

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .analysis import low_soon
from .const import LOW_SOON_WITHIN
from .coordinator import DexcomShareConfigEntry, DexcomShareCoordinator
from .entity import DexcomShareEntity
from .options import stale_after, thresholds

# Coordinator is used to centralize the data updates.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class DexcomShareBinarySensorEntityDescription(BinarySensorEntityDescription):
    """A yes/no answer from the readings held."""

    is_on_fn: Callable[[DexcomShareCoordinator, datetime], bool | None]
    needs_current: bool = True


def _data_stale(coordinator: DexcomShareCoordinator, now: datetime) -> bool:
    newest = coordinator.data.newest
    return newest is None or now - newest.time >= stale_after(coordinator.config_entry.options)


def _low_soon(coordinator: DexcomShareCoordinator, _now: datetime) -> bool | None:
    return low_soon(
        coordinator.data.readings,
        thresholds(coordinator.config_entry.options),
        LOW_SOON_WITHIN,
    )


BINARY_SENSORS: Final = (
    DexcomShareBinarySensorEntityDescription(
        key="data_stale",
        translation_key="data_stale",
        device_class=BinarySensorDeviceClass.PROBLEM,
        needs_current=False,
        is_on_fn=_data_stale,
    ),
    DexcomShareBinarySensorEntityDescription(
        key="low_soon",
        translation_key="low_soon",
        is_on_fn=_low_soon,
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
        """Data stale is always available; low soon needs a current reading."""
        return not self.entity_description.needs_current or self.current_reading is not None

    @property
    @override
    def is_on(self) -> bool | None:
        return self.entity_description.is_on_fn(self.coordinator, dt_util.utcnow())
