"""Everything that talks to Dexcom Share.

This is the only module that speaks Share. pydexcom 0.5.1 is synchronous and lacks a
timeout, both spellings of the lockout code, tolerance of error bodies that are not
objects and of odd records, so this module sends pydexcom's login sequence itself, on
the aiohttp session it is given, and uses only pydexcom's public constants. Every
failure becomes one of five errors: `ShareAuthError`, `ShareLockedError`,
`ShareConnectionError`, `ShareDataError` and `ShareSessionExpiredError` (read again at
once: a login is due). Its methods are coroutines for the event loop.
"""

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
import hashlib
import hmac
import json
import logging
import math
import re
import secrets
import statistics
import time
from typing import Any, Final
import uuid

import aiohttp
from pydexcom import Region, const
from pydexcom.const import (
    DEFAULT_UUID,
    DEXCOM_AUTHENTICATE_ENDPOINT,
    DEXCOM_GLUCOSE_READINGS_ENDPOINT,
    DEXCOM_LOGIN_ID_ENDPOINT,
    DEXCOM_TREND_DIRECTIONS,
    HEADERS,
    MAX_MAX_COUNT,
    MAX_MINUTES,
)
from pydexcom.errors import ArgumentErrorEnum

from .models import GlucoseReading, Trend

_LOGGER: Final = logging.getLogger(__name__)

# (connect, read) deadline in seconds for every request, logins included.
REQUEST_TIMEOUT: Final = (10.0, 20.0)
# A whole login or read (up to three requests) ends within this.
OPERATION_DEADLINE: Final = 45.0
# After Share reports too many failed logins, no login is tried for this long,
# doubling on each further lockout up to the maximum.
LOCKOUT_PAUSE: Final = 15 * 60.0
MAX_LOCKOUT_PAUSE: Final = 60 * 60.0
# A rejected password is tried once more after this long (Share sometimes rejects a
# correct one), then never again until the user enters credentials.
AUTH_RETRY_DELAY: Final = 10 * 60.0
LATENCY_SAMPLES: Final = 20
# Share's clock is judged by the median of this many answers' Date headers.
CLOCK_SAMPLES: Final = 5
# A longer Retry-After is taken for a day (a server's mistake must not stop polling for good).
MAX_RETRY_AFTER: Final = 24 * 3600.0


class ShareError(Exception):
    """A Share request failed; the message never carries a credential."""

    retry_after: float | None = None
    """Seconds Share asked us to wait, or the lockout pause; None: our own backoff."""


class ShareAuthError(ShareError):
    """Share rejected the username or password (or the region is wrong).

    `retry_after` is set while one more try is still due; None means the
    credentials are rejected for good and the user must enter new ones.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        """Say whether one more login will be tried, and when."""
        super().__init__(message)
        self.retry_after = retry_after


class ShareLockedError(ShareError):
    """Share locked the account after too many failed logins."""

    def __init__(self, retry_after: float) -> None:
        """Remember how long to wait before the next login."""
        super().__init__(f"account locked; next login in {retry_after:.0f} s")
        self.retry_after: float = retry_after


class ShareConnectionError(ShareError):
    """Share could not be reached or answered with a server error; try again later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        """Keep Share's `Retry-After`, when it sent one."""
        super().__init__(message)
        self.retry_after = retry_after


class ShareDataError(ShareError):
    """Share answered with something that is not what the protocol promises."""


class _SessionExpiredError(ShareError):
    """Share said the session is no longer valid."""


class ShareSessionExpiredError(ShareError):
    """The session expired during a read; the next read logs in first, at once."""


# pydexcom numbers Share's trend names 0-9; 0 ("None") means no trend at all.
_TRENDS_BY_NUMBER: Final[dict[int, Trend | None]] = {0: None, **dict(enumerate(Trend, start=1))}
_TRENDS_BY_NAME: Final = {
    name: _TRENDS_BY_NUMBER[number] for name, number in DEXCOM_TREND_DIRECTIONS.items()
}
_DATE: Final = re.compile(r"Date\((\d+)(?:[+-]\d{4})?\)")
_LOCKOUT_CODE: Final = re.compile(r"MaxAttempts", re.IGNORECASE)
_AUTH_CODES: Final = frozenset(
    {"AccountPasswordInvalid", "SSO_AuthenticatePasswordInvalid", "SSO_AuthenticateAccountNotFound"}
)


