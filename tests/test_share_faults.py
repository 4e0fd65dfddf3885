"""Share's faults through the whole stack: every way it fails, alone and combined.

Each scenario runs the integration against the simulator while readings keep
arriving every 5 minutes, injects a fault, and checks what the user sees (entity
availability, repair issues, reauthentication), how many logins were sent, that no
exception reached Home Assistant's log, and that every reading Share held during the
fault reaches Home Assistant afterwards. Most scenarios are rows of one table
(`SCENARIOS`); the few that need steps of their own follow it. Every test runs at
DEBUG and the captured logs and diagnostics are searched for credentials and
session IDs.
"""

from collections.abc import Callable, Generator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_PASSWORD, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.dexcom_share.diagnostics import async_get_config_entry_diagnostics
from share_simulator import Account, Fault, Reading, ShareSimulator
from share_simulator.model import LOGIN_BY_ID, READ

from .conftest import ACCOUNT_ID, NOW, PASSWORD, USERNAME, readings_until, served
from .entities import VALUE
from .helpers import advance, repair_issues

NEW_PASSWORD = "a brand new password"


@pytest.fixture
def live(account: Account) -> Account:
    """Six more hours of readings, every 5 minutes in phase with the history, 20 s late."""
    start = NOW - timedelta(minutes=1)
    values = [150 + n % 50 for n in range(1, 73)]
    account.add_readings(served(readings_until(start + timedelta(hours=6), values)))
    return account


@pytest.fixture(autouse=True)
def no_secrets_logged(caplog: pytest.LogCaptureFixture, share: ShareSimulator) -> Generator[None]:
    """At DEBUG, no record may carry the password, account ID or a session ID.

    The username appears only where Home Assistant itself quotes the entry's title
    (the title is what the user typed), never in this integration's lines (its
    Share client logs each request at DEBUG) or aiohttp's.
    """
    caplog.set_level(logging.DEBUG)
    yield
    secrets = [PASSWORD, NEW_PASSWORD, ACCOUNT_ID, *share.state.issued_sessions]
    assert share.state.issued_sessions
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    assert any(record.name == "custom_components.dexcom_share.glucose.share" for record in records)
    for record in records:
        text = record.getMessage()
        if record.exc_info:
            # Only Home Assistant's own "full error" debug lines carry a traceback.
            assert record.levelno == logging.DEBUG, text
            assert text in {"Full error:", "Full exception"}, text
            text += logging.Formatter().formatException(record.exc_info)
        for secret in secrets:
            assert secret not in text, f"{record.name} logged a secret: {text}"
        if USERNAME in text:
            # Home Assistant's own code quoting the entry title, even when it logs
            # through the integration's logger (as for "not ready yet").
            assert "/site-packages/homeassistant/" in record.pathname, text
            assert f"'{USERNAME}'" in text, text


def logins(share: ShareSimulator) -> int:
    return share.state.login_count()


def assert_everything_arrived(entry: MockConfigEntry, account: Account) -> None:
    """Every reading Share can serve now is held by Home Assistant."""
    now = dt_util.utcnow().timestamp()
    held = {reading.time.timestamp() for reading in entry.runtime_data.data.readings}
    servable = {
        reading.time
        for reading in account.readings
        if reading.visible_from <= now and now - reading.time < 24 * 3600
    }
    assert servable <= {round(t, 3) for t in held}


def assert_recovered(hass: HomeAssistant, entry: MockConfigEntry, account: Account) -> None:
    """The glucose value shows again and nothing Share can serve is missing."""
    assert hass.states.get(VALUE).state != STATE_UNAVAILABLE
    assert_everything_arrived(entry, account)


# What a scenario changes in Share: a fault begins or ends.
Change = Callable[[ShareSimulator, Account], None]


def add(fault: Fault) -> Change:
    return lambda share, account: share.state.add_fault(fault)


def clear_faults(share: ShareSimulator, account: Account) -> None:
    share.state.clear_faults()


def expire(share: ShareSimulator, account: Account) -> None:
    """SessionNotValid for every session issued so far."""
    share.state.expire_sessions()


