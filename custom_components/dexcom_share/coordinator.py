"""The coordinator: reads Share, keeps 24 hours of readings, knows what is current."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import CONF_REGION, DOMAIN, HISTORY, LOGGER, STALE_AFTER
from .models import GlucoseReading
from .options import stale_after
from .schedule import PollPlanner, read_window
from .share import (
    LoginGuard,
    ShareAuthError,
    ShareClient,
    ShareConnectionError,
    ShareError,
    ShareLockedError,
)
from .statistics import StatisticsImporter

type DexcomShareConfigEntry = ConfigEntry[DexcomShareCoordinator]

# Until the first read plans the next one; the shortest and longest waits scheduled.
INITIAL_INTERVAL: Final = timedelta(minutes=1)
MIN_INTERVAL: Final = timedelta(seconds=5)
MAX_INTERVAL: Final = timedelta(hours=1)
# A reading stamped further ahead of Home Assistant's clock than this is ignored (a
# bad uploader or a clock not yet set); it could otherwise pose as current for long.
MAX_CLOCK_AHEAD: Final = timedelta(minutes=5)
# Share answering without any reading for this long is worth a repair issue.
NO_DATA_ISSUE_AFTER: Final = timedelta(hours=3)
ISSUE_LOCKED: Final = "account_locked"
ISSUE_NO_DATA: Final = "no_recent_data"
LOGIN_GUARDS: HassKey[dict[str, LoginGuard]] = HassKey(f"{DOMAIN}_login_guards")
ENTRY_CLIENTS: HassKey[dict[str, ShareClient]] = HassKey(f"{DOMAIN}_clients")


@dataclass(frozen=True, slots=True)
class GlucoseData:
    """The readings of the last 24 hours, newest first, one per timestamp."""

    readings: tuple[GlucoseReading, ...] = ()
    new: tuple[GlucoseReading, ...] = ()
    """Readings this update added, oldest first (none on the first load)."""

    @property
    def newest(self) -> GlucoseReading | None:
        """The newest reading held, however old."""
        return self.readings[0] if self.readings else None

    def current(self, now: datetime) -> GlucoseReading | None:
        """The newest reading if it is recent enough to be shown as current."""
        newest = self.newest
        if newest is None or now - newest.time >= STALE_AFTER:
            return None
        return newest

    def merged(self, fetched: Iterable[GlucoseReading], now: datetime) -> GlucoseData:
        """These readings plus `fetched` (newer values win), none older than 24 h."""
        by_time = {reading.time: reading for reading in self.readings}
        added = sorted(
            (
                reading
                for reading in fetched
                if reading.time not in by_time and reading.time - now <= MAX_CLOCK_AHEAD
            ),
            key=lambda reading: reading.time,
        )
        by_time.update((reading.time, reading) for reading in fetched)
        kept = sorted(
            (
                reading
                for reading in by_time.values()
                if -MAX_CLOCK_AHEAD <= now - reading.time <= HISTORY
            ),
            key=lambda reading: reading.time,
            reverse=True,
        )
        return GlucoseData(tuple(kept), tuple(added) if self.readings else ())


def _translated(err: ShareError) -> ConfigEntryAuthFailed | UpdateFailed:
    """The coordinator's translated failure for a Share error."""
    if isinstance(err, ShareAuthError):
        if err.retry_after is None:
            return ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="invalid_auth")
        return UpdateFailed(translation_domain=DOMAIN, translation_key="auth_retry")
    if isinstance(err, ShareLockedError):
        key = "account_locked"
    elif isinstance(err, ShareConnectionError):
        key = "cannot_connect"
    else:
        key = "invalid_data"
    return UpdateFailed(translation_domain=DOMAIN, translation_key=key)


def error_kind(err: ShareError) -> str:
    """A short name of the error, for diagnostics."""
    return {
        ShareAuthError: "auth",
        ShareLockedError: "locked",
        ShareConnectionError: "transient",
    }.get(type(err), "bad_data")


def issue_id(kind: str, entry_id: str) -> str:
    """The repair issue ID of one kind for one entry."""
    return f"{kind}_{entry_id}"


def login_guard(hass: HomeAssistant, entry_id: str) -> LoginGuard:
    """The entry's login guard, kept across setup retries and reloads."""
    return hass.data.setdefault(LOGIN_GUARDS, {}).setdefault(entry_id, LoginGuard())