def parse_reading(record: Any) -> GlucoseReading | None:
    """Parse one Share record, or None when it cannot be used.

    Unlike pydexcom it accepts integer (pre-2021) and unknown trends, and dates
    without an offset or in the old `/Date(...)/` wrapper, falling back from DT to
    WT and ST.
    """
    if not isinstance(record, Mapping):
        return None
    value = record.get("Value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    taken: datetime | None = None
    for key in ("DT", "WT", "ST"):
        if match := _DATE.search(str(record.get(key, ""))):
            try:
                taken = datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
            except OverflowError, OSError, ValueError:
                continue
            break
    if taken is None:
        return None
    raw_trend = record.get("Trend")
    if isinstance(raw_trend, int) and not isinstance(raw_trend, bool):
        trend = _TRENDS_BY_NUMBER.get(raw_trend)
    else:
        trend = _TRENDS_BY_NAME.get(str(raw_trend))
    return GlucoseReading(time=taken, value=round(value), trend=trend)


def _retry_after(header: str | None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or an HTTP date), at most a day."""
    if not header:
        return None
    try:
        seconds = float(header)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(header).timestamp() - time.time()
        except TypeError, ValueError, OverflowError:
            return None
    if math.isnan(seconds):
        return None
    return min(MAX_RETRY_AFTER, max(0.0, seconds))


class RequestStats:
    """Counts and recent latencies per endpoint, for diagnostics (event loop only)."""

    def __init__(self) -> None:
        """Start with nothing counted."""
        self._requests: dict[str, int] = {}
        self._failures: dict[str, int] = {}
        self._latencies: dict[str, deque[float]] = {}
        self._clock_offsets: deque[float] = deque(maxlen=CLOCK_SAMPLES)

    def record_clock(self, date_header: str | None) -> None:
        """Note how far Share's clock (an answer's `Date` header) is from ours."""
        try:
            theirs = parsedate_to_datetime(date_header or "").timestamp()
        except TypeError, ValueError, OverflowError:
            return
        self._clock_offsets.append(theirs - time.time())

    @property
    def clock_offset(self) -> float | None:
        """Seconds Share's clock is ahead of ours (negative: behind); None before an answer.

        Whole seconds at best: the header has no fractions, and the answer took a while.
        """
        return statistics.median(self._clock_offsets) if self._clock_offsets else None

    def record(self, endpoint: str, seconds: float, *, failed: bool) -> None:
        """Count one request and keep its latency."""
        self._requests[endpoint] = self._requests.get(endpoint, 0) + 1
        if failed:
            self._failures[endpoint] = self._failures.get(endpoint, 0) + 1
        self._latencies.setdefault(endpoint, deque(maxlen=LATENCY_SAMPLES)).append(seconds)

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """Per endpoint: requests, failures, median and maximum latency in ms."""
        return {
            endpoint: {
                "requests": count,
                "failures": self._failures.get(endpoint, 0),
                "latency_median_ms": round(statistics.median(self._latencies[endpoint]) * 1000),
                "latency_max_ms": round(max(self._latencies[endpoint]) * 1000),
            }
            for endpoint, count in self._requests.items()
        }


# Rejections of this many different logins are remembered (the stored one and the
# last ones typed into a flow).
MAX_REMEMBERED_REJECTIONS: Final = 8


@dataclass
class LoginGuard:
    """Keeps logins from ever causing or extending a Dexcom lockout.

    It outlives a client (reloads and flows make new ones), so each config entry has
    one, kept in its stored state. Logins are told apart by a salted fingerprint, so
    that a password typed into a flow and rejected does not make the guard forget the
    stored one was rejected too. Wall-clock times.
    """

    paused_until: float = 0.0
    lockouts: int = 0
    rejections: dict[str, tuple[int, float]] = field(default_factory=dict)
    """Per login fingerprint: rejections in a row, and when the last one was."""
    failed_logins: int = 0
    salt: str = field(default_factory=lambda: secrets.token_hex(16))

    def fingerprint(self, username: str, password: str, region: str) -> str:
        """A salted, one-way fingerprint of a login (never the login itself)."""
        text = f"{username}\x00{password}\x00{region}".encode()
        return hmac.new(self.salt.encode(), text, hashlib.sha256).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        """What the guard knows, for the entry's stored state."""
        return {
            "paused_until": self.paused_until,
            "lockouts": self.lockouts,
            "rejections": {key: list(value) for key, value in self.rejections.items()},
            "failed_logins": self.failed_logins,
            "salt": self.salt,
        }

    @classmethod
    def from_dict(cls, stored: Any) -> LoginGuard:
        """A guard from stored state; anything unusable in it is left at its default."""
        if not isinstance(stored, Mapping):
            return cls()

        def number(value: Any) -> float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return 0.0
            return float(value) if math.isfinite(value) else 0.0

        def count(value: Any) -> int:
            return value if isinstance(value, int) and not isinstance(value, bool) else 0

        rejections: dict[str, tuple[int, float]] = {}
        stored_rejections = stored.get("rejections")
        if isinstance(stored_rejections, Mapping):
            for key, value in stored_rejections.items():
                if isinstance(key, str) and isinstance(value, list) and len(value) == 2:
                    rejections[key] = (count(value[0]), number(value[1]))
        salt = stored.get("salt")
        guard = cls(
            paused_until=number(stored.get("paused_until")),
            lockouts=count(stored.get("lockouts")),
            rejections=rejections,
            failed_logins=count(stored.get("failed_logins")),
        )
        if isinstance(salt, str) and salt:
            guard.salt = salt
        return guard

    @property
    def most_rejections(self) -> int:
        """The most rejections in a row of any login (for diagnostics)."""
        return max((count for count, _ in self.rejections.values()), default=0)

    def check(self, credentials: str, *, typed: bool = False) -> None:
        """Raise instead of logging in when a login now could only do harm.

        A login the user just typed is tried even if it was rejected before, but
        never during a lockout pause.
        """
        now = time.time()
        if self.paused_until > now:
            raise ShareLockedError(self.paused_until - now)
        if typed or credentials not in self.rejections:
            return
        rejections, last = self.rejections[credentials]
        if rejections >= 2:
            raise ShareAuthError("credentials rejected twice; waiting for new ones")
        wait = last + AUTH_RETRY_DELAY - now
        if wait > 0:
            raise ShareAuthError("credentials rejected; one more try later", wait)

    def succeeded(self, credentials: str) -> None:
        """A login worked: forget its rejections, and the lockouts."""
        self.lockouts = 0
        self.rejections.pop(credentials, None)

    def rejected(self, credentials: str) -> ShareAuthError:
        """Share rejected these credentials; the error says whether a retry is due."""
        self.failed_logins += 1
        previous, _ = self.rejections.pop(credentials, (0, 0.0))
        self.rejections[credentials] = (previous + 1, time.time())
        while len(self.rejections) > MAX_REMEMBERED_REJECTIONS:
            # The login least held back goes first; one rejected twice stays longest.
            del self.rejections[min(self.rejections, key=self.rejections.__getitem__)]
        if previous + 1 >= 2:
            return ShareAuthError("credentials rejected twice")
        return ShareAuthError("credentials rejected", AUTH_RETRY_DELAY)

    def locked(self) -> ShareLockedError:
        """Share reported a lockout: pause 15 min, doubling on repeat up to an hour."""
        self.failed_logins += 1
        self.lockouts += 1
        pause = min(MAX_LOCKOUT_PAUSE, LOCKOUT_PAUSE * 2 ** (self.lockouts - 1))
        self.paused_until = time.time() + pause
        return ShareLockedError(pause)


