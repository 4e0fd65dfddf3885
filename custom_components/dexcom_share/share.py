"""Everything that talks to Dexcom Share, through pydexcom.

This is the only module that sees pydexcom or requests. It adds what pydexcom 0.5.1
lacks (a deadline on every request, both spellings of the lockout code, error bodies
that are not objects, tolerant record parsing) and turns every failure into one of
four errors: `ShareAuthError`, `ShareLockedError`, `ShareConnectionError` and
`ShareDataError`. Its methods block; call them in the executor.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
import math
import re
import threading
import time
from typing import Any, Final, override
import uuid

from pydexcom import Dexcom, Region
from pydexcom.const import DEXCOM_TREND_DIRECTIONS, HEADERS, MAX_MAX_COUNT, MAX_MINUTES
from pydexcom.errors import ArgumentError, ArgumentErrorEnum
import requests

# (connect, read) deadline in seconds for every request, logins included.
REQUEST_TIMEOUT: Final = (10.0, 20.0)
# After Share reports too many failed logins, no login is tried for this long.
LOCKOUT_PAUSE: Final = 15 * 60.0


class ShareError(Exception):
    """A Share request failed; the message never carries a credential."""

    retry_after: float | None = None
    """Seconds Share asked us to wait, or the lockout pause; None: our own backoff."""


class ShareAuthError(ShareError):
    """Share rejected the username or password (or the region is wrong)."""


class ShareLockedError(ShareError):
    """Share locked the account after too many failed logins."""

    def __init__(self, retry_after: float) -> None:
        """Remember how long to wait before the next login."""
        super().__init__(f"Account locked; next login in {retry_after:.0f} s")
        self.retry_after = retry_after


class ShareConnectionError(ShareError):
    """Share could not be reached or answered with a server error; try again later."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        """Keep Share's `Retry-After`, when it sent one."""
        super().__init__(message)
        self.retry_after = retry_after


class ShareDataError(ShareError):
    """Share answered with something that is not what the protocol promises."""


class _SessionExpiredError(ShareError):
    """The session is no longer valid; one new login is due."""


class Trend(StrEnum):
    """Share's trend arrows, in Home Assistant's words."""

    RISING_QUICKLY = "rising_quickly"
    RISING = "rising"
    RISING_SLIGHTLY = "rising_slightly"
    STEADY = "steady"
    FALLING_SLIGHTLY = "falling_slightly"
    FALLING = "falling"
    FALLING_QUICKLY = "falling_quickly"
    NOT_COMPUTABLE = "not_computable"
    RATE_OUT_OF_RANGE = "rate_out_of_range"


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


