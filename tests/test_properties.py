"""Property-based tests of the pure logic: hostile inputs, not only the happy path.

Parsing Share's records, merging answers, reading and converting the options, the
stored state, and the snapshot every entity shows.
"""

from datetime import UTC, datetime, timedelta
import json
import math
from typing import Any
import uuid

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.dexcom_share.const import (
    MAX_STALE_MINUTES,
    MIN_STALE_MINUTES,
    THRESHOLD_KEYS,
)
from custom_components.dexcom_share.glucose.analysis import MAX_CLOCK_AHEAD, build_snapshot, recent
from custom_components.dexcom_share.glucose.const import HISTORY, STALE_AFTER
from custom_components.dexcom_share.glucose.history import ReadingHistory
from custom_components.dexcom_share.glucose.models import (
    DataStatus,
    GlucoseReading,
    Thresholds,
    Trend,
)
from custom_components.dexcom_share.glucose.session import DEFAULT_SENSOR_TYPE
from custom_components.dexcom_share.glucose.share import (
    LoginGuard,
    ShareAuthError,
    canonical_login,
    parse_reading,
)
from custom_components.dexcom_share.glucose.snapshot import DisplayOptions
from custom_components.dexcom_share.glucose.units import UNITS, convert
from custom_components.dexcom_share.options import (
    display_options,
    entered_thresholds,
    shown_thresholds,
)
from custom_components.dexcom_share.storage import EntryState

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
quick = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
date_strings = st.one_of(
    st.builds(
        "Date({}{})".format,
        st.integers(min_value=-(10**16), max_value=10**16),
        st.sampled_from(["", "-0500", "+0100"]),
    ),
    st.builds("/Date({})/".format, st.integers(min_value=0, max_value=4 * 10**12)),
    st.text(max_size=20),
)
records = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "DT": date_strings,
            "WT": date_strings,
            "ST": date_strings,
            "Value": st.one_of(st.integers(), st.floats(), st.text(max_size=4), st.booleans()),
            "Trend": st.one_of(st.integers(), st.text(max_size=15), st.none()),
        },
    ),
)


@quick
@given(records)
def test_parsing_any_record_gives_a_reading_or_none(record: Any) -> None:
    """Whatever Share sends, a record is a sound reading or is skipped; nothing raises."""
    reading = parse_reading(record)
    if reading is not None:
        assert reading.time.tzinfo is UTC
        assert isinstance(reading.value, int)
        assert reading.trend is None or isinstance(reading.trend, Trend)


def readings_near(now: datetime) -> st.SearchStrategy[GlucoseReading]:
    """Readings from 26 hours before `now` to 10 minutes after, on a 10-second grid."""
    return st.builds(
        GlucoseReading,
        time=st.integers(min_value=-26 * 360, max_value=60).map(
            lambda steps: now + timedelta(seconds=10 * steps)
        ),
        value=st.integers(min_value=39, max_value=401),
        trend=st.none() | st.sampled_from(Trend),
    )


@quick
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=600),
            st.lists(readings_near(NOW + timedelta(hours=2)), max_size=20),
        ),
        max_size=8,
    )
)
def test_merging_answers(batches: list[tuple[int, list[GlucoseReading]]]) -> None:
    """One per second, in order, none in the future or too old, each new exactly once."""
    history = ReadingHistory()
    reported: list[datetime] = []
    now = NOW
    for seconds, fetched in batches:
        now += timedelta(seconds=seconds)
        previous = {reading.time for reading in recent(history, now)}
        answer = fetched + fetched[:3]  # Share repeating records
        held = history
        history, _ = history.merged(answer, now)
        added = history.newly_held(held, answer)
        readings = tuple(recent(history, now))
        times = [reading.time for reading in readings]
        assert times == sorted(set(times), reverse=True)
        assert all(-MAX_CLOCK_AHEAD <= now - time <= HISTORY for time in times)
        # Exactly the seconds the history holds now and did not hold, oldest first.
        assert [reading.time.timestamp() for reading in added] == sorted(
            set(history.times) - set(held.times)
        )
        assert set(times) - previous <= {reading.time for reading in added}
        reported += [reading.time for reading in added]
        # Newer answers win for a timestamp held before.
        last_sent = {reading.time: reading for reading in answer}
        assert all(last_sent.get(r.time, r) == r for r in readings)
    assert len(reported) == len(set(reported))


