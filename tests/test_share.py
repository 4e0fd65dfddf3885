"""The Share access module against the simulator: every failure becomes one of ours."""

import asyncio
from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
import logging
import threading
import traceback
from typing import Any
from unittest.mock import patch

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from pydexcom import Region
import pydexcom.const
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
from share_simulator.model import AUTHENTICATE, LOGIN_BY_ID, READ, Response

from .conftest import ACCOUNT_ID, NOW, PASSWORD, USERNAME, readings_until

TAKEN = datetime(2026, 11, 21, 11, 59, tzinfo=UTC)
MS = int(TAKEN.timestamp() * 1000)
SHARE = "custom_components.dexcom_share.glucose.share"


def client(
    websession: aiohttp.ClientSession,
    password: str = PASSWORD,
    username: str = USERNAME,
    region: str = "us",
) -> ShareClient:
    """A client for the test account."""
    return ShareClient(websession, username, password, region)


@pytest.fixture
def live_account(share: ShareSimulator) -> Account:
    """The account on the real clock, for deadlines that must pass by themselves."""
    return share.state.add_account(
        username=USERNAME,
        password=PASSWORD,
        account_id=ACCOUNT_ID,
        readings=readings_until(datetime.now(UTC) - timedelta(minutes=1), [100, 101]),
    )


