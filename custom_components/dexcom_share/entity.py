"""The base entity: one service device per Share account."""

from typing import override

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import DexcomShareCoordinator
from .glucose.alerts import AlertEvent


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


class DexcomShareAlertEntity(DexcomShareEntity):
    """An entity of the account's alerts: always available, told of every alert event."""

    @property
    @override
    def available(self) -> bool:
        """Alerts happen, and are known, whatever Share does (no data is one of them)."""
        return True

    @override
    async def async_added_to_hass(self) -> None:
        """Follow the alerts, not only the snapshots."""
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.add_alert_listener(self._alert))

    @callback
    def _alert(self, event: AlertEvent | None) -> None:
        """An alert event happened, or (None) only the alerts' states changed."""
        self.async_write_ha_state()
