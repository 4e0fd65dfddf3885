"""What an entry has learned, kept across restarts in Home Assistant's storage.

Home Assistant restarts on every update. Without this, each restart would forget a
rejected password (costing more failed logins), cut a lockout pause or Share's
Retry-After short, restart the learning of the upload delay, and hide the "No glucose
readings" repair for hours. Two versioned files per entry (what it learned, written
shortly after a change; and up to 90 days of readings, for the report and the sensor
session), removed with the entry.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
import math
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, LOGGER
from .glucose.history import ReadingHistory
from .glucose.pacer import SharePacer
from .glucose.share import LoginGuard, ShareClient

STORAGE_VERSION: Final = 1
# Seconds to gather changes before writing; a login problem is written at once.
SAVE_DELAY: Final = 30.0
# The 90-day history (about 50 kB) is written at most every 5 minutes.
HISTORY_SAVE_DELAY: Final = 300.0


def _epoch(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass
class EntryState:
    """The state of one entry that outlives a restart; the guard is shared with the flows."""

    store: Store[dict[str, Any]]
    history_store: Store[dict[str, Any]]
    guard: LoginGuard = field(default_factory=LoginGuard)
    history: ReadingHistory = field(default_factory=ReadingHistory)
    """Up to 90 days of readings, kept in a file of its own."""
    planner: dict[str, Any] | None = None
    """The poll planner's own state (`PollPlanner.to_dict`)."""
    not_before: float = 0.0
    """Epoch seconds before which Share asked not to be asked again (Retry-After)."""
    no_data_since: float | None = None
    """Epoch seconds since when Share has answered without any reading of 24 hours."""
    sensor_started: float | None = None
    """Epoch seconds the user pressed "Sensor replaced"."""
    alerts: dict[str, Any] | None = None
    """The alert engine's own state (`AlertEngine.to_dict`): active alerts, snoozes."""
    _save_planned: bool = field(default=False, repr=False)
    _history_save_planned: bool = field(default=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The stored form."""
        return {
            "guard": self.guard.as_dict(),
            "planner": self.planner,
            "not_before": self.not_before,
            "no_data_since": self.no_data_since,
            "sensor_started": self.sensor_started,
            "alerts": self.alerts,
        }

    def load(self, stored: Any) -> None:
        """Take what is usable of the stored form; ignore the rest."""
        if not isinstance(stored, Mapping):
            return
        self.guard = LoginGuard.from_dict(stored.get("guard"))
        planner = stored.get("planner")
        self.planner = dict(planner) if isinstance(planner, Mapping) else None
        self.not_before = _epoch(stored.get("not_before")) or 0.0
        self.no_data_since = _epoch(stored.get("no_data_since"))
        self.sensor_started = _epoch(stored.get("sensor_started"))
        alerts = stored.get("alerts")
        self.alerts = dict(alerts) if isinstance(alerts, Mapping) else None

    def schedule_save(self, *, at_once: bool = False) -> None:
        """Write soon (at once for what must survive a crash: login problems).

        A write already planned is not pushed back by later changes (Home Assistant's
        delayed save would be, and frequent polls could then keep it from ever happening).
        """
        if at_once or not self._save_planned:
            self._save_planned = True
            self.store.async_delay_save(self._state_to_write, 0 if at_once else SAVE_DELAY)

    def schedule_history_save(self) -> None:
        """Write the history within 5 minutes, however often it changes."""
        if not self._history_save_planned:
            self._history_save_planned = True
            self.history_store.async_delay_save(self._history_to_write, HISTORY_SAVE_DELAY)

    def _state_to_write(self) -> dict[str, Any]:
        self._save_planned = False
        return self.as_dict()

    def _history_to_write(self) -> dict[str, Any]:
        self._history_save_planned = False
        return self.history.to_dict()

    async def async_save(self) -> None:
        """Write now (on unload, so that a new setup reads what this one knew)."""
        await self.store.async_save(self.as_dict())
        await self.history_store.async_save(self.history.to_dict())


@dataclass
class DomainData:
    """What outlives one load of an entry; `runtime_data` holds what a loaded entry owns.

    Each entry's stored state is read once per run, so a reload reads no file and
    forgets no lockout; each entry's Share client keeps its session, so a reload costs no
    login; and the pacer spaces the requests of all entries together.
    """

    states: dict[str, EntryState] = field(default_factory=dict)
    clients: dict[str, ShareClient] = field(default_factory=dict)
    pacer: SharePacer = field(default_factory=SharePacer)


DATA: HassKey[DomainData] = HassKey(DOMAIN)


def domain_data(hass: HomeAssistant) -> DomainData:
    """The integration's one key in `hass.data`."""
    return hass.data.setdefault(DATA, DomainData())


async def async_entry_state(hass: HomeAssistant, entry_id: str) -> EntryState:
    """The entry's state, loaded from storage on first use and shared afterwards."""
    states = domain_data(hass).states
    if (state := states.get(entry_id)) is None:
        store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}", private=True, atomic_writes=True
        )
        history_store: Store[dict[str, Any]] = Store(
            hass,
            STORAGE_VERSION,
            f"{DOMAIN}.{entry_id}.history",
            private=True,
            atomic_writes=True,
        )
        stored = await _async_load(store)
        history = ReadingHistory.from_dict(await _async_load(history_store))
        # Another caller may have loaded it while this one waited.
        if (state := states.get(entry_id)) is None:
            state = states[entry_id] = EntryState(store, history_store, history=history)
            state.load(stored)
    return state


async def _async_load(store: Store[dict[str, Any]]) -> Any:
    """What a store holds, or None when it cannot be read (a newer version's file)."""
    try:
        return await store.async_load()
    except HomeAssistantError as err:
        LOGGER.warning("Ignoring the stored state %s, which cannot be read: %s", store.key, err)
        return None


async def async_remove_entry_state(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the entry's stored state with the entry, without reading it first."""
    data = domain_data(hass)
    data.states.pop(entry_id, None)
    data.clients.pop(entry_id, None)
    for key in (f"{DOMAIN}.{entry_id}", f"{DOMAIN}.{entry_id}.history"):
        await Store[dict[str, Any]](hass, STORAGE_VERSION, key).async_remove()
