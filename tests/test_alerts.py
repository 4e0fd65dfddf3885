"""The alert engine: known answers, and safety rules proved over any sequence.

A night is simulated as Home Assistant runs it: the engine is evaluated at every
reading and at every moment `next_due` names, people act at any moment, and the
integration may restart (the engine is stored and read back) in between.
"""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
import itertools

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.dexcom_share.glucose.alerts import (
    ALWAYS_ON,
    URGENT_LOW_MAX_SILENCE,
    AlertEngine,
    AlertError,
    AlertEvent,
    AlertEventType,
    AlertKind,
    AlertSettings,
    kinds,
)
from custom_components.dexcom_share.glucose.models import GlucoseReading, Trend

SOUNDING = frozenset({AlertEventType.RAISED, AlertEventType.REPEATED, AlertEventType.ESCALATED})
"""Events that alert a person (the others tell what a person did, or that it ended)."""
T0 = datetime(2026, 11, 21, 22, 0, tzinfo=UTC)
FIVE = timedelta(minutes=5)
RAISED, REPEATED, ESCALATED = (
    AlertEventType.RAISED,
    AlertEventType.REPEATED,
    AlertEventType.ESCALATED,
)
CLEARED = AlertEventType.CLEARED


class Night:
    """Readings every 5 minutes and the engine evaluated as Home Assistant would."""

    def __init__(self, engine: AlertEngine | None = None) -> None:
        """Nothing read yet."""
        self.engine = engine or AlertEngine(AlertSettings())
        self.readings: list[GlucoseReading] = []
        self.events: list[AlertEvent] = []
        self.now = T0

    def evaluate(self) -> list[AlertEvent]:
        """Evaluate at `now`, newest reading first."""
        events = self.engine.evaluate(self.now, self.readings[::-1])
        self.events += events
        return events

    def until(self, moment: datetime) -> None:
        """Let time pass to `moment`, evaluating at every due moment on the way."""
        while (due := self.engine.next_due(self.now)) is not None and due <= moment:
            self.now = due
            self.evaluate()
        self.now = moment

    def reading(self, value: int | None, trend: Trend = Trend.STEADY) -> list[AlertEvent]:
        """Five minutes pass; the sensor's reading arrives (None: it does not)."""
        self.until(self.now + FIVE)
        if value is not None:
            self.readings.append(GlucoseReading(self.now, value, trend))
        return self.evaluate()

    def of(self, kind: AlertKind) -> list[AlertEventType]:
        """The event types of one kind so far."""
        return [event.type for event in self.events if event.kind is kind]


def test_urgent_low_raises_repeats_escalates_and_clears() -> None:
    """Raised at once, escalated after 15 min, repeated every 5, cleared above 55 + 3."""
    night = Night()
    for value in (100, 60, 54):
        night.reading(value)
    assert night.of(AlertKind.URGENT_LOW) == [RAISED]
    assert night.engine.active()[0] is AlertKind.URGENT_LOW
    for _ in range(4):
        night.reading(50)
    # 5-minute repeats, and the escalation once 15 minutes passed unanswered.
    assert night.of(AlertKind.URGENT_LOW) == [RAISED, REPEATED, REPEATED, ESCALATED, REPEATED]
    night.reading(57)  # within the hysteresis: still urgent low
    assert AlertKind.URGENT_LOW in night.engine.active()
    night.reading(59)
    assert night.of(AlertKind.URGENT_LOW)[-1] is CLEARED
    assert AlertKind.URGENT_LOW not in night.engine.active()


def test_an_urgent_low_speaks_for_the_low_and_the_prediction() -> None:
    """While an urgent low lasts, low and urgent low soon are active but quiet."""
    night = Night()
    night.reading(68)
    night.reading(60)
    night.reading(54)
    for _ in range(6):
        night.reading(52)
    assert night.of(AlertKind.LOW) == [RAISED]
    assert night.of(AlertKind.URGENT_LOW_SOON) == []  # predicted only once already there
    assert AlertKind.URGENT_LOW_SOON in night.engine.active()
    assert AlertKind.LOW in night.engine.active()
    night.reading(60)  # urgent low over; still low, unanswered: low sounds again at once
    assert night.of(AlertKind.URGENT_LOW)[-1] is CLEARED
    assert night.of(AlertKind.LOW) == [RAISED, ESCALATED]


def test_snoozing_a_high_never_silences_an_urgent_low() -> None:
    """The shared snooze's defect: each kind has its own."""
    night = Night(AlertEngine(AlertSettings(enabled=frozenset(AlertKind))))
    night.engine.snooze(AlertKind.HIGH, 120, "Sam", night.now, None)
    night.engine.snooze(AlertKind.LOW, 120, "Sam", night.now, None)
    night.reading(100)
    night.reading(50)
    assert night.of(AlertKind.URGENT_LOW) == [RAISED]
    assert night.of(AlertKind.LOW) == []  # its own snooze: active, silent
    assert AlertKind.LOW in night.engine.active()