@pytest.fixture
async def arrived(share: ShareSimulator) -> AsyncGenerator[asyncio.Queue[str]]:
    """The endpoint of each request as it reaches the simulator (told from its thread).

    Under a frozen clock nothing on the loop wakes by time; this wakes it when the
    simulator has the request, so the test can move the clock at the right moment.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str] = asyncio.Queue()
    handle = share.state.handle

    def telling(region: str, endpoint: str, params: dict[str, Any], body: Any) -> Response:
        response = handle(region, endpoint, params, body)
        loop.call_soon_threadsafe(queue.put_nowait, endpoint)
        return response

    with patch.object(share.state, "handle", telling):
        yield queue


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


async def test_one_bad_record_is_skipped_not_the_response(
    share: ShareSimulator, account: Account, websession: aiohttp.ClientSession
) -> None:
    """Unknown trends, integer trends and odd dates all still come through."""
    share.state.record_format.trend_as_int = True
    share.state.record_format.date_style = "no_offset"
    account.readings[0].trend = "NONE"
    account.readings[1].value = "n/a"  # type: ignore[assignment]
    readings = await client(websession).read(minutes=30, max_count=6)
    assert [reading.value for reading in readings] == [111, 109, 108, 107, 106]
    assert readings[0].trend is None
    assert readings[1].trend is Trend.STEADY
    assert readings[0].time == NOW - timedelta(minutes=1)


async def test_login_returns_the_account_id_for_every_alias(
    share: ShareSimulator, account: Account, websession: aiohttp.ClientSession
) -> None:
    """Email and phone resolve to the same account ID; an ID skips Authenticate."""
    assert await client(websession, username="JANE@example.com").login() == ACCOUNT_ID
    assert await client(websession, username=ACCOUNT_ID).login() == ACCOUNT_ID
    assert share.state.request_count(AUTHENTICATE) == 1
    assert share.state.request_count(LOGIN_BY_ID) == 2


@pytest.mark.parametrize(("username", "login_requests"), [(USERNAME, 2), (ACCOUNT_ID, 1)])
async def test_read_sends_what_it_announced(
    share: ShareSimulator,
    account: Account,
    websession: aiohttp.ClientSession,
    username: str,
    login_requests: int,
) -> None:
    """No login per read; an expired session ends the read, the next one logs in first.

    Each read sends no more requests than `requests_needed` said before it (the pacer
    books that many), and exactly that many when it succeeds.
    """
    share_client = client(websession, username=username)
    for expected in (1 + login_requests, 1, 1):
        assert share_client.requests_needed == expected
        before = share.state.request_count()
        await share_client.read(minutes=10, max_count=2)
        assert share.state.request_count() - before == expected
    share.state.forget_sessions()
    before = share.state.request_count()
    with pytest.raises(ShareSessionExpiredError):
        await share_client.read(minutes=10, max_count=2)
    assert share.state.request_count() - before == 1
    # The account ID is known now: logging in again is one request.
    assert share_client.requests_needed == 2
    before = share.state.request_count()
    assert await share_client.read(minutes=10, max_count=2)
    assert share.state.request_count() - before == 2
    assert share_client.requests_needed == 1
    assert share.state.login_count() == login_requests + 1


async def test_session_rejected_right_after_login(
    share: ShareSimulator, account: Account, websession: aiohttp.ClientSession
) -> None:
    """A session that fails right after a new login is a transient error, not a loop."""
    share_client = client(websession)
    await share_client.login()
    share.state.add_fault(
        Fault("code", endpoint=READ, times=2, code="SessionNotValid", message="timed out")
    )
    with pytest.raises(ShareSessionExpiredError):
        await share_client.read(minutes=10, max_count=1)
    with pytest.raises(ShareConnectionError):
        await share_client.read(minutes=10, max_count=1)
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
async def test_auth_errors(
    share: ShareSimulator,
    account: Account,
    websession: aiohttp.ClientSession,
    code: str,
    message: str,
) -> None:
    """Every form of 'wrong password' Share has used is an auth error."""
    share.state.add_fault(Fault("code", endpoint=AUTHENTICATE, code=code, message=message))
    with pytest.raises(ShareAuthError):
        await client(websession).login()


async def test_a_read_rejected_as_unauthorised_counts_as_a_rejected_login(
    share: ShareSimulator, account: Account, websession: aiohttp.ClientSession
) -> None:
    """The guard hears of it, and the next read logs in from the username again."""
    share_client = client(websession)
    await share_client.login()
    share.state.add_fault(Fault("code", endpoint=READ, code="AccountPasswordInvalid"))
    with pytest.raises(ShareAuthError) as rejected:
        await share_client.read(minutes=10, max_count=1)
    assert rejected.value.retry_after == 600
    assert share_client.guard.failed_logins == 1
    assert share_client.requests_needed == 3


@pytest.mark.parametrize(
    ("password", "username", "error"),
    [
        ("", USERNAME, ShareAuthError),
        (PASSWORD, "  ", ShareAuthError),
        (PASSWORD, pydexcom.const.DEFAULT_UUID, ShareDataError),
    ],
    ids=["empty password", "empty username", "all-zeros account ID"],
)
async def test_argument_checks_send_nothing(
    share: ShareSimulator,
    account: Account,
    websession: aiohttp.ClientSession,
    password: str,
    username: str,
    error: type[Exception],
) -> None:
    """The argument checks pydexcom made, with the outcomes they had, and no request."""
    share_client = client(websession, password=password, username=username)
    for _ in range(2):
        with pytest.raises(error):
            await share_client.login()
    assert share.state.request_count() == 0
    assert share_client.guard.failed_logins == 0


@pytest.mark.parametrize(
    "code", ["SSO_AuthenticateMaxAttemptsExceeed", "SSO_AuthenticateMaxAttemptsExceeded"]
)
async def test_lockout_pauses_logins(
    share: ShareSimulator,
    account: Account,
    websession: aiohttp.ClientSession,
    freezer: FrozenDateTimeFactory,
    code: str,
) -> None:
    """Both spellings are a lockout; no login is sent for 15 minutes after it."""
    share.state.lockout_code = code
    account.locked_until = share.state.clock() + 60
    share_client = client(websession)
    with pytest.raises(ShareLockedError) as locked:
        await share_client.login()
    assert locked.value.retry_after == 15 * 60
    freezer.tick(timedelta(minutes=14))
    with pytest.raises(ShareLockedError):
        await share_client.read(minutes=10, max_count=1)
    assert share.state.login_count() == 1
    freezer.tick(timedelta(minutes=2))
    assert await share_client.login() == ACCOUNT_ID


async def test_simulated_lockout_after_repeated_failures(
    share: ShareSimulator, account: Account, websession: aiohttp.ClientSession
) -> None:
    """The simulator locks after five failures, and then refuses the right password."""
    for _ in range(5):
        with pytest.raises(ShareAuthError):
            await client(websession, password="wrong").login()
    with pytest.raises(ShareLockedError):
        await client(websession).login()


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
async def test_server_failures_are_transient(
    share: ShareSimulator, account: Account, websession: aiohttp.ClientSession, fault: Fault
) -> None:
    """HTML, empty, text, string and truncated bodies, resets and unknown codes."""
    share.state.add_fault(fault)
    with pytest.raises(ShareConnectionError):
        await client(websession).read(minutes=10, max_count=1)


@pytest.mark.parametrize(
    ("kind", "endpoint", "error"),
    [
        ("zero_uuid", AUTHENTICATE, ShareDataError),
        ("zero_uuid", LOGIN_BY_ID, ShareDataError),
        ("object", READ, ShareDataError),
    ],
)
async def test_protocol_violations_are_data_errors(
    share: ShareSimulator,
    account: Account,
    websession: aiohttp.ClientSession,
    kind: Any,
    endpoint: str,
    error: type[Exception],
) -> None:
    """All-zeros IDs and a non-list answer are bad data."""
    share.state.add_fault(Fault(kind, endpoint=endpoint))
    with pytest.raises(error):
        await client(websession).read(minutes=10, max_count=1)


async def test_an_all_zeros_session_starts_the_login_over(
    share: ShareSimulator, account: Account, websession: aiohttp.ClientSession
) -> None:
    """The account ID Share named is dropped too: the next login authenticates again."""
    share_client = client(websession)
    share.state.add_fault(Fault("zero_uuid", endpoint=LOGIN_BY_ID))
    with pytest.raises(ShareDataError, match="Session ID default"):
        await share_client.login()
    assert share_client.requests_needed == 3
    assert await share_client.login() == ACCOUNT_ID
    assert share.state.request_count(AUTHENTICATE) == 2


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        ("soon", None),
    ],
)
async def test_retry_after_is_kept(
    share: ShareSimulator,
    account: Account,
    websession: aiohttp.ClientSession,
    header: str,
    expected: float | None,
) -> None:
    """A 429 or 503 with Retry-After passes the delay on."""
    share.state.add_fault(Fault("html", status=429, retry_after=header))
    with pytest.raises(ShareConnectionError) as failure:
        await client(websession).login()
    assert failure.value.retry_after == expected


async def test_unreachable(
    share: ShareSimulator, account: Account, websession: aiohttp.ClientSession
) -> None:
    """Connection refused is transient."""
    share.refuse_connections()
    with pytest.raises(ShareConnectionError):
        await client(websession).login()


async def test_the_region_url_is_looked_up_at_login(
    share: ShareSimulator,
    account: Account,
    websession: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The region table of pydexcom is read when logging in, not kept from earlier."""
    share_client = client(websession)
    with ShareSimulator() as elsewhere:
        elsewhere.state.add_account(username=USERNAME, password=PASSWORD, account_id=ACCOUNT_ID)
        monkeypatch.setitem(pydexcom.const.DEXCOM_BASE_URLS, Region.US, elsewhere.base_url())
        assert await share_client.login() == ACCOUNT_ID
        assert elsewhere.state.login_count() == 2
    assert share.state.request_count() == 0