def entry_client(hass: HomeAssistant, entry: DexcomShareConfigEntry) -> ShareClient:
    """The entry's Share client, kept across setup retries and reloads.

    Its session survives them, so a start-up during an outage costs one login, not one
    per retry. New credentials (after reauthentication) get a new client.
    """
    clients = hass.data.setdefault(ENTRY_CLIENTS, {})
    client = ShareClient(
        entry.data[CONF_USERNAME],
        entry.data[CONF_PASSWORD],
        entry.data[CONF_REGION],
        login_guard(hass, entry.entry_id),
    )
    known = clients.get(entry.entry_id)
    if known is not None and known.credentials == client.credentials:
        return known
    clients[entry.entry_id] = client
    return client


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
            update_interval=INITIAL_INTERVAL,
        )
        self.planner = PollPlanner()
        self.client = entry_client(hass, entry)
        self.statistics = StatisticsImporter(hass, entry.entry_id, f"Dexcom {entry.title} glucose")
        self.errors: Counter[str] = Counter()
        self.last_error: dict[str, datetime] = {}
        self._started = dt_util.utcnow()
        self._cancel_staleness: CALLBACK_TYPE | None = None

    @override
    async def _async_setup(self) -> None:
        """Log in once; later reads reuse the session."""
        try:
            await self.hass.async_add_executor_job(self.client.login)
        except ShareError as err:
            self._failed(err)
            raise _translated(err) from err

    @override
    async def _async_update_data(self) -> GlucoseData:
        data = self.data or GlucoseData()
        previous = data.newest.time if data.newest else None
        window = read_window(previous, dt_util.utcnow())
        try:
            readings = await self.hass.async_add_executor_job(
                self.client.read, window.minutes, window.max_count
            )
        except ShareError as err:
            self._failed(err)
            self._plan(self.planner.after_error(dt_util.utcnow(), err.retry_after))
            raise _translated(err) from err
        now = dt_util.utcnow()
        first_load = not data.readings
        data = data.merged(readings, now)
        self.statistics.readings_added(
            data.readings, data.readings if first_load else data.new, now
        )
        newest = data.newest.time if data.newest else None
        self.planner.observe(previous, newest, now)
        self._plan(self.planner.next_poll(newest, now))
        self._schedule_staleness(data)
        ir.async_delete_issue(self.hass, DOMAIN, self._issue_id(ISSUE_LOCKED))
        self._update_no_data_issue(newest, now)
        return data

    @callback
    def options_changed(self) -> None:
        """Show new thresholds and "Data stale" time at once."""
        if self.data:
            self._schedule_staleness(self.data)
        self.async_update_listeners()

    def _failed(self, err: ShareError) -> None:
        """Count the error; a lockout also becomes a repair issue."""
        kind = error_kind(err)
        self.errors[kind] += 1
        self.last_error[kind] = dt_util.utcnow()
        if isinstance(err, ShareLockedError):
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                self._issue_id(ISSUE_LOCKED),
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=ISSUE_LOCKED,
                translation_placeholders={
                    "title": self.config_entry.title,
                    "minutes": str(max(1, round(err.retry_after / 60))),
                },
            )

    def _update_no_data_issue(self, newest: datetime | None, now: datetime) -> None:
        """Raise a repair issue while Share has had no reading for hours; clear it after."""
        issue_id = self._issue_id(ISSUE_NO_DATA)
        if now - (newest or self._started) < NO_DATA_ISSUE_AFTER:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_NO_DATA,
            translation_placeholders={"title": self.config_entry.title},
        )

    def _issue_id(self, kind: str) -> str:
        return issue_id(kind, self.config_entry.entry_id)

    def _plan(self, when: datetime) -> None:
        """Schedule the next refresh at `when` (the coordinator takes an interval)."""
        self.update_interval = min(MAX_INTERVAL, max(MIN_INTERVAL, when - dt_util.utcnow()))

    def _schedule_staleness(self, data: GlucoseData) -> None:
        """Refresh the entities when the newest reading crosses an age that matters.

        At 15 minutes it stops being current; at the user's "Data stale" time that
        binary sensor turns on.
        """
        if self._cancel_staleness:
            self._cancel_staleness()
            self._cancel_staleness = None
        if (newest := data.newest) is None:
            return
        now = dt_util.utcnow()
        ages = (STALE_AFTER, stale_after(self.config_entry.options))
        upcoming = [newest.time + age for age in ages if newest.time + age > now]
        if upcoming:
            self._cancel_staleness = async_track_point_in_utc_time(
                self.hass, self._reading_aged, min(upcoming)
            )

    @callback
    def _reading_aged(self, _now: datetime) -> None:
        self._cancel_staleness = None
        self.async_update_listeners()
        if self.data:
            self._schedule_staleness(self.data)

    @override
    async def async_shutdown(self) -> None:
        """Stop the staleness timer with the coordinator."""
        if self._cancel_staleness:
            self._cancel_staleness()
            self._cancel_staleness = None
        await super().async_shutdown()
