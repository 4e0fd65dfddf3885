"""The coordinator: reads Share when the planner says, and publishes one snapshot per update."""

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import ATTR_UNIT_OF_MEASUREMENT, CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
)
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .const import CONF_REGION, DOMAIN, LOGGER
from .glucose.alerts import AlertEngine, AlertEvent, AlertKind
from .glucose.analysis import age_limits, build_snapshot, recent
from .glucose.fallback import (
    SHARE_QUIET_AFTER,
    fallback_reading,
    fallback_wanted,
    fresh,
    glucose_mg_dl,
    newest_from_share,
)
from .glucose.models import SHARE_PROBLEMS, DataStatus, GlucoseReading
from .glucose.planner import PollPlanner, read_window
from .glucose.session import CONFIRMATION
from .glucose.share import (
    ShareAuthError,
    ShareClient,
    ShareConnectionError,
    ShareError,
    ShareLockedError,
    ShareSessionExpiredError,
)
from .glucose.snapshot import Snapshot
from .options import alert_settings, display_options, fallback_sensor
from .statistics import StatisticsImporter
from .storage import EntryState, domain_data

type DexcomShareConfigEntry = ConfigEntry[DexcomShareCoordinator]

# Until the first read plans the next one; the shortest and longest waits planned.
INITIAL_INTERVAL: Final = timedelta(minutes=1)
MIN_INTERVAL: Final = timedelta(seconds=5)
MAX_INTERVAL: Final = timedelta(hours=1)
# Share answering without any reading for this long is worth a repair issue.
NO_DATA_ISSUE_AFTER: Final = timedelta(hours=3)
# Share asking to wait longer than this is worth a repair issue.
LONG_WAIT: Final = timedelta(hours=1)
ISSUE_LOCKED: Final = "account_locked"
ISSUE_NO_DATA: Final = "no_recent_data"
ISSUE_WAIT: Final = "share_asked_to_wait"
ISSUE_SENSOR_EXPIRES: Final = "sensor_expires_soon"
ISSUE_CLOCK: Final = "clock_off"
ISSUES: Final = (ISSUE_LOCKED, ISSUE_NO_DATA, ISSUE_WAIT, ISSUE_SENSOR_EXPIRES, ISSUE_CLOCK)
# Home Assistant's clock further than this from Share's (its answers' Date header) is
# worth a repair issue, and stops the history's pruning: readings stamped now would
# look more than a few minutes old or ahead, and beyond 5 minutes ahead are not taken.
CLOCK_TOLERANCE: Final = timedelta(minutes=3)
# Data status says "waiting" until this share of an account's readings would have
# reached Share, "delayed" after.
NORMAL_DELAY_SHARE: Final = 0.9
# An entry held back by the pacer this long past its planned read reads anyway.
HELD_BACK_LIMIT: Final = timedelta(seconds=60)


def _translated(err: ShareError) -> UpdateFailed:
    """The coordinator's translated failure for a Share error that may pass."""
    if isinstance(err, ShareAuthError):
        key = "auth_retry"
    elif isinstance(err, ShareLockedError):
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


def delete_issues(hass: HomeAssistant, entry_id: str) -> None:
    """Remove every repair issue of the entry (it is unloaded, disabled or removed)."""
    for kind in ISSUES:
        ir.async_delete_issue(hass, DOMAIN, issue_id(kind, entry_id))


def entry_client(
    hass: HomeAssistant, entry: DexcomShareConfigEntry, state: EntryState
) -> ShareClient:
    """The entry's Share client, kept across reloads while the credentials stay.

    Its session survives a reload, so reloading costs no login. New credentials
    (after reauthentication) get a new client; every client asks the entry's guard.
    """
    clients = domain_data(hass).clients
    client = ShareClient(
        async_get_clientsession(hass),
        entry.data[CONF_USERNAME],
        entry.data[CONF_PASSWORD],
        entry.data[CONF_REGION],
        state.guard,
    )
    known = clients.get(entry.entry_id)
    if known is not None and known.credentials == client.credentials and known.guard is state.guard:
        return known
    clients[entry.entry_id] = client
    return client