def canonical_login(login: str) -> str:
    """The login as Share expects it: an account ID in any spelling becomes its canonical form.

    Dexcom account IDs are UUIDs; people paste them in upper case, without dashes, in
    braces or as `urn:uuid:`. Any other login is only stripped of surrounding space.
    """
    login = login.strip()
    try:
        return str(uuid.UUID(login))
    except ValueError:
        return login


def _is_account_id(login: str) -> bool:
    try:
        return str(uuid.UUID(login)) == login
    except ValueError:
        return False


def _checked_id(value: Any, invalid: ArgumentErrorEnum, default: ArgumentErrorEnum) -> str:
    """An account or session ID checked as pydexcom checks it: a UUID, not the all-zeros one."""
    text = value if isinstance(value, str) else ""
    try:
        uuid.UUID(text)
    except ValueError:
        raise ShareDataError(f"login: {invalid.value}") from None
    if text == DEFAULT_UUID:
        raise ShareDataError(f"login: {default.value}")
    return text


@dataclass(frozen=True, slots=True)
class _Session:
    """A Share session and the account it belongs to."""

    account_id: str
    session_id: str


class ShareClient:
    """One Share account: logs in once, reuses the session, logs in again on expiry.

    The username may be a Dexcom username, an email, a phone number (+ and country
    code) or the account ID itself (a UUID, which skips the username step). Every
    login first asks the `LoginGuard`; `typed` marks a login the user just entered in a
    flow, which is tried even if it was rejected before. One login or read runs at a
    time, so that a read never sends a session another one is replacing.
    """

    def __init__(
        self,
        websession: aiohttp.ClientSession,
        username: str,
        password: str,
        region: str,
        guard: LoginGuard | None = None,
        *,
        typed: bool = False,
    ) -> None:
        """Store the credentials; nothing is sent until `login` or `read`."""
        self._websession = websession
        self._username = canonical_login(username)
        self._password = password
        self._region = Region(region)
        self._typed = typed
        self.guard = guard or LoginGuard()
        self._credentials = self.guard.fingerprint(self._username, password, region)
        self._account_id: str | None = None
        """Known from the username or an earlier login: logging in is then one request."""
        self._session: _Session | None = None
        self._forget()
        self._expired = False
        """Share said the session is no longer valid: the next read logs in first."""
        self._base_url = ""
        """The region's Share URL, looked up at each login: its session lives there."""
        self._sending = ""
        """The endpoint of the request in flight, for the deadline's message."""
        self._lock = asyncio.Lock()
        self.stats = RequestStats()

    @property
    def credentials(self) -> str:
        """The guard's fingerprint of username, password and region (not reversible)."""
        return self._credentials

    async def login(self) -> str:
        """Log in, unless this client holds a session already; return the account ID."""
        async with self._operation():
            session = self._session or await self._login()
        return canonical_login(session.account_id)

    @property
    def requests_needed(self) -> int:
        """The Share requests the next `read` sends at most: the read, and a login first.

        A login is two requests (authenticate, then log in), one once the account ID
        is known (given as the username, or from an earlier login).
        """
        if self._session is not None:
            return 2 if self._expired else 1
        return 2 if self._account_id is not None else 3

    async def read(self, minutes: int, max_count: int) -> list[GlucoseReading]:
        """Readings of the last `minutes` (at most `max_count`), newest first.

        Sends no more than `requests_needed` said: a session found expired ends the
        read with `ShareSessionExpiredError`, and the next read logs in first. Records
        that cannot be parsed are skipped, not the whole answer.
        """
        minutes = max(1, min(MAX_MINUTES, minutes))
        max_count = max(1, min(MAX_MAX_COUNT, max_count))
        async with self._operation():
            session = None if self._expired else self._session
            logged_in = session is None
            if session is None:
                session = await self._login()
            try:
                records = await self._post(
                    DEXCOM_GLUCOSE_READINGS_ENDPOINT,
                    params={
                        "sessionId": session.session_id,
                        "minutes": minutes,
                        "maxCount": max_count,
                    },
                )
            except _SessionExpiredError as err:
                if logged_in:
                    raise ShareConnectionError("a new session was rejected") from err
                self._expired = True
                raise ShareSessionExpiredError(str(err)) from None
            except ShareAuthError:
                # A read rejected as unauthorised counts like a rejected login.
                self._forget()
                raise self.guard.rejected(self._credentials) from None
        if not isinstance(records, list):
            raise ShareDataError(f"readings: expected a list, got {type(records).__name__}")
        readings = (parse_reading(record) for record in records)
        return sorted(
            (reading for reading in readings if reading is not None),
            key=lambda reading: reading.time,
            reverse=True,
        )

    async def newest_reading(self) -> GlucoseReading | None:
        """The newest reading of Share's whole 24 hours, if it holds any (one request)."""
        readings = await self.read(MAX_MINUTES, 1)
        return readings[0] if readings else None

    @asynccontextmanager
    async def _operation(self) -> AsyncIterator[None]:
        """One login or read at a time, each ended at OPERATION_DEADLINE whatever it sends."""
        async with self._lock:
            try:
                async with asyncio.timeout(OPERATION_DEADLINE):
                    yield
            except TimeoutError:
                raise ShareConnectionError(f"{self._sending}: operation deadline passed") from None

    def _forget(self) -> None:
        """Drop the session, and an account ID Share named: the next login starts over."""
        self._session = None
        self._account_id = self._username if _is_account_id(self._username) else None

    async def _login(self) -> _Session:
        """Create a session, unless the guard says a login now could only do harm.

        The steps and argument checks are pydexcom's, with the same outcomes: the
        password and username must not be empty, and Share's account and session IDs
        must be UUIDs other than the all-zeros one.
        """
        self.guard.check(self._credentials, typed=self._typed)
        if not self._password:
            raise ShareAuthError(ArgumentErrorEnum.PASSWORD_INVALID.value)
        if self._account_id is None and not self._username:
            raise ShareAuthError(ArgumentErrorEnum.USERNAME_INVALID.value)
        # Looked up now, not at import: the table may be pointed elsewhere (tests, the demo).
        self._base_url = const.DEXCOM_BASE_URLS[self._region]
        application_id = const.DEXCOM_APPLICATION_IDS[self._region]
        try:
            account_id = self._account_id
            if account_id is None:
                account_id = await self._post(
                    DEXCOM_AUTHENTICATE_ENDPOINT,
                    body={
                        "accountName": self._username,
                        "password": self._password,
                        "applicationId": application_id,
                    },
                )
            self._account_id = _checked_id(
                account_id,
                ArgumentErrorEnum.ACCOUNT_ID_INVALID,
                ArgumentErrorEnum.ACCOUNT_ID_DEFAULT,
            )
            session_id = await self._post(
                DEXCOM_LOGIN_ID_ENDPOINT,
                body={
                    "accountId": self._account_id,
                    "password": self._password,
                    "applicationId": application_id,
                },
            )
            self._session = _Session(
                self._account_id,
                _checked_id(
                    session_id,
                    ArgumentErrorEnum.SESSION_ID_INVALID,
                    ArgumentErrorEnum.SESSION_ID_DEFAULT,
                ),
            )
        except ShareLockedError:
            raise self.guard.locked() from None
        except ShareAuthError:
            raise self.guard.rejected(self._credentials) from None
        except ShareDataError:
            # An all-zeros or malformed ID: start clean.
            self._forget()
            raise
        self.guard.succeeded(self._credentials)
        self._expired = False
        return self._session

    async def _post(
        self,
        endpoint: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one request, each step within REQUEST_TIMEOUT; its JSON, or Share's error as ours.

        Unlike pydexcom it survives error bodies that are not objects, knows both
        spellings of the lockout code and never logs a body (which can hold the
        username or the session ID).
        """
        name = endpoint.rpartition("/")[2]
        self._sending = name
        connect, read = REQUEST_TIMEOUT
        started = time.perf_counter()
        status: int | None = None
        try:
            async with self._websession.post(
                f"{self._base_url}{endpoint}",
                headers=HEADERS,
                params=params,
                json={} if body is None else body,
                timeout=aiohttp.ClientTimeout(sock_connect=connect, sock_read=read),
            ) as response:
                content = await response.read()
                status = response.status
        # `from None`: aiohttp's messages can carry the URL, and with it the session ID.
        except TimeoutError:
            raise ShareConnectionError(f"{name}: no answer in time") from None
        except (aiohttp.ClientError, OSError) as err:
            raise ShareConnectionError(f"{name}: {type(err).__name__}") from None
        finally:
            seconds = time.perf_counter() - started
            self.stats.record(name, seconds, failed=status is None or status >= 400)
            _LOGGER.debug("%s: HTTP %s after %.0f ms", name, status or "-", seconds * 1000)
        self.stats.record_clock(response.headers.get("Date"))
        retry_after = _retry_after(response.headers.get("Retry-After"))
        try:
            answer = json.loads(content)
        except ValueError as err:
            raise ShareConnectionError(
                f"{name}: HTTP {response.status} without JSON", retry_after
            ) from err
        if response.ok:
            return answer
        code = answer.get("Code") if isinstance(answer, dict) else None
        if code in ("SessionIdNotFound", "SessionNotValid"):
            raise _SessionExpiredError(code)
        if isinstance(code, str) and _LOCKOUT_CODE.search(code):
            raise ShareLockedError(LOCKOUT_PAUSE)
        if code in _AUTH_CODES or (
            code == "SSO_InternalError" and "Cannot Authenticate" in str(answer.get("Message"))
        ):
            raise ShareAuthError(code)
        raise ShareConnectionError(
            f"{name}: HTTP {response.status} {code or 'without an error code'}", retry_after
        )
