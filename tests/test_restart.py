"""Restarts of an entry: the lockout, a rejected password, Share's wait and what was learned survive.

Each test unloads the entry, drops everything the integration keeps in `hass.data`
and sets it up again, as a Home Assistant restart would (`helpers.restart`).
"""

from datetime import timedelta
import random

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_PASSWORD, STATE_ON
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.dexcom_share.glucose.delays import DelayEstimate
from custom_components.dexcom_share.glucose.optimiser import plan_schedule
from custom_components.dexcom_share.glucose.planner import PollPlanner
from share_simulator import Account, Fault, ShareSimulator
from share_simulator.model import AUTHENTICATE, LOGIN_BY_ID, READ

from .conftest import NOW, readings_until, served
from .entities import DATA_STALE
from .helpers import advance, repair_issues, restart


async def test_restart_during_a_lockout_sends_no_login(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The lockout pause and its repair issue survive a restart; no login cuts it short."""
    share.state.expire_sessions()
    account.locked_until = share.state.clock() + 3600
    share.state.attempts_while_locked_extend = False
    await advance(hass, freezer, timedelta(minutes=5))
    logins = share.state.login_count()
    await restart(hass, init_integration)
    assert init_integration.state is ConfigEntryState.LOADED
    assert repair_issues(hass) == {"account_locked"}
    await advance(hass, freezer, timedelta(minutes=13))
    assert share.state.login_count() == logins
    assert hass.states.get(DATA_STALE).state == STATE_ON


async def test_restart_during_a_password_problem_sends_no_login(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Rejected twice before the restart: after it, reauthentication and no login.

    The entry is set up all the same, so that Data status says why no reading comes
    and the alerts keep watching while the user is asked for the password.
    """
    account.password = "changed elsewhere"
    share.state.expire_sessions()
    await advance(hass, freezer, timedelta(minutes=20))
    assert share.state.request_count(AUTHENTICATE) + share.state.request_count(LOGIN_BY_ID) == 4
    logins = share.state.login_count()
    await restart(hass, init_integration)
    await advance(hass, freezer, timedelta(hours=1))
    assert share.state.login_count() == logins
    assert init_integration.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.dexcom_jane_sharer_data_status").state == "login_rejected"
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_restart_between_rejections_keeps_the_10_minute_wait(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Rejected once, then a restart: the one retry still waits its 10 minutes."""
    account.password = "changed elsewhere"
    share.state.expire_sessions()
    await advance(hass, freezer, timedelta(minutes=5))
    logins = share.state.login_count()
    await restart(hass, init_integration)
    await advance(hass, freezer, timedelta(minutes=3))
    assert share.state.login_count() == logins


async def test_restart_keeps_a_pending_retry_after_and_the_no_data_issue(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Share's wait and the "No glucose readings" repair survive a restart."""
    account.share_enabled = False
    await advance(hass, freezer, timedelta(hours=3, minutes=10))
    assert repair_issues(hass) == {"no_recent_data"}
    share.state.add_fault(
        Fault("code", endpoint=READ, status=429, code="TooMany", retry_after="1800", times=None)
    )
    await advance(hass, freezer, timedelta(minutes=6))
    reads = share.state.request_count(READ)
    await restart(hass, init_integration)
    assert repair_issues(hass) == {"no_recent_data"}
    await advance(hass, freezer, timedelta(minutes=20))
    assert share.state.request_count(READ) == reads


async def test_restart_keeps_the_learned_delays(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The planner comes back from the entry's Store with what it learned, and plans from it.

    What it learned includes how far the readings' stamps are off (`stamp_offset_s`).

    The plan is made afresh from the estimate: keeping the plan in use across restarts
    was measured worse in the benchmark (see docs/polling.md).
    """
    rng = random.Random(5)
    delays = DelayEstimate()
    for _ in range(150):
        arrived = rng.uniform(8, 35) if rng.random() < 0.85 else rng.uniform(35, 200)
        delays.add(arrived - rng.uniform(1, 15), arrived)
    planner = PollPlanner(delays=delays)
    init_integration.runtime_data.planner = planner
    # Three more readings, each on Share 20 s after it was taken: the polls learn them.
    account.add_readings(served(readings_until(NOW + timedelta(minutes=14), [120, 121, 122])))
    await advance(hass, freezer, timedelta(minutes=16))
    assert planner.delays.learned > 150
    await restart(hass, init_integration)
    restored = init_integration.runtime_data.planner
    assert restored is not planner
    assert restored.delays.learned == planner.delays.learned
    assert restored.delays.probabilities == pytest.approx(planner.delays.probabilities, abs=1e-6)
    assert restored.schedule == plan_schedule(restored.delays.cdf(), restored.tuning)
    # How far the stamps were judged off, from the readings found so far.
    assert restored.to_dict()["stamps"] == planner.to_dict()["stamps"]
    assert len(planner.to_dict()["stamps"]["bounds"]) == 3


async def test_a_failed_reauth_does_not_release_the_rejected_password(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A wrong password typed into reauth, then a restart: the stored one stays held back."""
    account.password = "changed elsewhere"
    share.state.expire_sessions()
    await advance(hass, freezer, timedelta(minutes=20))
    flow = hass.config_entries.flow.async_progress()[0]
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_PASSWORD: "a typo"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    logins = share.state.login_count()
    await restart(hass, init_integration)
    await advance(hass, freezer, timedelta(minutes=30))
    assert share.state.login_count() == logins