async def test_stats_per_endpoint_and_share_clock(
    share: ShareSimulator, live_account: Account, websession: aiohttp.ClientSession
) -> None:
    """Requests, failures and latencies per endpoint; Share's clock from its Date header."""
    share.state.add_fault(Fault("slow", endpoint=AUTHENTICATE, seconds=0.3))
    share_client = client(websession)
    await share_client.login()
    share.state.add_fault(Fault("html", endpoint=READ, status=502))
    with pytest.raises(ShareConnectionError):
        await share_client.read(minutes=10, max_count=1)
    await share_client.read(minutes=10, max_count=1)
    stats = share_client.stats.as_dict()
    assert {endpoint: stat["requests"] for endpoint, stat in stats.items()} == {
        "AuthenticatePublisherAccount": 1,
        "LoginPublisherAccountById": 1,
        "ReadPublisherLatestGlucoseValues": 2,
    }
    assert stats["ReadPublisherLatestGlucoseValues"]["failures"] == 1
    assert stats["AuthenticatePublisherAccount"]["latency_median_ms"] >= 300
    assert share_client.stats.clock_offset == pytest.approx(0, abs=2)


async def test_hung_server_hits_the_deadline(
    share: ShareSimulator, live_account: Account, websession: aiohttp.ClientSession
) -> None:
    """A server that never answers costs one request timeout, and no thread."""
    share.state.add_fault(Fault("hang", seconds=30))
    with (
        patch(f"{SHARE}.REQUEST_TIMEOUT", (0.5, 0.5)),
        pytest.raises(
            ShareConnectionError, match="AuthenticatePublisherAccount: no answer in time"
        ),
    ):
        await client(websession).login()
    share.stop()
    # The simulator's stop waits for the request it held, so no thread outlives the test.
    assert not [
        thread for thread in threading.enumerate() if "process_request_thread" in thread.name
    ]


async def test_the_operation_deadline_spans_its_requests(
    share: ShareSimulator, live_account: Account, websession: aiohttp.ClientSession
) -> None:
    """Each answer within the request timeout, the login as a whole past its deadline."""
    share.state.add_fault(Fault("slow", times=2, seconds=0.5))
    with (
        patch(f"{SHARE}.REQUEST_TIMEOUT", (2.0, 2.0)),
        patch(f"{SHARE}.OPERATION_DEADLINE", 0.8),
        pytest.raises(
            ShareConnectionError, match="LoginPublisherAccountById: operation deadline passed"
        ),
    ):
        await client(websession).login()
    assert share.state.login_count() == 2


