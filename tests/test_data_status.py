"""Data status: why the glucose value shows what it shows, in every state, both units.

A known cause (Share unreachable, asking to wait, rejecting the login, the lockout
pause) wins over age and lasts as long as the cause; without one, the newest
reading's age says current, waiting, delayed or stale.
"""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from hypothesis import given, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.dexcom_share.const import CONF_UNIT
from custom_components.dexcom_share.coordinator import NORMAL_DELAY_SHARE
from custom_components.dexcom_share.glucose.analysis import data_status
from custom_components.dexcom_share.glucose.const import READING_PERIOD
from custom_components.dexcom_share.glucose.models import SHARE_PROBLEMS, DataStatus, GlucoseReading
from share_simulator import Account, Fault, ShareSimulator
from share_simulator.model import READ

from .conftest import NOW
from .entities import PREFIX, VALUE
from .helpers import advance

STATUS = f"sensor.{PREFIX}_data_status"
STALE_AFTER = timedelta(minutes=15)


def status(hass: HomeAssistant) -> str:
    state = hass.states.get(STATUS)
    assert state is not None
    return state.state


def reading(minutes_old: float, *, from_fallback: bool = False) -> GlucoseReading:
    return GlucoseReading(
        NOW - timedelta(minutes=minutes_old), 120, None, from_fallback=from_fallback
    )


@given(
    minutes_old=st.none() | st.floats(-5, 2000, allow_nan=False),
    problem=st.none() | st.sampled_from(SHARE_PROBLEMS),
    share_empty=st.booleans(),
    share_answered=st.booleans(),
    from_fallback=st.booleans(),
    delay_s=st.floats(0, 300),
    stale_minutes=st.integers(10, 120),
)
def test_status_rules(
    minutes_old: float | None,
    problem: DataStatus | None,
    share_empty: bool,
    share_answered: bool,
    from_fallback: bool,
    delay_s: float,
    stale_minutes: int,
) -> None:
    """A fallback on show first, then a known cause, then no readings, then the age."""
    newest = None if minutes_old is None else reading(minutes_old, from_fallback=from_fallback)
    stale_after = timedelta(minutes=stale_minutes)
    found = data_status(
        newest,
        NOW,
        problem=problem,
        share_empty=share_empty,
        share_answered=share_answered,
        normal_delay=timedelta(seconds=delay_s),
        stale_after=stale_after,
    )
    age = None if newest is None else NOW - newest.time
    fallback_on_show = (
        newest is not None and from_fallback and age is not None and age < STALE_AFTER
    )
    if fallback_on_show:
        assert found is DataStatus.FALLBACK
    elif problem is not None:
        assert found is problem
    elif share_empty:
        assert found is DataStatus.NO_READINGS
    elif age is None:
        assert found is (DataStatus.STALE if share_answered else DataStatus.WAITING)
    elif age >= stale_after:
        assert found is DataStatus.STALE
    elif age < READING_PERIOD:
        assert found is DataStatus.CURRENT
    else:
        assert found in (DataStatus.WAITING, DataStatus.DELAYED)
        assert (found is DataStatus.WAITING) == (age < READING_PERIOD + timedelta(seconds=delay_s))
    # Never current once a reading period old, never fallback from an old reading.
    assert found is not DataStatus.CURRENT or (age is not None and age < READING_PERIOD)
    assert found is not DataStatus.FALLBACK or fallback_on_show


@pytest.mark.parametrize("unit", ["mg/dL", "mmol/L"])
async def test_current_waiting_delayed_stale(
    hass: HomeAssistant,
    account: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    unit: str,
) -> None:
    """No new reading after the one a minute old: the status follows its age, to the second."""
    hass.config_entries.async_update_entry(config_entry, options={CONF_UNIT: unit})
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    newest = NOW - timedelta(minutes=1)
    assert status(hass) == "current"
    assert hass.states.get(STATUS).attributes == {
        **hass.states.get(STATUS).attributes,
        "last_reading": newest.isoformat(),
        "share_problem": None,
    }
    delays = config_entry.runtime_data.planner.delays
    normal = timedelta(seconds=delays.quantile(NORMAL_DELAY_SHARE))
    seen: dict[str, timedelta] = {}
    for _ in range(20 * 60):
        await advance(hass, freezer, timedelta(seconds=1))
        seen.setdefault(status(hass), dt_util.utcnow() - newest)
        if status(hass) == "stale":
            break
    assert list(seen) == ["current", "waiting", "delayed", "stale"]
    # Each state begins at its age, within the second stepped.
    assert seen["waiting"] - READING_PERIOD <= timedelta(seconds=1)
    assert abs(seen["delayed"] - READING_PERIOD - normal) <= timedelta(seconds=1)
    assert seen["stale"] - STALE_AFTER <= timedelta(seconds=1)
    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE


def lock(share: ShareSimulator, account: Account) -> None:
    share.state.lockout_duration = 40 * 60
    share.state.expire_sessions()
    account.locked_until = share.state.clock() + 40 * 60


def reject(share: ShareSimulator, account: Account) -> None:
    share.state.expire_sessions()
    account.password = "changed elsewhere"


def unreachable(share: ShareSimulator, _: Account) -> None:
    share.state.add_fault(Fault("html", status=502, times=None))


def rate_limited(share: ShareSimulator, _: Account) -> None:
    share.state.add_fault(Fault("empty", endpoint=READ, status=429, retry_after="2400", times=None))


def sharing_off(_: ShareSimulator, account: Account) -> None:
    account.share_enabled = False


@pytest.mark.parametrize(
    ("cause", "expected"),
    [
        (unreachable, "share_unreachable"),
        (rate_limited, "rate_limited"),
        (reject, "login_rejected"),
        (lock, "locked"),
        (sharing_off, "no_readings"),
    ],
)
async def test_a_known_cause_wins_over_age_while_it_lasts(
    hass: HomeAssistant,
    share: ShareSimulator,
    arriving: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    cause: object,
    expected: str,
) -> None:
    """Said at the first read that meets it, still said 30 minutes later; current again after."""
    await advance(hass, freezer, timedelta(minutes=2))
    assert status(hass) == "current"
    cause(share, arriving)  # type: ignore[operator]
    await advance(hass, freezer, timedelta(minutes=6))
    assert status(hass) == expected
    await advance(hass, freezer, timedelta(minutes=30))
    assert status(hass) == expected
    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE
    problem = hass.states.get(STATUS).attributes["share_problem"]
    assert problem == (None if expected == "no_readings" else expected)
    share.state.clear_faults()
    arriving.locked_until = 0
    arriving.share_enabled = True
    if expected == "login_rejected":
        return  # The user is asked for the password: see the reauthentication tests.
    await advance(hass, freezer, timedelta(minutes=15))
    assert status(hass) in ("current", "waiting")
    assert hass.states.get(VALUE).state != STATE_UNAVAILABLE


async def test_login_rejected_at_start_up_sets_up_and_asks(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Rejected for good before the entry starts: it is set up, says why, and asks the user."""
    account.password = "changed elsewhere"
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    await advance(hass, freezer, timedelta(minutes=12))
    assert config_entry.state is ConfigEntryState.LOADED
    assert status(hass) == "login_rejected"
    assert [flow["context"]["source"] for flow in hass.config_entries.flow.async_progress()] == [
        "reauth"
    ]