def forget(share: ShareSimulator, account: Account) -> None:
    """SessionIdNotFound for every session issued so far."""
    share.state.forget_sessions()


def refuse(share: ShareSimulator, account: Account) -> None:
    share.refuse_connections()


def accept(share: ShareSimulator, account: Account) -> None:
    share.accept_connections()


def new_password(share: ShareSimulator, account: Account) -> None:
    """The password changed elsewhere (in the Dexcom app)."""
    account.password = NEW_PASSWORD


def locked(minutes: int, extend: bool = True) -> Change:
    """Dexcom has locked the account (and the session expired, so a login is due)."""

    def lock(share: ShareSimulator, account: Account) -> None:
        share.state.lockout_duration = minutes * 60
        share.state.expire_sessions()
        account.locked_until = share.state.clock() + minutes * 60
        share.state.attempts_while_locked_extend = extend

    return lock


def share_off(share: ShareSimulator, account: Account) -> None:
    account.share_enabled = False


def share_on(share: ShareSimulator, account: Account) -> None:
    account.share_enabled = True


def drifted_format(share: ShareSimulator, account: Account) -> None:
    """Integer trends, /Date()/ without offset, and an unknown trend on one reading."""
    share.state.record_format.trend_as_int = True
    share.state.record_format.date_style = "no_offset"
    soon = (NOW + timedelta(minutes=4)).timestamp()
    next(reading for reading in account.readings if reading.time == soon).trend = "NONE"


def usual_format(share: ShareSimulator, account: Account) -> None:
    share.state.record_format.trend_as_int = False
    share.state.record_format.date_style = "wrapped"


@dataclass(frozen=True)
class At:
    """A moment of a scenario, minutes after its fault began: what is seen, then what changes.

    A check left at None is not made.
    """

    minutes: float
    value: str | None = None  # the glucose value's state
    issues: tuple[str, ...] | None = None  # this integration's open repair issues
    reauth: bool | None = None  # a reauthentication flow (and only it) waits for the user
    logins: int | None = None  # Authenticate and LoginById requests in all (a login is both)
    new_logins: int | None = None  # since the previous moment (or the fault's start)
    failed_logins: int | None = None  # logins Share rejected for the password
    backoff: range | None = None  # polls that failed in a row
    reads: range | None = None  # read requests in all
    new_reads: range | None = None  # since the previous moment (or the fault's start)
    errors: dict[str, int] = field(default_factory=dict)  # errors counted, by kind
    lockouts: int | None = None  # lockouts the login guard met
    no_trend: float | None = None  # the reading taken this many minutes after NOW has no trend
    shown: bool = False  # the glucose value shows (is not unavailable)
    arrived: bool = False  # every reading Share can serve is held
    recovered: bool = False  # both
    then: Change | None = None  # a fault ends (or another begins)
    answer: str | None = None  # then the user enters this password in the reauth flow


@dataclass(frozen=True)
class Scenario:
    """A fault, begun at NOW on a running entry (or before it is set up), and its moments."""

    fault: tuple[Change, ...]
    moments: tuple[At, ...]
    at_setup: bool = False  # the fault is there when the entry is set up; it loads anyway
    hangs: bool = False  # requests give up after 0.3 s until the first moment


TRANSIENT = [
    Fault("html", status=502, times=None),
    Fault("empty", status=503, times=None),
    Fault("text", status=400, times=None),
    Fault("json_string", times=None),
    Fault("malformed_json", times=None),
    Fault("object", endpoint=READ, times=None),
    Fault("reset", times=None),
    Fault("code", status=500, code="InternalServerError", message="busy", times=None),
    Fault(
        "code",
        status=429,
        code="TooManyRequests",
        message="slow down",
        retry_after="300",
        times=None,
    ),
    Fault("html", status=403, times=None),
]