def test_acknowledged_urgent_low_sounds_again_within_30_minutes() -> None:
    """Acknowledged or snoozed for hours, an urgent low still sounds every 30 minutes."""
    night = Night()
    night.reading(50)
    night.engine.acknowledge(None, "Sam", night.now, 50)
    night.engine.snooze(AlertKind.URGENT_LOW, 600, "Alex", night.now, 50)
    for _ in range(18):
        night.reading(50)
    sounding = [
        event.at
        for event in night.events
        if event.kind is AlertKind.URGENT_LOW and event.type in SOUNDING
    ]
    assert len(sounding) == 4  # at 0, 30, 60 and 90 minutes
    assert all(b - a == URGENT_LOW_MAX_SILENCE for a, b in itertools.pairwise(sounding))


def test_acknowledged_low_stays_silent_until_it_clears_then_raises_again() -> None:
    """An acknowledgement lasts one activation; the next low sounds."""
    night = Night()
    night.reading(68)
    night.engine.acknowledge(AlertKind.LOW, "Sam", night.now, 68)
    for _ in range(10):
        night.reading(68)
    assert night.of(AlertKind.LOW) == [RAISED]
    night.reading(90)
    night.reading(66)
    assert night.of(AlertKind.LOW) == [RAISED, CLEARED, RAISED]


def test_snooze_ahead_of_time_then_raised_when_it_ends() -> None:
    """A low that starts during its snooze sounds when the snooze ends, if it lasts."""
    night = Night()
    night.engine.snooze(AlertKind.LOW, 12, "Sam", night.now, None)
    night.reading(65)
    assert night.of(AlertKind.LOW) == []
    night.until(T0 + timedelta(minutes=12))
    assert night.of(AlertKind.LOW) == [RAISED]
    assert night.events[-1].at == T0 + timedelta(minutes=12)


def test_high_only_after_its_minutes_and_off_by_default() -> None:
    """`high` sounds after `high_for` above the threshold, only when turned on."""
    night = Night()
    for _ in range(12):
        night.reading(200)
    assert night.of(AlertKind.HIGH) == []
    night = Night(AlertEngine(AlertSettings(enabled=frozenset({AlertKind.HIGH}))))
    for _ in range(6):
        night.reading(200)
    assert night.of(AlertKind.HIGH) == []
    night.reading(200)
    assert night.of(AlertKind.HIGH) == [RAISED]


def test_rate_alerts_and_no_data() -> None:
    """Falling 4 mg/dL a minute; then no reading for 20 minutes, and back."""
    settings = AlertSettings(enabled=frozenset({AlertKind.FALLING_FAST, AlertKind.NO_DATA}))
    night = Night(AlertEngine(settings))
    night.reading(180)
    night.reading(160, Trend.FALLING_QUICKLY)
    assert night.of(AlertKind.FALLING_FAST) == [RAISED]
    night.reading(159)
    assert night.of(AlertKind.FALLING_FAST) == [RAISED, CLEARED]
    for _ in range(4):
        night.reading(None)
    assert night.of(AlertKind.NO_DATA) == [RAISED]
    assert night.events[-1].at == night.readings[-1].time + timedelta(minutes=20)
    night.reading(150)
    assert night.of(AlertKind.NO_DATA) == [RAISED, CLEARED]


def test_missing_data_does_not_clear_an_urgent_low() -> None:
    """Without a current reading an urgent low stays, and keeps sounding."""
    night = Night()
    night.reading(50)
    for _ in range(12):
        night.reading(None)
    assert AlertKind.URGENT_LOW in night.engine.active()
    assert night.of(AlertKind.URGENT_LOW).count(CLEARED) == 0
    assert AlertKind.NO_DATA in night.engine.active()


def test_a_kind_turned_off_while_active_is_cleared() -> None:
    """Turning `low` off clears it (its notifications go); urgent low cannot be turned off."""
    night = Night()
    night.reading(68)
    night.engine.settings = AlertSettings(enabled=frozenset())
    night.reading(50)
    assert night.of(AlertKind.LOW) == [RAISED, CLEARED]
    assert night.of(AlertKind.URGENT_LOW)[0] is RAISED
    assert AlertKind.URGENT_LOW in night.engine.active()


