"""The fault suite: every way Share fails, alone and combined, through the whole stack.

Each test runs the integration against the simulator while readings keep arriving
every 5 minutes, injects a fault, and checks what the user sees (entity
availability, repair issues, reauthentication), how many logins were sent, that no
exception reached Home Assistant's log, and that every reading Share held during the
fault reaches Home Assistant afterwards. The whole suite runs at DEBUG and the
captured logs and diagnostics are searched for credentials and session IDs.
"""

from collections.abc import Generator
from datetime import timedelta
import logging
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_PASSWORD, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.dexcom_share.const import DOMAIN
from custom_components.dexcom_share.diagnostics import async_get_config_entry_diagnostics
from share_simulator import Account, Fault, Reading, ShareSimulator
from share_simulator.model import LOGIN_BY_ID, READ

from .conftest import ACCOUNT_ID, NOW, PASSWORD, USERNAME
from .entities import VALUE
from .helpers import advance

NEW_PASSWORD = "a brand new password"
UPLOAD_DELAY = timedelta(seconds=20)


@pytest.fixture
def live(account: Account) -> Account:
    """Six more hours of readings, every 5 minutes in phase with the history, 20 s late."""
    start = NOW - timedelta(minutes=1)
    account.add_readings(
        Reading(
            time=(start + timedelta(minutes=5 * n)).timestamp(),
            value=150 + n % 50,
            available_at=(start + timedelta(minutes=5 * n) + UPLOAD_DELAY).timestamp(),
        )
        for n in range(1, 73)
    )
    return account


@pytest.fixture(autouse=True)
def no_secrets_logged(caplog: pytest.LogCaptureFixture, share: ShareSimulator) -> Generator[None]:
    """At DEBUG, no record may carry the password, account ID or a session ID.

    The username appears only where Home Assistant itself quotes the entry's title
    (the title is what the user typed), never in this integration's, pydexcom's or
    urllib3's lines.
    """
    caplog.set_level(logging.DEBUG)
    yield
    secrets = [PASSWORD, NEW_PASSWORD, ACCOUNT_ID, *share.state.issued_sessions]
    assert share.state.issued_sessions
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    assert any(record.name == "pydexcom" for record in records)
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


def lock_account(share: ShareSimulator, account: Account, minutes: int = 10) -> None:
    """Dexcom has locked the account (and the session expired, so a login is due)."""
    share.state.lockout_duration = minutes * 60
    share.state.expire_sessions()
    account.locked_until = share.state.clock() + minutes * 60


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


def issues(hass: HomeAssistant) -> set[str]:
    return {
        issue.translation_key or issue_id
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN
    }


FAULTS = [
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


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f"{f.kind}-{f.status}")
async def test_transient_fault_for_30_minutes(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    fault: Fault,
) -> None:
    """Server errors and garbage: current readings stay, stale ones go, nothing lost."""
    share.state.add_fault(fault)
    await advance(hass, freezer, timedelta(minutes=13))
    assert hass.states.get(VALUE).state == "111"  # the last good reading, still current
    await advance(hass, freezer, timedelta(minutes=2))
    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE
    await advance(hass, freezer, timedelta(minutes=15))
    share.state.clear_faults()
    await advance(hass, freezer, timedelta(minutes=6))
    assert_recovered(hass, init_integration, live)
    assert logins(share) == 2  # the first login only: the session survived
    assert not issues(hass)