@pytest.mark.parametrize(
    ("request_timeout", "deadline", "message"),
    [
        ((10.0, 20.0), 20, "no answer in time"),
        ((100.0, 100.0), 45, "operation deadline passed"),
    ],
    ids=["request", "operation"],
)
async def test_deadlines_follow_the_frozen_clock(
    share: ShareSimulator,
    account: Account,
    websession: aiohttp.ClientSession,
    freezer: FrozenDateTimeFactory,
    arrived: asyncio.Queue[str],
    request_timeout: tuple[float, float],
    deadline: int,
    message: str,
) -> None:
    """The deadlines run on the event loop's clock, which a frozen test clock stops.

    A hung request then ends when the test moves the clock past its deadline, and
    not before (aiohttp rounds a timeout of 5 s or more up to the next whole second).
    """
    share.state.add_fault(Fault("hang", seconds=30))
    with patch(f"{SHARE}.REQUEST_TIMEOUT", request_timeout):
        login = asyncio.create_task(client(websession).login())
        assert await arrived.get() == AUTHENTICATE
        freezer.tick(deadline - 1)
        for _ in range(5):
            await asyncio.sleep(0)
        assert not login.done()
        freezer.tick(2)
        with pytest.raises(ShareConnectionError, match=f"AuthenticatePublisherAccount: {message}"):
            await login


async def test_hung_requests_time_out_under_the_frozen_clock(
    share: ShareSimulator,
    account: Account,
    websession: aiohttp.ClientSession,
    hung_requests_time_out: Callable[[], AbstractContextManager[object]],
) -> None:
    """The fault suite's helper: with it, each hang ends at the request timeout."""
    share.state.add_fault(Fault("hang", times=2, seconds=30))
    share_client = client(websession)
    with hung_requests_time_out():
        for _ in range(2):
            with pytest.raises(ShareConnectionError, match="no answer in time"):
                await share_client.login()
    assert await share_client.login() == ACCOUNT_ID


async def test_a_cancelled_read_leaves_the_client_usable(
    share: ShareSimulator,
    account: Account,
    websession: aiohttp.ClientSession,
    arrived: asyncio.Queue[str],
) -> None:
    """Cancelled mid-login (an unload, a shutdown): the error is the cancellation itself.

    The lock is released, the request counts as failed, and the next read logs in
    with the account ID Share already named.
    """
    share.state.add_fault(Fault("hang", endpoint=LOGIN_BY_ID, seconds=30))
    share_client = client(websession)
    read = asyncio.create_task(share_client.read(minutes=10, max_count=1))
    assert await arrived.get() == AUTHENTICATE
    assert await arrived.get() == LOGIN_BY_ID
    read.cancel()
    with pytest.raises(asyncio.CancelledError):
        await read
    assert share_client.stats.as_dict()["LoginPublisherAccountById"]["failures"] == 1
    assert share_client.requests_needed == 2
    assert await share_client.read(minutes=10, max_count=1)
    assert share.state.request_count(AUTHENTICATE) == 1
    assert share.state.request_count(LOGIN_BY_ID) == 2


async def test_one_operation_at_a_time(
    share: ShareSimulator, account: Account, websession: aiohttp.ClientSession
) -> None:
    """Two reads at once: the second waits for the first one's login and reuses it."""
    share_client = client(websession)
    first, second = await asyncio.gather(
        share_client.read(minutes=10, max_count=1), share_client.read(minutes=10, max_count=1)
    )
    assert first == second
    assert share.state.login_count() == 2
    assert share.state.request_count(READ) == 2


async def test_no_thread_is_used(
    share: ShareSimulator, account: Account, websession: aiohttp.ClientSession
) -> None:
    """Logins and reads run on the event loop: nothing goes to the executor."""
    loop = asyncio.get_running_loop()
    with patch.object(loop, "run_in_executor", side_effect=AssertionError("executor used")):
        assert await client(websession).read(minutes=10, max_count=1)


async def test_errors_and_logs_never_carry_secrets(
    share: ShareSimulator,
    account: Account,
    websession: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Errors of aiohttp can name the URL, with the session ID in it: ours never do.

    Each request is logged at DEBUG by endpoint, status and time only.
    """
    caplog.set_level(logging.DEBUG)
    share_client = client(websession)
    await share_client.login()
    share.state.add_fault(Fault("reset", endpoint=READ))
    with pytest.raises(ShareConnectionError) as failure:
        await share_client.read(minutes=10, max_count=1)
    assert failure.value.__cause__ is None
    text = "".join(traceback.format_exception(failure.value)) + caplog.text
    for secret in (USERNAME, PASSWORD, ACCOUNT_ID, *share.state.issued_sessions):
        assert secret not in text
    lines = [record.getMessage() for record in caplog.records if record.name == SHARE]
    assert lines[0].startswith("AuthenticatePublisherAccount: HTTP 200 after ")
    assert lines[-1].startswith("ReadPublisherLatestGlucoseValues: HTTP - after ")


@pytest.mark.parametrize("stamp", ["Date(99999999999999999999)", "Date(-99999999999999999)"])
def test_dates_out_of_range_are_skipped(stamp: str) -> None:
    """A date Python cannot represent skips the record instead of failing the read."""
    assert parse_reading({"DT": stamp, "WT": stamp, "Value": 100, "Trend": "Flat"}) is None