def test_restart_raises_again_and_keeps_snoozes() -> None:
    """Stored and read back: an active alert is raised again with the first reading."""
    night = Night()
    night.reading(68)
    night.engine.snooze(AlertKind.HIGH, 60, "Sam", night.now, 68)
    restored = AlertEngine.from_dict(night.engine.to_dict(), AlertSettings())
    assert restored.to_dict() == night.engine.to_dict()
    night.engine = restored
    night.until(night.now + timedelta(minutes=3))
    night.evaluate()  # the first snapshot after the restart
    assert night.of(AlertKind.LOW) == [RAISED, RAISED]
    night.reading(67)
    assert night.of(AlertKind.LOW) == [RAISED, RAISED]
    assert restored.states[AlertKind.HIGH].snoozed_by == "Sam"


def test_actions_refused() -> None:
    """Acknowledging nothing active, or a bad snooze, is refused with a reason."""
    engine = AlertEngine(AlertSettings())
    with pytest.raises(AlertError) as nothing:
        engine.acknowledge(None, "Sam", T0, None)
    assert nothing.value.key == "no_active_alert"
    with pytest.raises(AlertError) as inactive:
        engine.acknowledge(AlertKind.LOW, "Sam", T0, None)
    assert inactive.value.key == "alert_not_active"
    with pytest.raises(AlertError) as bad:
        engine.snooze(AlertKind.LOW, float("nan"), "Sam", T0, None)
    assert bad.value.key == "invalid_snooze"
    assert engine.cancel_snooze(None) == []


@pytest.mark.parametrize(
    "stored",
    [None, 3, {"urgent_low": 5}, {"low": {"active": True, "raised_at": float("inf")}}],
)
def test_damaged_store_never_stops_alerts(stored: object) -> None:
    """Whatever is stored, an urgent low sounds."""
    night = Night(AlertEngine.from_dict(stored, AlertSettings()))
    night.reading(50)
    assert night.of(AlertKind.URGENT_LOW) == [RAISED]


def test_kinds_from_names() -> None:
    """Unknown names are left out."""
    assert kinds(["low", "nope", 3, "urgent_low"]) == {AlertKind.LOW, AlertKind.URGENT_LOW}


@dataclass(frozen=True)
class Action:
    """What a person (or a restart) does in one five minutes of a night."""

    action: str | None
    kind: AlertKind
    minutes: int
    at: int
    """Seconds into the five minutes at which it happens."""
    restart: bool


# Glucose holds a level for a while (a night has runs of lows and highs), around the
# default thresholds, LOW and HIGH included; None: no reading arrives.
LEVELS = (None, 39, 45, 54, 56, 58, 62, 69, 72, 120, 178, 185, 245, 255, 401)
runs = st.lists(st.tuples(st.sampled_from(LEVELS), st.integers(1, 14)), max_size=12)
actions = st.lists(
    st.builds(
        Action,
        action=st.sampled_from((None, None, "acknowledge", "snooze", "cancel")),
        kind=st.sampled_from(list(AlertKind)),
        minutes=st.integers(1, 24 * 60),
        at=st.integers(0, 299),
        restart=st.integers(0, 9).map(lambda draw: draw == 0),
    ),
    max_size=160,
)
enabled = st.frozensets(st.sampled_from(list(AlertKind)))


def run_night(night: Night, levels: list[tuple[int | None, int]], done: list[Action]) -> None:
    """Play a night: each five minutes its action at its moment, then the reading."""
    values = [value for value, count in levels for _ in range(count)]
    for index, value in enumerate(values):
        step = done[index] if index < len(done) else Action(None, AlertKind.LOW, 0, 0, False)
        night.until(night.now + timedelta(seconds=step.at))
        state = night.engine.states[step.kind]
        try:
            if step.action == "acknowledge":
                night.events.append(night.engine.acknowledge(step.kind, "p", night.now, None))
            elif step.action == "snooze":
                night.events.append(
                    night.engine.snooze(step.kind, step.minutes, "p", night.now, None)
                )
            elif step.action == "cancel":
                night.engine.cancel_snooze(step.kind)
                night.evaluate()
        except AlertError:
            assert not state.active
        if step.restart:
            night.engine = AlertEngine.from_dict(night.engine.to_dict(), night.engine.settings)
        night.until(night.now + timedelta(seconds=300 - step.at) - FIVE)
        night.reading(value)