def _epoch_to_utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _local_time(moment: datetime) -> str:
    """A time for a repair issue's text, the same in every language."""
    return dt_util.as_local(moment).strftime("%Y-%m-%d %H:%M")


class DexcomShareCoordinator(DataUpdateCoordinator[Snapshot]):
    """Polls one Share account."""

    config_entry: DexcomShareConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: DexcomShareConfigEntry, state: EntryState
    ) -> None:
        """Prepare the Share client and the planner from what the entry learned before."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=DOMAIN,
            update_interval=INITIAL_INTERVAL,
        )
        self.state = state
        self.planner = PollPlanner.from_dict(state.planner)
        self.client = entry_client(hass, entry, state)
        self.pacer = domain_data(hass).pacer
        self.statistics = StatisticsImporter(hass, entry.entry_id, f"Dexcom {entry.title} glucose")
        self.errors: Counter[str] = Counter()
        self.last_error: dict[str, datetime] = {}
        self._generation = 0
        self._events_from = dt_util.utcnow()
        """New-reading events fire for readings taken since setup (not for the backlog)."""
        self._closed = False
        self._loaded = False
        """Share has answered since setup (the first answer fires no events)."""
        self._published: Snapshot | None = None
        self._merged_at = self._events_from
        """When readings were last merged (Share answered, or the fallback's was taken)."""
        self._cancel_aging: CALLBACK_TYPE | None = None
        self._due = self._events_from
        """When the planned read is due; the pacer may hold it back, but not for long."""
        self._failure: str | None = None
        """The kind of the last failed read (None once Share answers again)."""
        self.alerts = AlertEngine.from_dict(state.alerts, alert_settings(entry.options))
        self._alert_listeners: list[Callable[[AlertEvent | None], None]] = []
        self._alerts_started = False
        self._cancel_alert_timer: CALLBACK_TYPE | None = None
        self._fallback_seen: GlucoseReading | None = None
        """The fallback sensor's newest reading, seen changing from one reading to another."""
        self._cancel_fallback: CALLBACK_TYPE | None = None
        self._fallback_entity: str | None = None

    @override
    async def _async_setup(self) -> None:
        """Raise the repair issues that what the entry learned before still calls for."""
        self._update_issues(dt_util.utcnow())

    @override
    async def _async_update_data(self) -> Snapshot:
        now = dt_util.utcnow()
        if self.state.not_before > now.timestamp():
            # Share asked not to be asked before then: manual refreshes and start-ups
            # included, nothing is sent.
            self._plan(_epoch_to_utc(self.state.not_before), cap=False)
            return self._failed_update(
                UpdateFailed(translation_domain=DOMAIN, translation_key="share_asked_to_wait"),
                now,
            )
        share_newest = newest_from_share(recent(self.state.history, self._merged_at))
        newest_before = share_newest.time if share_newest else None
        window = read_window(self._read_from(newest_before), now)
        try:
            fetched = await self._paced_read(window.minutes, window.max_count, now)
        except ShareError as err:
            if self._closed:
                raise _translated(err) from err
            return self._share_failed(err)
        if fetched is None:
            return self._published or self._publish((), now)
        if self._closed:
            # Unloaded while Share answered: nothing of the entry may change any more.
            raise UpdateFailed(translation_domain=DOMAIN, translation_key="cannot_connect")
        now = dt_util.utcnow()
        self._failure = None
        # The one merge of a poll (a fallback reading may have come while Share answered).
        held = self.state.history
        self.state.history, changed = held.merged(fetched, now, prune=not self._clock_off())
        added = self.state.history.newly_held(held, fetched)
        self._merged_at = now
        if changed:
            self.state.schedule_history_save()
        first_load = not self._loaded
        self._loaded = True
        share_newest = newest_from_share(recent(self.state.history, now))
        newest = share_newest.time if share_newest else None
        self.planner.observe(now, [reading.time for reading in added])
        self._plan(self.planner.next_poll(newest, now))
        self.state.not_before = 0.0
        # The read covered the newest reading held: an empty answer means Share holds
        # none of the last 24 hours any more (sharing off), unless that reading is
        # stamped ahead of the clock, where Share's window may not reach.
        share_empty = not fetched and (newest_before is None or newest_before <= now)
        self.state.no_data_since = (
            (self.state.no_data_since or now.timestamp()) if share_empty else None
        )
        self._generation += 1
        new = tuple(reading for reading in added if reading.time >= self._events_from)
        snapshot = self._publish(new, now)
        from_share = tuple(reading for reading in snapshot.readings if not reading.from_fallback)
        self.statistics.readings_added(from_share, from_share if first_load else added, now)
        self._update_issues(now)
        self._remember(at_once=False)
        return snapshot

    async def _paced_read(
        self, minutes: int, max_count: int, now: datetime
    ) -> list[GlucoseReading] | None:
        """Read when the pacer lets the entry through; None: held back, nothing sent.

        A session found expired is logged in again at once when the pacer has room
        for the login too, and in the second it hands otherwise.
        """
        entry_id = self.config_entry.entry_id
        while True:
            later = self.pacer.admit(entry_id, now, self.client.requests_needed)
            if later is not None:
                if now - self._due < HELD_BACK_LIMIT:
                    self._plan_within(later)
                    return None
                self.pacer.charge(entry_id, now, self.client.requests_needed)
                self.errors["held_back"] += 1
                self.last_error["held_back"] = now
                LOGGER.warning(
                    "The read planned for %s was held back %s s to keep Share's request "
                    "rate; reading now",
                    _local_time(self._due),
                    round((now - self._due).total_seconds()),
                )
            try:
                return await self.client.read(minutes, max_count)
            except ShareSessionExpiredError:
                if self._closed:
                    raise
                now = dt_util.utcnow()

    def _share_failed(self, err: ShareError) -> Snapshot:
        """Count the error, plan the retry, keep what must survive a restart."""
        now = dt_util.utcnow()
        kind = error_kind(err)
        self._failure = kind
        self.errors[kind] += 1
        self.last_error[kind] = now
        when = self.planner.after_error(now, err.retry_after)
        if isinstance(err, ShareConnectionError) and err.retry_after is not None:
            self.state.not_before = now.timestamp() + err.retry_after
        self._plan(when, cap=False)
        self._update_issues(now)
        self._remember(at_once=err.retry_after is not None or isinstance(err, ShareAuthError))
        failure: UpdateFailed | ConfigEntryAuthFailed = _translated(err)
        if isinstance(err, ShareAuthError) and err.retry_after is None:
            failure = ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="invalid_auth"
            )
            if self._published is None:
                # Set up all the same: Data status says why no reading comes, and the
                # alerts (no data among them) keep watching while the user is asked.
                self.config_entry.async_start_reauth(self.hass)
        failure.__cause__ = err
        return self._failed_update(failure, now)

    def _failed_update(
        self,
        failure: UpdateFailed | ConfigEntryAuthFailed,
        now: datetime,
    ) -> Snapshot:
        """Raise the failure, except at start-up: then the entities come up with what is held.

        They show the last reading only while it is current and say "Data stale"
        otherwise, while the next poll follows the planner (and any wait Share asked for).
        Either way Data status says at once why nothing new comes.
        """
        if (published := self._published) is not None:
            self.data = self._publish(published.new, now)
            self.async_update_listeners()
            raise failure
        LOGGER.warning(
            "Dexcom Share is not available at start-up (%s); the next try is planned in %s s",
            failure,
            round(self.update_interval.total_seconds()) if self.update_interval else "?",
        )
        snapshot = self._publish((), now)
        self._update_issues(now)
        return snapshot

    def _publish(self, new: tuple[GlucoseReading, ...], now: datetime) -> Snapshot:
        """Build the snapshot of the history at this moment; watch for the ages that change it."""
        started = self.state.sensor_started
        snapshot = build_snapshot(
            self.state.history,
            new,
            generation=self._generation,
            options=display_options(self.config_entry.options),
            now=now,
            merged_at=self._merged_at,
            sensor_started=None if started is None else _epoch_to_utc(started),
            problem=self._share_problem(now),
            share_empty=self.state.no_data_since is not None,
            share_answered=self._loaded,
            normal_delay=self._normal_delay(),
        )
        self._watch_ages(snapshot)
        self._published = snapshot
        self._run_alerts(now)
        return snapshot

    def _read_from(self, previous: datetime | None) -> datetime | None:
        """Where a read starts: the newest reading held, or further back.

        The first read after start-up takes all 24 hours. Until readings have followed
        a gap for the hour that confirms a sensor change, reads reach back to it: the
        phone uploads a signal loss's readings after the first new one, and a
        backfilled hole is no sensor change. A gap never filled costs an hour of it.
        """
        if not self._loaded or previous is None:
            return None
        gap = self.state.history.gap_start(previous - CONFIRMATION)
        return previous if gap is None else min(previous, gap)

    @callback
    def sensor_replaced(self) -> None:
        """The user put on a new sensor now ("Sensor replaced")."""
        self.state.sensor_started = dt_util.utcnow().timestamp()
        self.state.schedule_save(at_once=True)
        self.options_changed()

    def _remember(self, *, at_once: bool) -> None:
        """Hand what was learned to the entry's stored state."""
        self.state.planner = self.planner.to_dict()
        self.state.schedule_save(at_once=at_once)

    @callback
    def options_changed(self) -> None:
        """Show the new options at once: a new snapshot of the same readings."""
        now = dt_util.utcnow()
        self.alerts.settings = alert_settings(self.config_entry.options)
        self.follow_fallback()
        if (published := self._published) is not None:
            self.data = self._publish(published.new, now)
        self._update_issues(now)
        self.async_update_listeners()

    def _update_issues(self, now: datetime) -> None:
        """Raise or clear each repair issue from what is known now."""
        guard = self.state.guard
        share_newest = newest_from_share(recent(self.state.history, self._merged_at))
        since = share_newest.time if share_newest else None
        if since is None and self.state.no_data_since is not None:
            since = _epoch_to_utc(self.state.no_data_since)
        wait = self.state.not_before - now.timestamp()
        self._set_issue(
            ISSUE_LOCKED,
            guard.lockouts > 0,
            ir.IssueSeverity.ERROR,
            minutes=str(max(15, round((guard.paused_until - now.timestamp()) / 60))),
        )
        self._set_issue(
            ISSUE_NO_DATA,
            since is not None and now - since >= NO_DATA_ISSUE_AFTER,
            ir.IssueSeverity.WARNING,
        )
        # The session is known once a snapshot is: until then the issue stays as it was.
        if self._published is not None:
            session = self._published.session
            self._set_issue(
                ISSUE_SENSOR_EXPIRES,
                session is not None and session.expiring_soon(now) and now < session.expires,
                ir.IssueSeverity.WARNING,
                expires=_local_time(session.expires) if session else "",
            )
        offset = self.client.stats.clock_offset or 0.0
        self._set_issue(
            ISSUE_CLOCK,
            self._clock_off(),
            ir.IssueSeverity.ERROR,
            # Share's clock ahead of ours: ours is behind.
            "clock_behind" if offset > 0 else "clock_ahead",
            minutes=str(round(abs(offset) / 60)),
        )
        self._set_issue(
            ISSUE_WAIT,
            wait > LONG_WAIT.total_seconds(),
            ir.IssueSeverity.WARNING,
            until=_local_time(_epoch_to_utc(self.state.not_before)),
        )

    def _clock_off(self) -> bool:
        """Whether Home Assistant's clock is further from Share's than the tolerance."""
        offset = self.client.stats.clock_offset
        return offset is not None and abs(offset) > CLOCK_TOLERANCE.total_seconds()

    def _set_issue(
        self,
        kind: str,
        present: bool,
        severity: ir.IssueSeverity,
        translation_key: str | None = None,
        **placeholders: str,
    ) -> None:
        identifier = issue_id(kind, self.config_entry.entry_id)
        if not present:
            ir.async_delete_issue(self.hass, DOMAIN, identifier)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            identifier,
            is_fixable=False,
            severity=severity,
            translation_key=translation_key or kind,
            translation_placeholders={"title": self.config_entry.title, **placeholders},
        )

    def _plan(self, when: datetime, *, cap: bool = True) -> None:
        """Schedule the next refresh at `when` (the coordinator takes an interval).

        Normal plans are capped at an hour; a wait Share or a lockout asked for is not.
        """
        now = dt_util.utcnow()
        wait = max(MIN_INTERVAL, when - now)
        self.update_interval = min(MAX_INTERVAL, wait) if cap else wait
        self._due = now + self.update_interval

    def _plan_within(self, second: datetime) -> None:
        """Refresh within the wall-clock `second`.

        The coordinator fires at its loop's whole second, plus up to half a second,
        plus the interval.
        """
        loop_fraction = self.hass.loop.time() % 1
        self.update_interval = second - dt_util.utcnow() + timedelta(seconds=loop_fraction + 0.2)

    def _watch_ages(self, snapshot: Snapshot) -> None:
        """Rebuild the snapshot when the newest reading crosses an age that matters.

        At 15 minutes it stops being current; at the user's "Data stale" time that
        binary sensor turns on. The new timer is known before the old one goes, so
        nothing that fails can leave an old value posing as current.
        """
        limits = age_limits(snapshot, self._normal_delay())
        share_newest = newest_from_share(snapshot.readings)
        if fallback_sensor(self.config_entry.options) and share_newest is not None:
            limits.append(share_newest.time + SHARE_QUIET_AFTER)
        upcoming = [when for when in limits if when > snapshot.at]
        if self._closed:
            upcoming = []
        cancel = self._cancel_aging
        self._cancel_aging = (
            async_track_point_in_utc_time(self.hass, self._reading_aged, min(upcoming))
            if upcoming
            else None
        )
        if cancel:
            cancel()

    @callback
    def _reading_aged(self, now: datetime) -> None:
        self._cancel_aging = None
        if self._take_fallback(now):
            return
        if (published := self._published) is not None:
            self.data = self._publish(published.new, now)
        self._update_issues(now)
        self.async_update_listeners()

    @callback
    def follow_fallback(self) -> None:
        """Watch the fallback glucose sensor chosen in the options (none: stop watching)."""
        entity_id = fallback_sensor(self.config_entry.options)
        if entity_id == self._fallback_entity and self._cancel_fallback is not None:
            return
        if self._cancel_fallback:
            self._cancel_fallback()
            self._cancel_fallback = None
        self._fallback_seen = None
        self._fallback_entity = entity_id
        if entity_id is not None:
            self._cancel_fallback = async_track_state_change_event(
                self.hass, entity_id, self._fallback_changed
            )

    @callback
    def _fallback_changed(self, event: Event[EventStateChangedData]) -> None:
        """A new reading, if the sensor went from one reading to another.

        A state that comes after none (a restart, the sensor coming back) may be old
        however recent its change: it waits for the sensor's next reading. Nor is an
        attribute written again, or the same value in another unit, a new reading.
        """
        old, new = event.data["old_state"], event.data["new_state"]
        if new is None:
            self._fallback_seen = None
            return
        if old is None or old.state == new.state:
            return
        before = glucose_mg_dl(old.state, old.attributes.get(ATTR_UNIT_OF_MEASUREMENT))
        now = dt_util.utcnow()
        reading = fallback_reading(
            new.state, new.attributes.get(ATTR_UNIT_OF_MEASUREMENT), new.last_changed, now
        )
        if reading is not None and reading.value == before:
            return
        self._fallback_seen = reading if before is not None else None
        self._take_fallback(now)

    def _take_fallback(self, now: datetime) -> bool:
        """Show the fallback's reading while Share has nothing new; whether it was taken."""
        seen, published = self._fallback_seen, self._published
        if seen is None or published is None or self._closed:
            return False
        if not fresh(seen, now) or not fallback_wanted(published.readings, seen, now):
            return False
        # Stamped by Home Assistant's clock, which may be wrong and not yet checked:
        # a fallback reading never ages the stored history out.
        self.state.history, changed = self.state.history.merged([seen], now, prune=False)
        self._merged_at = now
        if changed:
            self.state.schedule_history_save()
        self.data = self._publish((), now)
        self._update_issues(now)
        self.async_update_listeners()
        return True

    @callback
    def add_alert_listener(self, listener: Callable[[AlertEvent | None], None]) -> CALLBACK_TYPE:
        """Call `listener` with every alert event, and with None when only states changed."""
        self._alert_listeners.append(listener)
        return lambda: self._alert_listeners.remove(listener)

    @callback
    def start_alerts(self) -> None:
        """Evaluate the alerts once Home Assistant has started.

        The entities that deliver them are set up by then, and so are the automations
        that listen (they arm their triggers only as Home Assistant starts): an alert
        raised again after a restart reaches them.
        """
        self.config_entry.async_on_unload(async_at_started(self.hass, self._alerts_start))

    @callback
    def _alerts_start(self, _: HomeAssistant) -> None:
        self._alerts_started = True
        self._run_alerts(dt_util.utcnow())

    def _run_alerts(self, now: datetime) -> None:
        """Bring the alerts up to `now`, deliver their events and plan the next moment."""
        if not self._alerts_started or self._closed or self._published is None:
            return
        status = self._published.status
        reason = str(status) if status in (*SHARE_PROBLEMS, DataStatus.NO_READINGS) else None
        events = self.alerts.evaluate(now, self._published.readings, reason)
        self._alerts_changed(events)
        due = self.alerts.next_due(now)
        cancel = self._cancel_alert_timer
        self._cancel_alert_timer = (
            async_track_point_in_utc_time(self.hass, self._alerts_due, due) if due else None
        )
        if cancel:
            cancel()

    @callback
    def _alerts_due(self, now: datetime) -> None:
        self._cancel_alert_timer = None
        self._run_alerts(now)

    def _alerts_changed(self, events: list[AlertEvent]) -> None:
        """Deliver the events, and keep the engine's state when it changed."""
        stored = self.alerts.to_dict()
        changed = stored != self.state.alerts
        if changed:
            self.state.alerts = stored
            self.state.schedule_save(at_once=True)
        delivered: list[AlertEvent | None] = [*events] or ([None] if changed else [])
        for event in delivered:
            for listener in list(self._alert_listeners):
                listener(event)

    def _share_problem(self, now: datetime) -> DataStatus | None:
        """The known cause, if any, that keeps Share's readings from coming now."""
        if self.state.guard.paused_until > now.timestamp() or self._failure == "locked":
            return DataStatus.LOCKED
        if self.state.not_before > now.timestamp():
            return DataStatus.RATE_LIMITED
        if self._failure == "auth":
            return DataStatus.LOGIN_REJECTED
        if self._failure is not None:
            return DataStatus.SHARE_UNREACHABLE
        return None

    def _normal_delay(self) -> timedelta:
        """How late after its period a reading usually reaches Share, for this account."""
        return timedelta(seconds=self.planner.delays.quantile(NORMAL_DELAY_SHARE))

    def _current_value(self) -> int | None:
        current = self._published.current if self._published else None
        return current.value if current else None

    @callback
    def acknowledge_alert(self, kind: AlertKind | None, by: str) -> None:
        """A person acknowledged an alert (the most urgent by default); may raise `AlertError`."""
        now = dt_util.utcnow()
        self._alerts_changed([self.alerts.acknowledge(kind, by, now, self._current_value())])
        self._run_alerts(now)

    @callback
    def snooze_alert(self, kind: AlertKind, minutes: float, by: str) -> None:
        """A person snoozed one kind of alert; may raise `AlertError`."""
        now = dt_util.utcnow()
        event = self.alerts.snooze(kind, minutes, by, now, self._current_value())
        self._alerts_changed([event])
        self._run_alerts(now)

    @callback
    def cancel_snooze(self, kind: AlertKind | None) -> None:
        """End a snooze (of every kind by default): what is due sounds at once."""
        self.alerts.cancel_snooze(kind)
        self._run_alerts(dt_util.utcnow())

    @override
    async def async_shutdown(self) -> None:
        """Stop the age timer with the coordinator; an update still running changes nothing."""
        self._closed = True
        self.pacer.release(self.config_entry.entry_id)
        if self._cancel_aging:
            self._cancel_aging()
            self._cancel_aging = None
        if self._cancel_alert_timer:
            self._cancel_alert_timer()
            self._cancel_alert_timer = None
        if self._cancel_fallback:
            self._cancel_fallback()
            self._cancel_fallback = None
        await super().async_shutdown()