SCENARIOS = [
    # Server errors and garbage for 30 minutes: current readings stay, stale ones go,
    # nothing lost, and the first login only: the session survived.
    *(
        pytest.param(
            Scenario(
                (add(fault),),
                (
                    At(13, value="111"),  # the last good reading, still current
                    At(15, value=STATE_UNAVAILABLE),
                    At(30, then=clear_faults),
                    At(36, recovered=True, logins=2, issues=()),
                ),
            ),
            id=f"transient-{fault.kind}-{fault.status}",
        )
        for fault in TRANSIENT
    ),
    pytest.param(
        # Connection refused for 2 hours: backoff, then every reading of the gap arrives.
        Scenario(
            (refuse,),
            (
                # Waits of 30 s doubling to 5 min, each cut to 50-100 % by jitter: 15-20
                # attempts in the hour (a fixed 60 s retry would make 60).
                At(60, backoff=range(15, 21)),
                At(120, value=STATE_UNAVAILABLE, then=accept),
                At(126, recovered=True, logins=2),
            ),
        ),
        id="share_unreachable_then_back",
    ),
    pytest.param(
        # A Share that accepts and never answers: each read gives up at its deadline.
        Scenario(
            (add(Fault("hang", endpoint=READ, times=2, seconds=30)),),
            (At(10, errors={"transient": 2}, recovered=True),),
            hangs=True,
        ),
        id="hung_share_costs_one_deadline",
    ),
    pytest.param(
        # A hang during the first login gives up in bounded time; the next poll gets the data.
        Scenario(
            (add(Fault("hang", times=1, seconds=30)),),
            (At(0, value=STATE_UNAVAILABLE), At(1, recovered=True)),
            at_setup=True,
            hangs=True,
        ),
        id="hung_share_at_setup_loads_and_retries",
    ),
    pytest.param(
        # A rejected password is tried again once, 10 minutes later, then the user is
        # asked. Nothing is sent in between: two failed logins in all.
        Scenario(
            (new_password,),
            (
                At(9, logins=1, reauth=False),
                At(12, logins=2, reauth=True),
                At(72, logins=2, answer=NEW_PASSWORD),
                At(72, recovered=True),
            ),
            at_setup=True,
        ),
        id="wrong_password_at_setup_is_tried_once_more_then_reauth",
    ),
    # SessionNotValid or SessionIdNotFound: one new login, no gap.
    *(
        pytest.param(
            Scenario((ends,), (At(30, logins=3, recovered=True),)),
            id=f"session_expiry_costs_one_login-{ends.__name__}",
        )
        for ends in (expire, forget)
    ),
    pytest.param(
        # Integer trends, /Date()/ without offset and an unknown trend: readings still come.
        Scenario(
            (drifted_format,),
            (At(30, no_trend=4, then=usual_format), At(60, recovered=True)),
        ),
        id="format_drift",
    ),
    pytest.param(
        # Share switched off: unavailable after 15 min, a repair after 3 h, cleared on data.
        Scenario(
            (share_off,),
            (
                At(170, value=STATE_UNAVAILABLE, issues=()),
                At(190, issues=("no_recent_data",)),
                # Two polls per period, plus probes.
                At(250, new_reads=range(31), then=share_on),
                At(256, issues=(), recovered=True),
            ),
        ),
        id="no_data_for_hours_raises_and_clears_a_repair",
    ),
    pytest.param(
        # Locked on re-login: no login for 15 min, a repair issue, cleared when it works.
        Scenario(
            (locked(10),),
            (
                At(5, issues=("account_locked",)),
                At(19, new_logins=0),
                At(25, new_logins=1, issues=(), arrived=True),
            ),
        ),
        id="lockout_pauses_logins_and_raises_a_repair",
    ),
    pytest.param(
        # Locked again after the pause: the next pause is 30 minutes, then an hour.
        # Logins at about +5 min, +20 min (15 min later), +50 min (30), +110 min (60), +170 min.
        Scenario(
            (locked(4 * 60, extend=False),),
            (At(180, logins=2 + 5, lockouts=5, issues=("account_locked",)),),
        ),
        id="repeated_lockout_doubles_the_pause",
    ),
    pytest.param(
        # One 'password failed' with the right password: one retry 10 min later, no reauth.
        Scenario(
            (
                expire,
                add(
                    Fault(
                        "code",
                        endpoint=LOGIN_BY_ID,
                        code="AccountPasswordInvalid",
                        message="Publisher account password failed",
                    )
                ),
            ),
            (At(20, reauth=False, logins=2 + 2, recovered=True),),
        ),
        id="spurious_password_rejection_is_ridden_out",
    ),
    pytest.param(
        # A changed password: two failed logins in all, one reauth flow, then all readings.
        Scenario(
            (new_password, expire),
            (
                At(30, reauth=True, failed_logins=2),
                # Nothing more until the user acts.
                At(90, failed_logins=2, answer=NEW_PASSWORD),
                At(96, recovered=True),
            ),
        ),
        id="password_changed_elsewhere_asks_once_and_recovers",
    ),
    pytest.param(
        # The session expires while Share is down: one login when it is back, no gap.
        Scenario(
            (expire, refuse),
            (At(45, then=accept), At(51, logins=3, recovered=True)),
        ),
        id="outage_during_session_expiry",
    ),
    pytest.param(
        # Down, then back with a new password: two failed logins, reauth, recovery.
        Scenario(
            (expire, refuse, new_password),
            (
                At(30, failed_logins=0, then=accept),
                At(50, failed_logins=2, answer=NEW_PASSWORD),
                At(56, recovered=True),
            ),
        ),
        id="password_changed_while_share_is_down",
    ),
    pytest.param(
        # Two spurious rejections of the right password: the user may enter it again.
        Scenario(
            (
                expire,
                add(Fault("code", endpoint=LOGIN_BY_ID, times=2, code="AccountPasswordInvalid")),
            ),
            (At(20, answer=PASSWORD), At(26, shown=True)),
        ),
        id="reauth_accepts_a_password_rejected_before",
    ),
    pytest.param(
        # A re-login answered with the all-zeros session ID is not kept: the next one works.
        Scenario(
            (expire, add(Fault("zero_uuid", endpoint=LOGIN_BY_ID))),
            (At(10, errors={"bad_data": 1}, recovered=True),),
        ),
        id="all_zeros_session_is_dropped",
    ),
    pytest.param(
        # Reads failing at start-up: the entry loads, backs off, and logs in only once.
        Scenario(
            (add(Fault("html", endpoint=READ, status=502, times=None)),),
            (
                # Backoff: 30 s doubling to 5 min.
                At(30, reads=range(5, 16), logins=2, then=clear_faults),
                At(36, recovered=True, logins=2),
            ),
            at_setup=True,
        ),
        id="reads_failing_at_start_up_reuse_the_session",
    ),
]


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_fault(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    hung_requests_time_out: Callable[[], AbstractContextManager[object]],
    scenario: Scenario,
) -> None:
    """The fault begins; at each moment the user and Share see what the row says."""
    with hung_requests_time_out() if scenario.hangs else nullcontext():
        if not scenario.at_setup:
            assert await hass.config_entries.async_setup(config_entry.entry_id)
            await hass.async_block_till_done()
        for change in scenario.fault:
            change(share, live)
        if scenario.at_setup:
            await hass.config_entries.async_setup(config_entry.entry_id)
            await hass.async_block_till_done()
            assert config_entry.state is ConfigEntryState.LOADED
        start = dt_util.utcnow()
        seen = {"logins": logins(share), "reads": share.state.request_count(READ)}
        await advance(hass, freezer, timedelta(minutes=scenario.moments[0].minutes))
    for moment in scenario.moments:
        await advance(hass, freezer, start + timedelta(minutes=moment.minutes) - dt_util.utcnow())
        seen = await check(hass, share, live, config_entry, moment, seen)


