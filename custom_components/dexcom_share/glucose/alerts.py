"""The alert engine: when each kind of glucose alert must sound, for one account.

Pure logic, evaluated on every new snapshot and at the moments `next_due` names. Each
kind has its own state (active, alerted, acknowledged, snoozed), so a snooze or an
acknowledgement of one kind never silences another. Rules that no option and no
sequence of actions can break:

- `urgent_low` is always on, its `raised` always sounds, and while it lasts its
  alert events (`raised`, `repeated`, `escalated`) are never more than
  `URGENT_LOW_MAX_SILENCE` apart, whatever was snoozed or acknowledged;
- a kind that is off never sounds (one turned off while active is `cleared`);
- a glucose kind changes only on a current reading: without one it stays as it was
  (an urgent low is not "cleared" by missing data; `no_data` sounds beside it); with
  one, a prediction or rate that cannot be computed ends the kinds that need it;
- a clock set back makes what was due sound at once (never a long silence);
- after a restart, an active kind whose condition still holds is `raised` again.

While an urgent low lasts, `low` and `urgent_low_soon` stay active but do not sound
(the urgent low says more, and sounds at least every 30 minutes); they sound again
when it clears and they still hold.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
import math
from typing import Any, Final

from .analysis import PREDICTION_WINDOW, predict, rate_per_minute
from .const import LOW_VALUE, STALE_AFTER
from .models import GlucoseReading, Thresholds


class AlertKind(StrEnum):
    """The kinds of alert, most urgent first."""

    URGENT_LOW = "urgent_low"
    URGENT_LOW_SOON = "urgent_low_soon"
    LOW = "low"
    NO_DATA = "no_data"
    URGENT_HIGH = "urgent_high"
    FALLING_FAST = "falling_fast"
    HIGH = "high"
    RISING_FAST = "rising_fast"


class AlertEventType(StrEnum):
    """What happened to an alert."""

    RAISED = "raised"
    REPEATED = "repeated"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    CLEARED = "cleared"


ALWAYS_ON: Final = frozenset({AlertKind.URGENT_LOW})
DEFAULT_ON: Final = frozenset(
    {
        AlertKind.URGENT_LOW,
        AlertKind.URGENT_LOW_SOON,
        AlertKind.LOW,
        AlertKind.URGENT_HIGH,
        AlertKind.NO_DATA,
    }
)
URGENT_LOW_MAX_SILENCE: Final = timedelta(minutes=30)
"""As Dexcom's own apps: an urgent low sounds again within 30 minutes, whatever was done."""
DEFAULT_REPEAT_MINUTES: Final = {
    AlertKind.URGENT_LOW: 5,
    AlertKind.URGENT_LOW_SOON: 15,
    AlertKind.LOW: 15,
    AlertKind.NO_DATA: 30,
    AlertKind.URGENT_HIGH: 30,
    AlertKind.FALLING_FAST: 30,
    AlertKind.HIGH: 60,
    AlertKind.RISING_FAST: 30,
}
MIN_REPEAT_MINUTES: Final = 5
MAX_REPEAT_MINUTES: Final = 240
DEFAULT_HIGH_MINUTES: Final = 30
DEFAULT_NO_DATA_MINUTES: Final = 20
DEFAULT_RATE: Final = 3.0
"""mg/dL per minute, as Dexcom's rise and fall alerts offer (2 or 3)."""
DEFAULT_ESCALATE_MINUTES: Final = 15
PREDICTION_AHEAD: Final = timedelta(minutes=20)
LEVEL_HYSTERESIS: Final = 3.0
"""mg/dL a value must move back past a threshold before its alert clears (no flapping)."""
RATE_HYSTERESIS: Final = 0.5
"""mg/dL per minute, the same for the rise and fall alerts."""
MAX_SNOOZE_MINUTES: Final = 24 * 60
SUPERSEDED_BY_URGENT_LOW: Final = frozenset({AlertKind.LOW, AlertKind.URGENT_LOW_SOON})


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """What the user chose, checked; glucose in mg/dL so that a unit switch changes nothing."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    enabled: frozenset[AlertKind] = DEFAULT_ON
    repeat: Mapping[AlertKind, timedelta] = field(
        default_factory=lambda: {
            kind: timedelta(minutes=minutes) for kind, minutes in DEFAULT_REPEAT_MINUTES.items()
        }
    )
    high_for: timedelta = timedelta(minutes=DEFAULT_HIGH_MINUTES)
    no_data_after: timedelta = timedelta(minutes=DEFAULT_NO_DATA_MINUTES)
    rate: float = DEFAULT_RATE
    escalate_after: timedelta = timedelta(minutes=DEFAULT_ESCALATE_MINUTES)

    def is_on(self, kind: AlertKind) -> bool:
        """Whether the kind may sound (urgent low always may)."""
        return kind in ALWAYS_ON or kind in self.enabled

    def repeat_every(self, kind: AlertKind) -> timedelta:
        """How often an active, unsilenced kind sounds again."""
        every = self.repeat.get(kind, timedelta(minutes=DEFAULT_REPEAT_MINUTES[kind]))
        return min(every, URGENT_LOW_MAX_SILENCE) if kind is AlertKind.URGENT_LOW else every


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One thing that happened to one kind of alert."""

    kind: AlertKind
    type: AlertEventType
    at: datetime
    value: int | None
    """The newest reading's mg/dL when it happened (None: no reading held)."""
    by: str | None = None
    """Who acknowledged or snoozed it; None for what the engine did itself."""
    reason: str | None = None
    """For `no_data`: why there is no data, when known."""
    until: datetime | None = None
    """For `snoozed`: when the snooze ends."""


