"""The base entity: one service device per Share account."""

from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import DexcomShareCoordinator


class DexcomShareEntity(CoordinatorEntity[DexcomShareCoordinator]):
    """An entity of one Share account, on the device "Dexcom <entry title>"."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: DexcomShareCoordinator, key: str) -> None:
        """Attach to the account's device; unique IDs derive from the account ID."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.unique_id}_{key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, str(entry.unique_id))},
            entry_type=DeviceEntryType.SERVICE,
            manufacturer="Dexcom",
            model="Share",
            name=f"Dexcom {entry.title}",
        )