async def check(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    entry: MockConfigEntry,
    moment: At,
    before: dict[str, int],
) -> dict[str, int]:
    """What `moment` says is seen, then its change and answer; the counts to compare next."""
    coordinator = entry.runtime_data
    now = {"logins": logins(share), "reads": share.state.request_count(READ)}
    if moment.value is not None:
        assert hass.states.get(VALUE).state == moment.value
    if moment.issues is not None:
        assert repair_issues(hass) == set(moment.issues)
    if moment.reauth is not None:
        flows = hass.config_entries.flow.async_progress()
        expected = [(SOURCE_REAUTH, "reauth_confirm")] if moment.reauth else []
        assert [(flow["context"]["source"], flow["step_id"]) for flow in flows] == expected
    if moment.logins is not None:
        assert now["logins"] == moment.logins
    if moment.new_logins is not None:
        assert now["logins"] - before["logins"] == moment.new_logins
    if moment.failed_logins is not None:
        assert len(account.failed_logins) == moment.failed_logins
    if moment.backoff is not None:
        assert coordinator.planner.consecutive_errors in moment.backoff
    if moment.reads is not None:
        assert now["reads"] in moment.reads
    if moment.new_reads is not None:
        assert now["reads"] - before["reads"] in moment.new_reads
    for kind, count in moment.errors.items():
        assert coordinator.errors[kind] == count, kind
    if moment.lockouts is not None:
        assert coordinator.client.guard.lockouts == moment.lockouts
    if moment.no_trend is not None:
        held = {r.time: r for r in coordinator.data.readings}
        assert held[NOW + timedelta(minutes=moment.no_trend)].trend is None
    if moment.shown:
        assert hass.states.get(VALUE).state != STATE_UNAVAILABLE
    if moment.arrived:
        assert_everything_arrived(entry, account)
    if moment.recovered:
        assert_recovered(hass, entry, account)
    if moment.then is not None:
        moment.then(share, account)
    if moment.answer is not None:
        (flow,) = hass.config_entries.flow.async_progress()
        result = await hass.config_entries.flow.async_configure(
            flow["flow_id"], {CONF_PASSWORD: moment.answer}
        )
        assert result["reason"] == "reauth_successful"
        await hass.async_block_till_done(wait_background_tasks=True)
    return now