@dataclass(slots=True)
class KindState:
    """One kind's state; every time is a wall-clock moment."""

    active: bool = False
    pending_since: datetime | None = None
    """When its condition began to hold (`high` sounds only after `high_for`)."""
    raised_at: datetime | None = None
    """When this activation's `raised` sounded (None: not yet, e.g. while snoozed)."""
    alerted_at: datetime | None = None
    """The last `raised`, `repeated` or `escalated`."""
    escalated: bool = False
    handled: bool = False
    """A person acknowledged or snoozed it during this activation (no escalation)."""
    acknowledged_by: str | None = None
    snoozed_until: datetime | None = None
    snoozed_by: str | None = None
    reraise: bool = False
    """Restored after a restart: `raised` again while its condition holds."""

    def silenced(self, now: datetime) -> bool:
        """Whether a person asked for quiet (acknowledged, or snoozed until later)."""
        return self.acknowledged_by is not None or (
            self.snoozed_until is not None and self.snoozed_until > now
        )


class AlertError(Exception):
    """An action asked for an alert that cannot take it; `key` names the reason."""

    def __init__(self, key: str, kind: AlertKind | None = None) -> None:
        """Name the reason (a translation key) and the kind."""
        super().__init__(key)
        self.key = key
        self.kind = kind


@dataclass(frozen=True, slots=True)
class _Reading:
    """What one evaluation knows about the glucose."""

    value: int | None
    """The current reading's mg/dL (None: no reading under 15 minutes old)."""
    rate: float | None
    predicted: float | None
    newest_at: datetime | None
    source_changed: bool = False
    """Share and the fallback sensor both among the last 20 minutes' readings: no rate or
    prediction spans them, and that says nothing about glucose."""


