"""The coordinator: reads Share, keeps 24 hours of readings, knows what is current."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import override

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .const import CONF_REGION, DOMAIN, HISTORY, LOGGER, STALE_AFTER
from .schedule import POLL_INTERVAL, read_window
from .share import (
    GlucoseReading,
    ShareAuthError,
    ShareClient,
    ShareConnectionError,
    ShareDataError,
    ShareError,
    ShareLockedError,
)

type DexcomShareConfigEntry = ConfigEntry[DexcomShareCoordinator]


@dataclass(frozen=True, slots=True)
class GlucoseData:
    """The readings of the last 24 hours, newest first, one per timestamp."""

    readings: tuple[GlucoseReading, ...] = ()

    @property
    def newest(self) -> GlucoseReading | None:
        """The newest reading held, however old."""
        return self.readings[0] if self.readings else None

    def current(self, now: datetime) -> GlucoseReading | None:
        """The newest reading if it is recent enough to be shown as current."""
        newest = self.newest
        if newest is None or now - newest.time > STALE_AFTER:
            return None
        return newest

    def merged(self, new: Iterable[GlucoseReading], now: datetime) -> GlucoseData:
        """These readings plus `new` (newer values win), without any older than 24 h."""
        by_time = {reading.time: reading for reading in self.readings}
        by_time.update((reading.time, reading) for reading in new)
        return GlucoseData(
            tuple(
                sorted(
                    (r for r in by_time.values() if now - r.time <= HISTORY),
                    key=lambda reading: reading.time,
                    reverse=True,
                )
            )
        )


def _update_failed(err: ShareError) -> UpdateFailed:
    """The coordinator's translated failure for a Share error."""
    if isinstance(err, ShareLockedError):
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="account_locked",
            retry_after=err.retry_after,
        )
    key = "invalid_data" if isinstance(err, ShareDataError) else "cannot_connect"
    retry_after = err.retry_after if isinstance(err, ShareConnectionError) else None
    return UpdateFailed(translation_domain=DOMAIN, translation_key=key, retry_after=retry_after)


class DexcomShareCoordinator(DataUpdateCoordinator[GlucoseData]):
    """Polls one Share account."""

    config_entry: DexcomShareConfigEntry

    def __init__(self, hass: HomeAssistant, entry: DexcomShareConfigEntry) -> None:
        """Prepare the Share client from the entry's credentials."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=DOMAIN,
            update_interval=POLL_INTERVAL,
        )
        self.client = ShareClient(
            entry.data[CONF_USERNAME], entry.data[CONF_PASSWORD], entry.data[CONF_REGION]
        )
        self._cancel_staleness: CALLBACK_TYPE | None = None

    @override
    async def _async_setup(self) -> None:
        """Log in once; later reads reuse the session."""
        await self._call_share(self.client.login)

    @override
    async def _async_update_data(self) -> GlucoseData:
        data = self.data or GlucoseData()
        now = dt_util.utcnow()
        newest = data.newest
        window = read_window(newest.time if newest else None, now)
        readings = await self._call_share(self.client.read, window.minutes, window.max_count)
        data = data.merged(readings, dt_util.utcnow())
        self._schedule_staleness(data)
        return data

    async def _call_share[*Ts, R](self, job: Callable[[*Ts], R], *args: *Ts) -> R:
        try:
            return await self.hass.async_add_executor_job(job, *args)
        except ShareAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            ) from err
        except ShareError as err:
            raise _update_failed(err) from err

    def _schedule_staleness(self, data: GlucoseData) -> None:
        """Refresh the entities when the newest reading stops being current."""
        if self._cancel_staleness:
            self._cancel_staleness()
            self._cancel_staleness = None
        if (newest := data.newest) is not None:
            self._cancel_staleness = async_track_point_in_utc_time(
                self.hass, self._reading_went_stale, newest.time + STALE_AFTER
            )

    @callback
    def _reading_went_stale(self, _now: datetime) -> None:
        self._cancel_staleness = None
        self.async_update_listeners()

    @override
    async def async_shutdown(self) -> None:
        """Stop the staleness timer with the coordinator."""
        if self._cancel_staleness:
            self._cancel_staleness()
            self._cancel_staleness = None
        await super().async_shutdown()