options_values = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=6),
    st.integers(min_value=-1000, max_value=1000),
    st.floats(allow_nan=True, allow_infinity=True),
)


@quick
@given(
    st.dictionaries(
        st.sampled_from(["unit_of_measurement", "stale_minutes", *THRESHOLD_KEYS, "other"]),
        options_values | st.sampled_from(UNITS),
    )
)
def test_any_stored_options_read_as_usable_options(options: dict[str, Any]) -> None:
    """Hand-edited or old options never break a poll or a timer."""
    read = display_options(options)
    assert read.unit in UNITS
    assert (
        timedelta(minutes=MIN_STALE_MINUTES)
        <= read.stale_after
        <= timedelta(minutes=MAX_STALE_MINUTES)
    )
    values = [getattr(read.thresholds, key) for key in THRESHOLD_KEYS]
    assert all(math.isfinite(value) for value in values)
    assert values == sorted(set(values))


ordered_thresholds = st.lists(
    st.integers(min_value=40, max_value=400), min_size=4, max_size=4, unique=True
).map(lambda values: Thresholds(*sorted(values)))


@quick
@given(ordered_thresholds, st.lists(st.sampled_from(UNITS), min_size=1, max_size=6))
def test_thresholds_left_as_shown_never_drift(thresholds: Thresholds, units: list[str]) -> None:
    """Saving the form as shown, in any unit, any number of times, keeps the mg/dL values."""
    current = thresholds
    for unit in units:
        stored = entered_thresholds(shown_thresholds(current, unit), current, unit)
        current = Thresholds(**stored)
    assert current == thresholds


@quick
@given(ordered_thresholds, st.sampled_from(UNITS), st.sampled_from(THRESHOLD_KEYS))
def test_a_changed_threshold_is_converted_from_the_unit_shown(
    thresholds: Thresholds, unit: str, key: str
) -> None:
    """A value typed in mmol/L is stored as its mg/dL equivalent, to 0.1 mg/dL."""
    shown = shown_thresholds(thresholds, unit)
    typed = shown[key] + 1
    stored = entered_thresholds({**shown, key: typed}, thresholds, unit)
    assert stored[key] == pytest.approx(convert(typed, "mg/dL", unit), abs=0.05)


@quick
@given(json_values)
def test_any_stored_state_loads(stored: Any) -> None:
    """A damaged storage file never breaks setup: what is unusable is left out."""
    state = EntryState(store=None, history_store=None)  # type: ignore[arg-type]
    state.load(stored)
    json.dumps(state.as_dict())
    assert math.isfinite(state.not_before)
    assert isinstance(LoginGuard.from_dict(stored), LoginGuard)


@quick
@given(
    st.builds(
        LoginGuard,
        paused_until=st.floats(min_value=0, max_value=4e9),
        lockouts=st.integers(min_value=0, max_value=10),
        rejections=st.dictionaries(
            st.text(min_size=1, max_size=64),
            st.tuples(st.integers(min_value=0, max_value=3), st.floats(min_value=0, max_value=4e9)),
            max_size=4,
        ),
        failed_logins=st.integers(min_value=0, max_value=100),
    ),
    st.none() | st.floats(min_value=0, max_value=4e9),
    st.floats(min_value=0, max_value=4e9),
)
def test_stored_state_round_trips(
    guard: LoginGuard, sensor_started: float | None, not_before: float
) -> None:
    """What is written (as JSON) is what is read back."""
    state = EntryState(
        store=None,  # type: ignore[arg-type]
        history_store=None,  # type: ignore[arg-type]
        guard=guard,
        sensor_started=sensor_started,
        not_before=not_before,
    )
    loaded = EntryState(store=None, history_store=None)  # type: ignore[arg-type]
    loaded.load(json.loads(json.dumps(state.as_dict())))
    assert loaded.guard == guard
    assert loaded.sensor_started == sensor_started
    assert loaded.not_before == not_before