class AlertEngine:
    """The alerts of one account: conditions, states and the events they cause."""

    def __init__(
        self, settings: AlertSettings, states: Mapping[AlertKind, KindState] | None = None
    ) -> None:
        """Start with every kind inactive, or with the states given."""
        self.settings = settings
        self.states = {kind: KindState() for kind in AlertKind}
        self.states.update(states or {})
        self._started: datetime | None = None
        """The first evaluation: with no reading at all, no data counts from then."""
        self._newest_at: datetime | None = None

    # Evaluation --------------------------------------------------------------

    def evaluate(
        self, now: datetime, readings: Sequence[GlucoseReading], reason: str | None = None
    ) -> list[AlertEvent]:
        """Bring every kind up to `now` and return the events, most urgent first."""
        if self._started is None:
            self._started = now
        reading = self._reading(readings, now)
        self._newest_at = reading.newest_at
        latest_snooze = now + timedelta(minutes=MAX_SNOOZE_MINUTES)
        for state in self.states.values():
            # A clock set back must not stretch a snooze or hold back a high.
            if state.snoozed_until is not None and state.snoozed_until > latest_snooze:
                state.snoozed_until = latest_snooze
            if state.pending_since is not None and state.pending_since > now:
                state.pending_since = now
        events: list[AlertEvent] = []
        for kind in AlertKind:
            state = self.states[kind]
            if not self.settings.is_on(kind):
                events += self._clear(kind, now, reading.value)
                self.states[kind].pending_since = None
                continue
            holds = self._condition(kind, state, reading, now)
            if holds is False:
                events += self._clear(kind, now, reading.value)
                continue
            if holds:
                state.active = True
            if state.active:
                events += self._sound(kind, state, now, reading.value, reason, known=holds)
        return events

    def _reading(self, readings: Sequence[GlucoseReading], now: datetime) -> _Reading:
        newest = readings[0] if readings else None
        if newest is None or now - newest.time >= STALE_AFTER:
            return _Reading(None, None, None, newest.time if newest else None)
        recent = (r for r in readings if newest.time - r.time <= PREDICTION_WINDOW)
        return _Reading(
            newest.value,
            rate_per_minute(readings),
            predict(readings, PREDICTION_AHEAD),
            newest.time,
            source_changed=any(r.from_fallback != newest.from_fallback for r in recent),
        )

    def _condition(
        self, kind: AlertKind, state: KindState, reading: _Reading, now: datetime
    ) -> bool | None:
        """Whether the kind's condition holds now; None: unknown (it stays as it is)."""
        settings, limits = self.settings, self.settings.thresholds
        if kind is AlertKind.NO_DATA:
            if reading.newest_at is None and state.active:
                return True  # still none (after a restart, `_started` is new)
            since = reading.newest_at or self._started or now
            return now - since >= settings.no_data_after
        value = reading.value
        if value is None:
            return None
        if kind is AlertKind.URGENT_LOW:
            return value <= LOW_VALUE or _below(value, limits.urgent_low, state.active)
        if kind is AlertKind.LOW:
            return value <= LOW_VALUE or _below(value, limits.low, state.active)
        if kind is AlertKind.URGENT_LOW_SOON:
            # No prediction with a current reading (a gap, LOW, a trend Share could not
            # compute): nothing predicts an urgent low, so it ends (urgent low itself
            # still watches the value). Across a change of source it is unknown.
            if reading.predicted is None:
                return None if reading.source_changed else False
            return _below(reading.predicted, limits.urgent_low, state.active)
        if kind is AlertKind.URGENT_HIGH:
            return _above(value, limits.urgent_high, state.active)
        if kind is AlertKind.HIGH:
            above = _above(value, limits.high, state.active or state.pending_since is not None)
            if not above:
                state.pending_since = None
                return False
            state.pending_since = state.pending_since or now
            return state.active or now - state.pending_since >= settings.high_for
        if reading.rate is None:
            # No rate across a gap or at LOW/HIGH: no rise or fall to tell. Across a
            # change of source, unknown: it stays as it is.
            return None if reading.source_changed else False
        hysteresis = RATE_HYSTERESIS if state.active else 0.0
        if kind is AlertKind.RISING_FAST:
            return reading.rate >= settings.rate - hysteresis
        return reading.rate <= -(settings.rate - hysteresis)

    def _sound(
        self,
        kind: AlertKind,
        state: KindState,
        now: datetime,
        value: int | None,
        reason: str | None,
        *,
        known: bool | None,
    ) -> list[AlertEvent]:
        """The alert event due now for an active kind, if any: at most one."""
        if kind in SUPERSEDED_BY_URGENT_LOW and self.states[AlertKind.URGENT_LOW].active:
            return []
        urgent = kind is AlertKind.URGENT_LOW
        silenced = state.silenced(now)
        kind_reason = reason if kind is AlertKind.NO_DATA else None
        event_type: AlertEventType | None = None
        if state.raised_at is None or (state.reraise and known):
            if urgent or not silenced:
                event_type = AlertEventType.RAISED
        elif urgent and silenced:
            if _elapsed(state.alerted_at, now) >= URGENT_LOW_MAX_SILENCE:
                event_type = AlertEventType.REPEATED
        elif not silenced:
            if (
                not state.escalated
                and not state.handled
                and (_elapsed(state.raised_at, now) >= self.settings.escalate_after)
            ):
                event_type = AlertEventType.ESCALATED
            elif _elapsed(state.alerted_at, now) >= self.settings.repeat_every(kind):
                event_type = AlertEventType.REPEATED
        if event_type is None:
            return []
        if event_type is AlertEventType.RAISED:
            state.raised_at = now
            state.reraise = False
        elif event_type is AlertEventType.ESCALATED:
            state.escalated = True
        state.alerted_at = now
        return [AlertEvent(kind, event_type, now, value, reason=kind_reason)]

    def _clear(self, kind: AlertKind, now: datetime, value: int | None) -> list[AlertEvent]:
        """End an activation; `cleared` when it had sounded."""
        state = self.states[kind]
        if not state.active:
            return []
        self.states[kind] = KindState(
            snoozed_until=state.snoozed_until, snoozed_by=state.snoozed_by
        )
        if state.raised_at is None:
            return []
        return [AlertEvent(kind, AlertEventType.CLEARED, now, value)]

    def next_due(self, now: datetime) -> datetime | None:
        """The next moment an evaluation can change something with no new reading."""
        soon = now + timedelta(seconds=1)

        def after(moment: datetime, wait: timedelta) -> datetime:
            # A moment ahead of the clock (it went back) is due at once.
            return moment + wait if moment <= now else soon

        moments: list[datetime] = []
        since = self._newest_at or self._started
        if self.settings.is_on(AlertKind.NO_DATA) and since is not None:
            moments.append(after(since, self.settings.no_data_after))
        for kind, state in self.states.items():
            if not self.settings.is_on(kind):
                continue
            if state.snoozed_until is not None and state.snoozed_until > now:
                moments.append(state.snoozed_until)
            if kind is AlertKind.HIGH and state.pending_since and not state.active:
                moments.append(after(state.pending_since, self.settings.high_for))
            if not state.active or state.alerted_at is None:
                continue
            if kind is AlertKind.URGENT_LOW:
                moments.append(after(state.alerted_at, URGENT_LOW_MAX_SILENCE))
            if not state.silenced(now):
                moments.append(after(state.alerted_at, self.settings.repeat_every(kind)))
                if state.raised_at and not state.escalated and not state.handled:
                    moments.append(after(state.raised_at, self.settings.escalate_after))
        return min((moment for moment in moments if moment > now), default=None)

    # What people do ------------------------------------------------------------

    def active(self) -> list[AlertKind]:
        """The active kinds, most urgent first."""
        return [kind for kind in AlertKind if self.states[kind].active]

    def acknowledge(
        self, kind: AlertKind | None, by: str, now: datetime, value: int | None
    ) -> AlertEvent:
        """Silence an active kind (the most urgent, by default) until it clears.

        An urgent low still sounds again within `URGENT_LOW_MAX_SILENCE`.
        """
        kind = kind or next(iter(self.active()), None)
        if kind is None:
            raise AlertError("no_active_alert")
        state = self.states[kind]
        if not state.active:
            raise AlertError("alert_not_active", kind)
        state.acknowledged_by = by
        state.handled = True
        return AlertEvent(kind, AlertEventType.ACKNOWLEDGED, now, value, by=by)

    def snooze(
        self, kind: AlertKind, minutes: float, by: str, now: datetime, value: int | None
    ) -> AlertEvent:
        """Silence one kind for `minutes`, active or not; it ends then, whatever happens."""
        if not math.isfinite(minutes) or minutes <= 0:
            raise AlertError("invalid_snooze", kind)
        minutes = min(minutes, MAX_SNOOZE_MINUTES)
        state = self.states[kind]
        state.snoozed_until = now + timedelta(minutes=minutes)
        state.snoozed_by = by
        state.handled = state.handled or state.active
        return AlertEvent(
            kind, AlertEventType.SNOOZED, now, value, by=by, until=state.snoozed_until
        )

    def cancel_snooze(self, kind: AlertKind | None) -> list[AlertKind]:
        """End the snooze of one kind, or of all; the kinds whose snooze ended."""
        ended = []
        for each in [kind] if kind else list(AlertKind):
            state = self.states[each]
            if state.snoozed_until is not None:
                state.snoozed_until = None
                state.snoozed_by = None
                ended.append(each)
        return ended

    # Settings and storage --------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The stored form: each kind's state, times as epoch seconds."""
        return {
            str(kind): {
                key: value.timestamp() if isinstance(value, datetime) else value
                for key, value in asdict(state).items()
                if key != "reraise"
            }
            for kind, state in self.states.items()
        }

    @classmethod
    def from_dict(cls, stored: Any, settings: AlertSettings) -> AlertEngine:
        """An engine from the stored form; an active kind is raised again (a restart).

        Anything unusable is left at its default: a damaged store never stops alerts.
        """
        states: dict[AlertKind, KindState] = {}
        if isinstance(stored, Mapping):
            for kind in AlertKind:
                if isinstance(fields := stored.get(str(kind)), Mapping):
                    states[kind] = _state(fields)
        return cls(settings, states)


