"""The glucose profile (AGP) of the report period, as a picture.

Drawing takes about a tenth of a second, so it runs in the executor, at most once
an hour (a profile of days moves little in an hour) and at once when what it shows
changes: the unit or the report period (its bands are the consensus's, not the
user's thresholds). Between drawings the PNG is served from memory.
"""

from datetime import datetime, timedelta
import logging
from typing import Final, override
from zoneinfo import ZoneInfo

from homeassistant.components.image import ImageEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import LOGGER
from .coordinator import DexcomShareConfigEntry, DexcomShareCoordinator
from .entity import DexcomShareEntity
from .glucose.agp import glucose_profile, render_agp_png
from .glucose.snapshot import Snapshot

# Coordinator is used to centralize the data updates.
PARALLEL_UPDATES = 0

GLUCOSE_PROFILE: Final = "glucose_profile"
REDRAW_AFTER: Final = timedelta(hours=1)


def draw_profile(snapshot: Snapshot, time_zone: str, title: str) -> bytes:
    """The AGP picture of the snapshot's report period, days folded in `time_zone`.

    Blocking (the time zone may be read from disk too): run it in the executor.
    """
    options = snapshot.options
    profile = glucose_profile(
        snapshot.history, snapshot.at, options.report_days, ZoneInfo(time_zone)
    )
    return render_agp_png(profile, options.unit, title)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DexcomShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the account's glucose profile."""
    async_add_entities([DexcomShareGlucoseProfile(hass, entry.runtime_data)])


class DexcomShareGlucoseProfile(DexcomShareEntity, ImageEntity):
    """The AGP of the report period, from the local history; unknown until first drawn."""

    _attr_translation_key = GLUCOSE_PROFILE
    _attr_content_type = "image/png"

    def __init__(self, hass: HomeAssistant, coordinator: DexcomShareCoordinator) -> None:
        """One per account, on its device."""
        DexcomShareEntity.__init__(self, coordinator, GLUCOSE_PROFILE)
        ImageEntity.__init__(self, hass)
        self._png: bytes | None = None
        self._drawn: tuple[datetime, str, int] | None = None
        """When the picture was drawn, in which unit, over how many days."""
        self._drawing = False
        self._failed = False
        """The last drawing failed (its traceback is logged once)."""

    @property
    @override
    def available(self) -> bool:
        """The picture comes from the local history, whatever Share does."""
        return True

    @override
    async def async_added_to_hass(self) -> None:
        """Draw the first picture."""
        await super().async_added_to_hass()
        self._draw_if_due()

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        """Draw again when due; until then the state (the drawing's time) stays."""
        self._draw_if_due()

    def _is_due(self, snapshot: Snapshot) -> bool:
        if self._drawn is None:
            return True
        drawn_at, unit, days = self._drawn
        options = snapshot.options
        return (
            unit != options.unit
            or days != options.report_days
            or snapshot.at - drawn_at >= REDRAW_AFTER
        )

    @callback
    def _draw_if_due(self) -> None:
        """Start a drawing of the newest snapshot, unless one is running or not due."""
        snapshot = self.coordinator.data
        if self._drawing or not self._is_due(snapshot):
            return
        self._drawing = True
        self.coordinator.config_entry.async_create_task(
            self.hass,
            self._async_draw(snapshot),
            "dexcom_share glucose profile",
        )

    async def _async_draw(self, snapshot: Snapshot) -> None:
        """Draw the snapshot's history, then show it."""
        try:
            png = await self.hass.async_add_executor_job(
                draw_profile,
                snapshot,
                self.hass.config.time_zone,
                f"Dexcom {self.coordinator.config_entry.title}",
            )
        except Exception:  # noqa: BLE001
            # A drawing that fails once fails again: try at the next hour, not every
            # poll, and show the traceback once.
            LOGGER.log(
                logging.DEBUG if self._failed else logging.ERROR,
                "Could not draw the glucose profile; trying again in an hour",
                exc_info=not self._failed,
            )
            self._failed = True
        else:
            self._failed = False
            self._png = png
            self._attr_image_last_updated = snapshot.at
        finally:
            self._drawing = False
        self._drawn = (snapshot.at, snapshot.options.unit, snapshot.options.report_days)
        self.async_write_ha_state()
        # The options may have changed while this one was drawn.
        self._draw_if_due()

    @override
    async def async_image(self) -> bytes | None:
        """The newest picture drawn."""
        return self._png