@settings(max_examples=400, deadline=None)
@given(runs, actions, enabled)
def test_an_urgent_low_is_never_silent_for_more_than_30_minutes(
    levels: list[tuple[int | None, int]], done: list[Action], on: frozenset[AlertKind]
) -> None:
    """Whatever was snoozed or acknowledged, and across restarts, while it lasts.

    Checked at every moment the engine knew the urgent low was active: the last
    sounding event for it is at most 30 minutes old. A kind that is off never sounds.
    """
    night = Night(AlertEngine(AlertSettings(enabled=on)))
    checks: list[tuple[datetime, datetime | None]] = []
    evaluate = night.evaluate

    def evaluate_and_check() -> list[AlertEvent]:
        events = evaluate()
        if night.engine.states[AlertKind.URGENT_LOW].active:
            sounding = [
                event.at
                for event in night.events
                if event.kind is AlertKind.URGENT_LOW and event.type in SOUNDING
            ]
            checks.append((night.now, sounding[-1] if sounding else None))
        return events

    night.evaluate = evaluate_and_check  # type: ignore[method-assign]
    run_night(night, levels, done)
    for moment, last in checks:
        assert last is not None
        assert moment - last <= URGENT_LOW_MAX_SILENCE
    for event in night.events:
        if event.type in SOUNDING:
            assert event.kind in on | ALWAYS_ON


@settings(max_examples=300, deadline=None)
@given(runs, actions, enabled)
def test_every_raised_is_cleared_once_the_condition_ends(
    levels: list[tuple[int | None, int]], done: list[Action], on: frozenset[AlertKind]
) -> None:
    """After any night, an hour of steady in-range readings clears every alert."""
    night = Night(AlertEngine(AlertSettings(enabled=on)))
    run_night(night, levels, done)
    for _ in range(12):
        night.reading(120)
    assert night.engine.active() == []
    for kind in AlertKind:
        types = [t for t in night.of(kind) if t in (RAISED, CLEARED)]
        if RAISED in types:
            assert types[-1] is CLEARED


@settings(max_examples=200, deadline=None)
@given(runs, actions, enabled)
def test_state_round_trips_through_storage(
    levels: list[tuple[int | None, int]], done: list[Action], on: frozenset[AlertKind]
) -> None:
    """What is stored reads back as the same states (restart flags aside)."""
    night = Night(AlertEngine(AlertSettings(enabled=on)))
    run_night(night, levels, done)
    stored = night.engine.to_dict()
    restored = AlertEngine.from_dict(stored, night.engine.settings)
    assert restored.to_dict() == stored
    for kind, state in night.engine.states.items():
        assert replace(restored.states[kind], reraise=False) == replace(state, reraise=False)


def test_no_prediction_or_rate_ends_the_kinds_that_need_them() -> None:
    """From the review: a trend Share cannot compute, or HIGH, ended nothing; now it ends."""
    settings = AlertSettings(enabled=frozenset(AlertKind))
    night = Night(AlertEngine(settings))
    for value in (120, 100, 80):
        night.reading(value, Trend.FALLING_QUICKLY)
    assert night.of(AlertKind.URGENT_LOW_SOON) == [RAISED]
    for value in (100, 130, 150):
        night.reading(value, Trend.NOT_COMPUTABLE)
    ended = [kind for kind in night.of(AlertKind.URGENT_LOW_SOON) if kind in (RAISED, CLEARED)]
    assert ended == [RAISED, CLEARED]
    night.reading(300)
    night.reading(360, Trend.RISING_QUICKLY)
    assert night.of(AlertKind.RISING_FAST)[0] is RAISED
    night.reading(401, Trend.RISING_QUICKLY)  # HIGH: no rate
    assert [t for t in night.of(AlertKind.RISING_FAST) if t in (RAISED, CLEARED)] == [
        RAISED,
        CLEARED,
    ]


def test_a_clock_set_back_makes_an_urgent_low_sound_at_once() -> None:
    """From the review: a clock set back an hour left an urgent low silent for 65 min."""
    night = Night()
    night.reading(50)
    night.reading(50)
    night.now -= timedelta(hours=1)
    night.readings = [replace(r, time=r.time - timedelta(hours=1)) for r in night.readings]
    set_back, before = night.now, len(night.events)
    night.reading(50)
    sounded = [e.at for e in night.events[before:] if e.kind is AlertKind.URGENT_LOW]
    assert sounded[0] - set_back <= timedelta(seconds=1)
    assert night.engine.next_due(night.now) == sounded[-1] + timedelta(minutes=5)


def test_no_data_stays_raised_across_a_restart_without_readings() -> None:
    """From the review: no reading in 24 h, a restart cleared no data, then raised it."""
    engine = AlertEngine(AlertSettings())
    engine.evaluate(T0, [])
    assert [e.type for e in engine.evaluate(T0 + timedelta(minutes=20), [])] == [RAISED]
    restored = AlertEngine.from_dict(engine.to_dict(), AlertSettings())
    events = restored.evaluate(T0 + timedelta(minutes=25), [])
    assert [(e.kind, e.type) for e in events] == [(AlertKind.NO_DATA, RAISED)]
    assert AlertKind.NO_DATA in restored.active()