def _below(value: float, threshold: float, active: bool) -> bool:
    return value <= threshold + (LEVEL_HYSTERESIS if active else 0.0)


def _above(value: float, threshold: float, active: bool) -> bool:
    return value >= threshold - (LEVEL_HYSTERESIS if active else 0.0)


def _elapsed(moment: datetime | None, now: datetime) -> timedelta:
    """Time since `moment`; a moment ahead of `now` (the clock went back) counts as long ago.

    So a clock set back makes an alert due at once instead of silent until the clock
    catches up.
    """
    if moment is None:
        return timedelta(0)
    return now - moment if moment <= now else timedelta.max


def _moment(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except OverflowError, OSError, ValueError:
        return None


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _state(fields: Mapping[str, Any]) -> KindState:
    active = fields.get("active") is True
    raised_at = _moment(fields.get("raised_at"))
    return KindState(
        active=active,
        pending_since=_moment(fields.get("pending_since")),
        raised_at=raised_at,
        alerted_at=_moment(fields.get("alerted_at")) or raised_at,
        escalated=fields.get("escalated") is True,
        handled=fields.get("handled") is True,
        acknowledged_by=_name(fields.get("acknowledged_by")) if active else None,
        snoozed_until=_moment(fields.get("snoozed_until")),
        snoozed_by=_name(fields.get("snoozed_by")),
        reraise=active,
    )


def kinds(names: Iterable[Any]) -> frozenset[AlertKind]:
    """The alert kinds among `names` (anything else is left out)."""
    valid = {str(kind) for kind in AlertKind}
    return frozenset(AlertKind(name) for name in names if isinstance(name, str) and name in valid)
