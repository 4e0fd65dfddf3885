"""The shared snooze: one "Alerts snoozed until" per account, for every caregiver.

The blueprints read it before alerting and set it from a notification's action, so
one snooze silences every phone. It survives restarts.
"""

from datetime import datetime
from typing import override

from homeassistant.components.datetime import DateTimeEntity
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity
from homeassistant.util import dt as dt_util

from .coordinator import DexcomShareConfigEntry, DexcomShareCoordinator
from .entity import DexcomShareEntity

# Coordinator is used to centralize the data updates.
PARALLEL_UPDATES = 0

ALERTS_SNOOZED_UNTIL = "alerts_snoozed_until"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DexcomShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the account's shared snooze."""
    async_add_entities([DexcomShareSnooze(entry.runtime_data)])


class DexcomShareSnooze(DexcomShareEntity, DateTimeEntity, RestoreEntity):
    """Until when the account's alerts are snoozed; unknown until first set."""

    _attr_translation_key = ALERTS_SNOOZED_UNTIL
    _attr_native_value: datetime | None = None

    def __init__(self, coordinator: DexcomShareCoordinator) -> None:
        """One per account, on its device."""
        super().__init__(coordinator, ALERTS_SNOOZED_UNTIL)

    @property
    @override
    def available(self) -> bool:
        """A snooze can be read and set whatever Share does."""
        return True

    @override
    async def async_added_to_hass(self) -> None:
        """Take the snooze back from before the restart."""
        await super().async_added_to_hass()
        last_state = await self.async_get_last_state()
        if last_state is not None and last_state.state not in (STATE_UNKNOWN, STATE_UNAVAILABLE):
            self._attr_native_value = dt_util.parse_datetime(last_state.state)

    @override
    async def async_set_value(self, value: datetime) -> None:
        """Snooze until `value` (a time in the past ends the snooze)."""
        self._attr_native_value = value
        self.async_write_ha_state()
