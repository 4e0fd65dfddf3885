"""The Dexcom Share integration: CGM glucose readings from Dexcom Share."""

from homeassistant.core import HomeAssistant

from .const import PLATFORMS
from .coordinator import DexcomShareConfigEntry, DexcomShareCoordinator


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