async def test_share_unreachable_then_back(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Connection refused for 2 hours: backoff, then every reading of the gap arrives."""
    share.refuse_connections()
    await advance(hass, freezer, timedelta(hours=1))
    # Waits of 30 s doubling to 5 min, each cut to 50-100 % by jitter: 15-20 attempts
    # in the hour (a fixed 60 s retry would make 60).
    assert 15 <= init_integration.runtime_data.planner.consecutive_errors <= 20
    await advance(hass, freezer, timedelta(hours=1))
    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE
    share.accept_connections()
    await advance(hass, freezer, timedelta(minutes=6))
    assert_recovered(hass, init_integration, live)
    assert logins(share) == 2


async def test_hung_share_costs_one_deadline(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A Share that accepts and never answers: each read gives up at its deadline."""
    share.state.add_fault(Fault("hang", endpoint=READ, times=2, seconds=30))
    with patch("custom_components.dexcom_share.glucose.share.REQUEST_TIMEOUT", (0.3, 0.3)):
        await advance(hass, freezer, timedelta(minutes=10))
    assert init_integration.runtime_data.errors["transient"] == 2
    assert_recovered(hass, init_integration, live)


async def test_hung_share_at_setup_loads_and_retries(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A hang during the first login gives up in bounded time; the next poll gets the data."""
    share.state.add_fault(Fault("hang", times=1, seconds=30))
    with patch("custom_components.dexcom_share.glucose.share.REQUEST_TIMEOUT", (0.3, 0.3)):
        await hass.config_entries.async_setup(config_entry.entry_id)
        await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE
    await advance(hass, freezer, timedelta(minutes=1))
    assert_recovered(hass, config_entry, live)


async def test_wrong_password_at_setup_is_tried_once_more_then_reauth(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A rejected password is tried again once, 10 minutes later, then the user is asked.

    Nothing is sent in between, so the account collects two failed logins in all.
    """
    live.password = "changed elsewhere"
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    await advance(hass, freezer, timedelta(minutes=9))
    assert logins(share) == 1
    assert not hass.config_entries.flow.async_progress()

    await advance(hass, freezer, timedelta(minutes=3))
    assert logins(share) == 2
    flows = hass.config_entries.flow.async_progress()
    assert [(flow["context"]["source"], flow["step_id"]) for flow in flows] == [
        (SOURCE_REAUTH, "reauth_confirm")
    ]
    await advance(hass, freezer, timedelta(hours=1))
    assert logins(share) == 2
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {CONF_PASSWORD: "changed elsewhere"}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert_recovered(hass, config_entry, live)


@pytest.mark.parametrize("expiry", ["expire", "forget"])
async def test_session_expiry_costs_one_login(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    expiry: str,
) -> None:
    """SessionNotValid or SessionIdNotFound: one new login, no gap."""
    getattr(share.state, f"{expiry}_sessions")()
    await advance(hass, freezer, timedelta(minutes=30))
    assert logins(share) == 3
    assert_recovered(hass, init_integration, live)


async def test_format_drift(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Integer trends, /Date()/ without offset and an unknown trend: readings still come."""
    share.state.record_format.trend_as_int = True
    share.state.record_format.date_style = "no_offset"
    soon = (NOW + timedelta(minutes=4)).timestamp()
    next(reading for reading in live.readings if reading.time == soon).trend = "NONE"
    await advance(hass, freezer, timedelta(minutes=30))
    held = {r.time.timestamp(): r for r in init_integration.runtime_data.data.readings}
    assert held[soon].trend is None
    share.state.record_format.trend_as_int = False
    share.state.record_format.date_style = "wrapped"
    await advance(hass, freezer, timedelta(minutes=30))
    assert_recovered(hass, init_integration, live)


async def test_no_data_for_hours_raises_and_clears_a_repair(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Share switched off: unavailable after 15 min, a repair after 3 h, cleared on data."""
    live.share_enabled = False
    await advance(hass, freezer, timedelta(hours=2, minutes=50))
    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE
    assert not issues(hass)
    await advance(hass, freezer, timedelta(minutes=20))
    assert issues(hass) == {"no_recent_data"}
    reads = share.state.request_count(READ)
    await advance(hass, freezer, timedelta(hours=1))
    assert share.state.request_count(READ) - reads <= 30  # two polls per period, plus probes
    live.share_enabled = True
    await advance(hass, freezer, timedelta(minutes=6))
    assert not issues(hass)
    assert_recovered(hass, init_integration, live)


async def test_lockout_pauses_logins_and_raises_a_repair(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Locked on re-login: no login for 15 min, a repair issue, cleared when it works."""
    lock_account(share, live)
    await advance(hass, freezer, timedelta(minutes=5))
    assert issues(hass) == {"account_locked"}
    locked_logins = logins(share)
    await advance(hass, freezer, timedelta(minutes=14))
    assert logins(share) == locked_logins
    await advance(hass, freezer, timedelta(minutes=6))
    assert logins(share) == locked_logins + 1
    assert not issues(hass)
    assert_everything_arrived(init_integration, live)


async def test_repeated_lockout_doubles_the_pause(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Locked again after the pause: the next pause is 30 minutes, then an hour."""
    lock_account(share, live, minutes=4 * 60)
    share.state.attempts_while_locked_extend = False
    await advance(hass, freezer, timedelta(hours=3))
    # Logins at about +5 min, +20 min (15 min later), +50 min (30), +110 min (60), +170 min.
    assert logins(share) == 2 + 5
    assert init_integration.runtime_data.client.guard.lockouts == 5
    assert issues(hass) == {"account_locked"}


async def test_spurious_password_rejection_is_ridden_out(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """One 'password failed' with the right password: one retry 10 min later, no reauth."""
    share.state.expire_sessions()
    share.state.add_fault(
        Fault(
            "code",
            endpoint=LOGIN_BY_ID,
            code="AccountPasswordInvalid",
            message="Publisher account password failed",
        )
    )
    await advance(hass, freezer, timedelta(minutes=20))
    assert not hass.config_entries.flow.async_progress()
    assert logins(share) == 2 + 2
    assert_recovered(hass, init_integration, live)


async def test_password_changed_elsewhere_asks_once_and_recovers(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A changed password: two failed logins in all, one reauth flow, then all readings."""
    live.password = NEW_PASSWORD
    share.state.expire_sessions()
    await advance(hass, freezer, timedelta(minutes=30))
    flows = hass.config_entries.flow.async_progress()
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert live.failed_logins
    assert len(live.failed_logins) == 2
    await advance(hass, freezer, timedelta(hours=1))
    assert len(live.failed_logins) == 2  # nothing more until the user acts
    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {CONF_PASSWORD: NEW_PASSWORD}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    await advance(hass, freezer, timedelta(minutes=6))
    assert_recovered(hass, init_integration, live)


async def test_outage_during_session_expiry(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The session expires while Share is down: one login when it is back, no gap."""
    share.state.expire_sessions()
    share.refuse_connections()
    await advance(hass, freezer, timedelta(minutes=45))
    share.accept_connections()
    await advance(hass, freezer, timedelta(minutes=6))
    assert logins(share) == 3
    assert_recovered(hass, init_integration, live)


async def test_password_changed_while_share_is_down(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Down, then back with a new password: two failed logins, reauth, recovery."""
    share.state.expire_sessions()
    share.refuse_connections()
    live.password = NEW_PASSWORD
    await advance(hass, freezer, timedelta(minutes=30))
    assert not live.failed_logins
    share.accept_connections()
    await advance(hass, freezer, timedelta(minutes=20))
    assert len(live.failed_logins) == 2
    flow = hass.config_entries.flow.async_progress()[0]
    await hass.config_entries.flow.async_configure(flow["flow_id"], {CONF_PASSWORD: NEW_PASSWORD})
    await hass.async_block_till_done(wait_background_tasks=True)
    await advance(hass, freezer, timedelta(minutes=6))
    assert_recovered(hass, init_integration, live)


async def test_lockout_then_correct_password(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A lockout caused elsewhere: reauth with the right password waits it out, no extension."""
    lock_account(share, live)
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
    assert not issues(hass)
    assert_recovered(hass, init_integration, live)


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


async def test_urllib3_request_lines_hide_the_session_id(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    live: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The session ID pydexcom puts in the URL is redacted in urllib3's debug line."""
    await advance(hass, freezer, timedelta(minutes=6))
    lines = [r.getMessage() for r in caplog.records if r.name == "urllib3.connectionpool"]
    assert any("sessionId=**REDACTED**" in line for line in lines)


async def test_reauth_accepts_a_password_rejected_before(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Two spurious rejections of the right password: the user may enter it again."""
    share.state.expire_sessions()
    share.state.add_fault(
        Fault("code", endpoint=LOGIN_BY_ID, times=2, code="AccountPasswordInvalid")
    )
    await advance(hass, freezer, timedelta(minutes=20))
    flow = hass.config_entries.flow.async_progress()[0]
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_PASSWORD: PASSWORD}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    await advance(hass, freezer, timedelta(minutes=6))
    assert hass.states.get(VALUE).state != STATE_UNAVAILABLE


async def test_all_zeros_session_is_dropped(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A re-login answered with the all-zeros session ID is not kept: the next one works."""
    share.state.expire_sessions()
    share.state.add_fault(Fault("zero_uuid", endpoint=LOGIN_BY_ID))
    await advance(hass, freezer, timedelta(minutes=10))
    assert init_integration.runtime_data.errors["bad_data"] == 1
    assert_recovered(hass, init_integration, live)


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


async def test_reads_failing_at_start_up_reuse_the_session(
    hass: HomeAssistant,
    share: ShareSimulator,
    live: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Reads failing at start-up: the entry loads, backs off, and logs in only once."""
    share.state.add_fault(Fault("html", endpoint=READ, status=502, times=None))
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    await advance(hass, freezer, timedelta(minutes=30))
    assert 5 <= share.state.request_count(READ) <= 15  # backoff: 30 s doubling to 5 min
    assert logins(share) == 2
    share.state.clear_faults()
    await advance(hass, freezer, timedelta(minutes=6))
    assert_recovered(hass, config_entry, live)
    assert logins(share) == 2