# Its own test: the user opens reauthentication while locked and answers twice in one
# flow, first refused; a row answers a flow the integration opened, once.
async def test_lockout_then_correct_password(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A lockout caused elsewhere: reauth with the right password waits it out, no extension."""
    locked(10)(share, live)
    await advance(hass, freezer, timedelta(minutes=5))
    lock_ends = live.locked_until
    result = await init_integration.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: PASSWORD}
    )
    assert result["errors"] == {"base": "account_locked"}
    locked_logins = logins(share)
    await advance(hass, freezer, timedelta(minutes=15))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: PASSWORD}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    await advance(hass, freezer, timedelta(minutes=6))
    # After the pause only, none failed: the flow's check (2) and one re-login for the
    # session (the reload keeps the client, as the credentials did not change).
    assert logins(share) == locked_logins + 3
    assert live.locked_until == lock_ends
    assert not live.failed_logins
    assert not repair_issues(hass)
    assert_recovered(hass, init_integration, live)


# Its own test: it checks the diagnostics download, not what a row's user sees.
async def test_diagnostics_after_faults_hold_no_secrets(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Diagnostics show error kinds and latencies but no credential or ID."""
    share.state.add_fault(Fault("html", status=502, times=2))
    share.state.expire_sessions()
    await advance(hass, freezer, timedelta(minutes=30))
    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    text = repr(diagnostics)
    for secret in (USERNAME, PASSWORD, ACCOUNT_ID, *share.state.issued_sessions):
        assert secret not in text
    assert diagnostics["errors"]["transient"]["count"] == 2
    assert diagnostics["requests"]["ReadPublisherLatestGlucoseValues"]["failures"] >= 2
    assert diagnostics["region"] == "us"


# Its own test: it checks which reading the coordinator takes as newest and when it polls
# next, which no row's columns say.
async def test_reading_from_the_future_is_ignored(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A reading stamped a day ahead (bad uploader, clock not set) never poses as current."""
    live.add_readings([Reading(time=(NOW + timedelta(days=1)).timestamp(), value=250)])
    share.state.record_format.date_style = "modern"
    await advance(hass, freezer, timedelta(minutes=6))
    coordinator = init_integration.runtime_data
    assert coordinator.data.newest.time < NOW + timedelta(minutes=6)
    assert hass.states.get(VALUE).state != "250"
    assert coordinator.update_interval <= timedelta(minutes=6)
