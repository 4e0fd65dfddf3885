"""The Share access module against the simulator: every failure becomes one of ours."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
import threading
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
import pytest

from custom_components.dexcom_share.glucose.share import (
    GlucoseReading,
    ShareAuthError,
    ShareClient,
    ShareConnectionError,
    ShareDataError,
    ShareLockedError,
    ShareSessionExpiredError,
    Trend,
    parse_reading,
)
from share_simulator import Account, Fault, ShareSimulator
from share_simulator.model import AUTHENTICATE, LOGIN_BY_ID, READ

from .conftest import ACCOUNT_ID, NOW, PASSWORD, USERNAME

TAKEN = datetime(2026, 11, 21, 11, 59, tzinfo=UTC)
MS = int(TAKEN.timestamp() * 1000)


def client(password: str = PASSWORD, username: str = USERNAME, region: str = "us") -> ShareClient:
    """A client for the test account."""
    return ShareClient(username, password, region)


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"DT": f"Date({MS}-0500)", "Value": 120, "Trend": "Flat"}, (120, Trend.STEADY)),
        ({"DT": f"/Date({MS}-0700)/", "Value": 120, "Trend": 4}, (120, Trend.STEADY)),
        ({"DT": f"Date({MS})", "Value": 120, "Trend": 1}, (120, Trend.RISING_QUICKLY)),
        ({"DT": "garbage", "WT": f"Date({MS})", "Value": 120.4, "Trend": "NONE"}, (120, None)),
        ({"ST": f"Date({MS})", "Value": 39, "Trend": 0}, (39, None)),
        ({"DT": f"Date({MS}+0000)", "Value": 401, "Trend": 42}, (401, None)),
    ],
)
def test_parse_reading_tolerates_old_and_odd_records(
    record: dict[str, Any], expected: tuple[int, Trend | None]
) -> None:
    """Integer and unknown trends, dates without offset or wrapped, WT/ST fallback."""
    assert parse_reading(record) == GlucoseReading(TAKEN, *expected)


@pytest.mark.parametrize(
    "record",
    [
        None,
        "oops",
        {"DT": f"Date({MS})", "Trend": "Flat"},
        {"DT": f"Date({MS})", "Value": True, "Trend": "Flat"},
        {"DT": f"Date({MS})", "Value": float("nan"), "Trend": "Flat"},
        {"DT": "Date()", "Value": 100, "Trend": "Flat"},
    ],
)
def test_parse_reading_rejects_unusable_records(record: Any) -> None:
    """Records without a value or a time are dropped."""
    assert parse_reading(record) is None


def test_one_bad_record_is_skipped_not_the_response(
    share: ShareSimulator, account: Account
) -> None:
    """Unknown trends, integer trends and odd dates all still come through."""
    share.state.record_format.trend_as_int = True
    share.state.record_format.date_style = "no_offset"
    account.readings[0].trend = "NONE"
    account.readings[1].value = "n/a"  # type: ignore[assignment]
    readings = client().read(minutes=30, max_count=6)
    assert [reading.value for reading in readings] == [111, 109, 108, 107, 106]
    assert readings[0].trend is None
    assert readings[1].trend is Trend.STEADY
    assert readings[0].time == NOW - timedelta(minutes=1)


def test_login_returns_the_account_id_for_every_alias(
    share: ShareSimulator, account: Account
) -> None:
    """Email and phone resolve to the same account ID; an ID skips Authenticate."""
    assert client(username="JANE@example.com").login() == ACCOUNT_ID
    assert client(username=ACCOUNT_ID).login() == ACCOUNT_ID
    assert share.state.request_count(AUTHENTICATE) == 1
    assert share.state.request_count(LOGIN_BY_ID) == 2


@pytest.mark.parametrize(("username", "login_requests"), [(USERNAME, 2), (ACCOUNT_ID, 1)])
def test_read_sends_what_it_announced(
    share: ShareSimulator, account: Account, username: str, login_requests: int
) -> None:
    """No login per read; an expired session ends the read, the next one logs in first.

    Each read sends no more requests than `requests_needed` said before it (the pacer
    books that many), and exactly that many when it succeeds.
    """
    share_client = client(username=username)
    for expected in (1 + login_requests, 1, 1):
        assert share_client.requests_needed == expected
        before = share.state.request_count()
        share_client.read(minutes=10, max_count=2)
        assert share.state.request_count() - before == expected
    share.state.forget_sessions()
    before = share.state.request_count()
    with pytest.raises(ShareSessionExpiredError):
        share_client.read(minutes=10, max_count=2)
    assert share.state.request_count() - before == 1
    # The account ID is known now: logging in again is one request.
    assert share_client.requests_needed == 2
    before = share.state.request_count()
    assert share_client.read(minutes=10, max_count=2)
    assert share.state.request_count() - before == 2
    assert share_client.requests_needed == 1
    assert share.state.login_count() == login_requests + 1


def test_session_rejected_right_after_login(share: ShareSimulator, account: Account) -> None:
    """A session that fails right after a new login is a transient error, not a loop."""
    share_client = client()
    share_client.login()
    share.state.add_fault(
        Fault("code", endpoint=READ, times=2, code="SessionNotValid", message="timed out")
    )
    with pytest.raises(ShareSessionExpiredError):
        share_client.read(minutes=10, max_count=1)
    with pytest.raises(ShareConnectionError):
        share_client.read(minutes=10, max_count=1)
    assert share.state.request_count(LOGIN_BY_ID) == 2
    assert share.state.request_count(READ) == 2


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("AccountPasswordInvalid", "Publisher account password failed"),
        ("SSO_InternalError", "... Cannot Authenticate by AccountName='someone'"),
        ("SSO_AuthenticatePasswordInvalid", "Simulate SSO: Authentication failed."),
    ],
)
def test_auth_errors(share: ShareSimulator, account: Account, code: str, message: str) -> None:
    """Every form of 'wrong password' Share has used is an auth error."""
    share.state.add_fault(Fault("code", endpoint=AUTHENTICATE, code=code, message=message))
    with pytest.raises(ShareAuthError):
        client().login()


def test_empty_password_is_an_auth_error(share: ShareSimulator, account: Account) -> None:
    """Pydexcom's own argument checks count as a rejected login, without a request."""
    with pytest.raises(ShareAuthError):
        client(password="").login()
    assert share.state.request_count() == 0


