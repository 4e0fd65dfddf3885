"""The Dexcom Share integration: CGM glucose readings from Dexcom Share."""

from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, issue_registry as ir
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN, PLATFORMS
from .coordinator import (
    ENTRY_CLIENTS,
    ISSUE_LOCKED,
    ISSUE_NO_DATA,
    LOGIN_GUARDS,
    DexcomShareConfigEntry,
    DexcomShareCoordinator,
    issue_id,
)
from .services import async_setup_services

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions, once for all entries."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: DexcomShareConfigEntry) -> bool:
    """Log in, read once, then add the entities."""
    coordinator = DexcomShareCoordinator(hass, entry)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: DexcomShareConfigEntry) -> bool:
    """Remove the entities; the coordinator stops with the entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: DexcomShareConfigEntry) -> None:
    """Forget the entry's client, login guard and repair issues."""
    hass.data.get(LOGIN_GUARDS, {}).pop(entry.entry_id, None)
    hass.data.get(ENTRY_CLIENTS, {}).pop(entry.entry_id, None)
    for kind in (ISSUE_LOCKED, ISSUE_NO_DATA):
        ir.async_delete_issue(hass, DOMAIN, issue_id(kind, entry.entry_id))