@dataclass(frozen=True, slots=True)
class GlucoseReading:
    """One CGM reading: when it was taken, mg/dL as Share sends it, and the arrow."""

    time: datetime
    value: int
    trend: Trend | None


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
            taken = datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
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
    """Seconds from a `Retry-After` header (delta-seconds or an HTTP date)."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(header)
    except TypeError, ValueError:
        return None
    return max(0.0, when.timestamp() - time.time())


class _GuardedDexcom(Dexcom):
    """pydexcom with our own HTTP exchange: a deadline, and Share's errors decoded.

    pydexcom's `_post` has no timeout, lets requests' exceptions through, crashes on
    error bodies that are not objects, misses the real lockout code and logs whole
    error bodies (which can contain the username or session ID). This one does none
    of that; pydexcom still drives the login sequence and its argument checks.
    """

    @override
    def _post(
        self,
        endpoint: str,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> Any:
        name = endpoint.rpartition("/")[2]
        try:
            response = self._session.post(
                f"{self._base_url}{endpoint}",
                headers=HEADERS,
                params=params,
                json={} if json is None else json,
                timeout=REQUEST_TIMEOUT,
            )
        except requests.Timeout as err:
            raise ShareConnectionError(f"{name}: no answer in time") from err
        except requests.RequestException as err:
            raise ShareConnectionError(f"{name}: {type(err).__name__}") from err
        retry_after = _retry_after(response.headers.get("Retry-After"))
        try:
            body = response.json()
        except ValueError as err:
            raise ShareConnectionError(
                f"{name}: HTTP {response.status_code} without JSON", retry_after
            ) from err
        if response.ok:
            return body
        code = body.get("Code") if isinstance(body, dict) else None
        if code in ("SessionIdNotFound", "SessionNotValid"):
            raise _SessionExpiredError(code)
        if isinstance(code, str) and _LOCKOUT_CODE.search(code):
            raise ShareLockedError(LOCKOUT_PAUSE)
        if code in _AUTH_CODES or (
            code == "SSO_InternalError" and "Cannot Authenticate" in str(body.get("Message"))
        ):
            raise ShareAuthError(code)
        raise ShareConnectionError(
            f"{name}: HTTP {response.status_code} {code or 'without an error code'}",
            retry_after,
        )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class ShareClient:
    """One Share account: logs in once, reuses the session, logs in again on expiry.

    The username may be a Dexcom username, an email, a phone number (+ and country
    code) or the account ID itself (a UUID, which skips the username step).
    """

    def __init__(self, username: str, password: str, region: str) -> None:
        """Store the credentials; nothing is sent until `login` or `read`."""
        self._username = username.strip()
        self._password = password
        self._region = Region(region)
        self._dexcom: _GuardedDexcom | None = None
        self._logins_paused_until = 0.0
        self._lock = threading.Lock()
        self.login_attempts = 0

    @property
    def account_id(self) -> str | None:
        """The account ID Share returned, once logged in."""
        return self._dexcom.account_id if self._dexcom else None

    def login(self) -> str:
        """Log in and return the Dexcom account ID."""
        with self._lock:
            return str(self._login().account_id)

    def read(self, minutes: int, max_count: int) -> list[GlucoseReading]:
        """Readings of the last `minutes` (at most `max_count`), newest first.

        Records that cannot be parsed are skipped, not the whole answer.
        """
        minutes = max(1, min(MAX_MINUTES, minutes))
        max_count = max(1, min(MAX_MAX_COUNT, max_count))
        with self._lock:
            dexcom = self._dexcom or self._login()
            try:
                records = dexcom._get_glucose_readings(minutes, max_count)  # noqa: SLF001
            except _SessionExpiredError:
                dexcom = self._login()
                try:
                    records = dexcom._get_glucose_readings(minutes, max_count)  # noqa: SLF001
                except _SessionExpiredError as err:
                    raise ShareConnectionError("session rejected twice") from err
        if not isinstance(records, list):
            raise ShareDataError(f"readings: expected a list, got {type(records).__name__}")
        readings = (parse_reading(record) for record in records)
        return sorted(
            (reading for reading in readings if reading is not None),
            key=lambda reading: reading.time,
            reverse=True,
        )

    def _login(self) -> _GuardedDexcom:
        """Create a session; never while Share's lockout may still be running."""
        paused_for = self._logins_paused_until - time.monotonic()
        if paused_for > 0:
            raise ShareLockedError(paused_for)
        self.login_attempts += 1
        is_account_id = _is_uuid(self._username)
        try:
            if self._dexcom is None:
                self._dexcom = _GuardedDexcom(
                    password=self._password,
                    account_id=self._username if is_account_id else None,
                    username=None if is_account_id else self._username,
                    region=self._region,
                )
            else:
                self._dexcom._get_session()  # noqa: SLF001
        except ShareLockedError:
            self._logins_paused_until = time.monotonic() + LOCKOUT_PAUSE
            raise
        except ArgumentError as err:
            if err.enum in (ArgumentErrorEnum.USERNAME_INVALID, ArgumentErrorEnum.PASSWORD_INVALID):
                raise ShareAuthError(str(err)) from err
            raise ShareDataError(f"login: {err}") from err
        return self._dexcom