@quick
@given(st.lists(st.tuples(st.sampled_from("abcd"), st.booleans()), max_size=12))
def test_a_typed_login_never_clears_another_rejection(logins: list[tuple[str, bool]]) -> None:
    """Whatever is typed and rejected in flows, the stored login stays held back."""
    guard = LoginGuard()
    stored = guard.fingerprint("jane", "old", "us")
    guard.rejected(stored)
    guard.rejected(stored)
    for password, worked in logins:
        typed = guard.fingerprint("jane", password, "us")
        guard.check(typed, typed=True)
        if worked:
            guard.succeeded(typed)
        else:
            guard.rejected(typed)
    with pytest.raises(ShareAuthError):
        guard.check(stored)


@quick
@given(st.uuids(), st.sampled_from(["plain", "upper", "hex", "braces", "urn", "spaces"]))
def test_an_account_id_in_any_spelling_is_canonical(account_id: uuid.UUID, spelling: str) -> None:
    """Every way people paste a Dexcom account ID reaches Share as the same UUID."""
    text = {
        "plain": str(account_id),
        "upper": str(account_id).upper(),
        "hex": account_id.hex,
        "braces": "{" + str(account_id) + "}",
        "urn": account_id.urn,
        "spaces": f"  {account_id}\t",
    }[spelling]
    assert canonical_login(text) == str(account_id)
    assert canonical_login(canonical_login(text)) == str(account_id)


@quick
@given(st.text(max_size=40))
def test_other_logins_are_only_stripped(login: str) -> None:
    """A username, email or phone number is sent as typed, without surrounding space."""
    canonical = canonical_login(login)
    assert canonical in (login.strip(), canonical_login(login.strip()))
    assert canonical_login(canonical) == canonical


@quick
@given(
    st.lists(readings_near(NOW), max_size=40),
    st.sampled_from(UNITS),
    st.integers(min_value=MIN_STALE_MINUTES, max_value=MAX_STALE_MINUTES),
    ordered_thresholds,
    st.integers(min_value=0, max_value=3600),
)
def test_snapshot_of_any_readings(
    readings: list[GlucoseReading],
    unit: str,
    stale_minutes: int,
    thresholds: Thresholds,
    seconds_later: int,
) -> None:
    """Never raises; nothing about the current reading is shown once it is 15 minutes old."""
    options = DisplayOptions(
        unit, timedelta(minutes=stale_minutes), thresholds, DEFAULT_SENSOR_TYPE, 14
    )
    at = NOW + timedelta(seconds=seconds_later)
    history, _ = ReadingHistory().merged(readings, NOW)
    snapshot = build_snapshot(
        history,
        (),
        generation=1,
        options=options,
        now=at,
        merged_at=NOW,
        sensor_started=None,
        problem=None,
        share_empty=False,
        share_answered=True,
        normal_delay=timedelta(minutes=1),
    )
    newest = snapshot.newest
    if newest is None or at - newest.time >= STALE_AFTER:
        assert snapshot.current is None
        assert {
            snapshot.change,
            snapshot.rate,
            snapshot.glucose_range,
            snapshot.sensor_limit,
            snapshot.predicted_15,
            snapshot.predicted_30,
            snapshot.low_soon,
        } == {None}
    else:
        assert snapshot.current == newest
    assert snapshot.data_stale == (newest is None or at - newest.time >= options.stale_after)
    # Data status says stale exactly when "Data stale" is on.
    assert (snapshot.status is DataStatus.STALE) == snapshot.data_stale
    assert snapshot.rate_unit == f"{unit}/min"