@pytest.mark.parametrize(
    "code", ["SSO_AuthenticateMaxAttemptsExceeed", "SSO_AuthenticateMaxAttemptsExceeded"]
)
def test_lockout_pauses_logins(
    share: ShareSimulator, account: Account, freezer: FrozenDateTimeFactory, code: str
) -> None:
    """Both spellings are a lockout; no login is sent for 15 minutes after it."""
    share.state.lockout_code = code
    account.locked_until = share.state.clock() + 60
    share_client = client()
    with pytest.raises(ShareLockedError) as locked:
        share_client.login()
    assert locked.value.retry_after == 15 * 60
    freezer.tick(timedelta(minutes=14))
    with pytest.raises(ShareLockedError):
        share_client.read(minutes=10, max_count=1)
    assert share.state.login_count() == 1
    freezer.tick(timedelta(minutes=2))
    assert share_client.login() == ACCOUNT_ID


def test_simulated_lockout_after_repeated_failures(share: ShareSimulator, account: Account) -> None:
    """The simulator locks after five failures, and then refuses the right password."""
    for _ in range(5):
        with pytest.raises(ShareAuthError):
            client(password="wrong").login()
    with pytest.raises(ShareLockedError):
        client().login()


@pytest.mark.parametrize(
    "fault",
    [
        Fault("html", status=502),
        Fault("empty", status=503),
        Fault("text", status=400),
        Fault("json_string"),
        Fault("malformed_json"),
        Fault("reset"),
        Fault("code", status=500, code="InternalError", message="busy"),
        Fault("code", status=500, code="", message=""),
    ],
    ids=lambda fault: f"{fault.kind}-{fault.status}",
)
def test_server_failures_are_transient(
    share: ShareSimulator, account: Account, fault: Fault
) -> None:
    """HTML, empty, text, string and truncated bodies, resets and unknown codes."""
    share.state.add_fault(fault)
    with pytest.raises(ShareConnectionError):
        client().read(minutes=10, max_count=1)


@pytest.mark.parametrize(
    ("kind", "endpoint", "error"),
    [
        ("zero_uuid", AUTHENTICATE, ShareDataError),
        ("zero_uuid", LOGIN_BY_ID, ShareDataError),
        ("object", READ, ShareDataError),
    ],
)
def test_protocol_violations_are_data_errors(
    share: ShareSimulator, account: Account, kind: Any, endpoint: str, error: type[Exception]
) -> None:
    """All-zeros IDs and a non-list answer are bad data."""
    share.state.add_fault(Fault(kind, endpoint=endpoint))
    with pytest.raises(error):
        client().read(minutes=10, max_count=1)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        ("soon", None),
    ],
)
def test_retry_after_is_kept(
    share: ShareSimulator, account: Account, header: str, expected: float | None
) -> None:
    """A 429 or 503 with Retry-After passes the delay on."""
    share.state.add_fault(Fault("html", status=429, retry_after=header))
    with pytest.raises(ShareConnectionError) as failure:
        client().login()
    assert failure.value.retry_after == expected


def test_unreachable(share: ShareSimulator, account: Account) -> None:
    """Connection refused is transient."""
    share.refuse_connections()
    with pytest.raises(ShareConnectionError):
        client().login()


def test_hung_server_hits_the_deadline(share: ShareSimulator, account: Account) -> None:
    """A server that never answers costs one deadline, not a hung thread."""
    share.state.add_fault(Fault("hang", seconds=30))
    with (
        patch("custom_components.dexcom_share.glucose.share.REQUEST_TIMEOUT", (0.5, 0.5)),
        pytest.raises(ShareConnectionError, match="no answer in time"),
    ):
        client().login()
    share.stop()
    # The simulator's stop waits for the request it held, so no thread outlives the test.
    assert not [
        thread for thread in threading.enumerate() if "process_request_thread" in thread.name
    ]


@pytest.mark.parametrize("stamp", ["Date(99999999999999999999)", "Date(-99999999999999999)"])
def test_dates_out_of_range_are_skipped(stamp: str) -> None:
    """A date Python cannot represent skips the record instead of failing the read."""
    assert parse_reading({"DT": stamp, "WT": stamp, "Value": 100, "Trend": "Flat"}) is None
