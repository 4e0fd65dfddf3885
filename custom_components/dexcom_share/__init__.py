"""The Dexcom Share integration: CGM glucose readings from Dexcom Share."""

from homeassistant.components.recorder import get_instance
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN, PLATFORMS
from .coordinator import DexcomShareConfigEntry, DexcomShareCoordinator, delete_issues
from .frontend import async_register_card
from .services import async_setup_services
from .statistics import statistic_id
from .storage import async_entry_state, async_remove_entry_state
from .websocket_api import async_register_commands

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions, the card and its websocket command, once for all entries."""
    async_setup_services(hass)
    async_register_commands(hass)
    await async_register_card(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: DexcomShareConfigEntry) -> bool:
    """Read once (or wait, if Share or a lockout asks to), then add the entities."""
    state = await async_entry_state(hass, entry.entry_id)
    coordinator = DexcomShareCoordinator(hass, entry, state)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    coordinator.start_alerts()
    coordinator.follow_fallback()
    return True


async def async_unload_entry(hass: HomeAssistant, entry: DexcomShareConfigEntry) -> bool:
    """Remove the entities and the repair issues; write what the entry learned."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        delete_issues(hass, entry.entry_id)
        await entry.runtime_data.state.async_save()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: DexcomShareConfigEntry) -> None:
    """Forget everything about the entry: client, stored state, issues and statistic."""
    delete_issues(hass, entry.entry_id)
    if "recorder" in hass.config.components:
        get_instance(hass).async_clear_statistics([statistic_id(entry.entry_id)])
    await async_remove_entry_state(hass, entry.entry_id)
