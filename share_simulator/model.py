"""The simulator's state and Share's behaviour, with no HTTP in it.

`ShareState.handle` takes a decoded request and returns what Share would answer,
so the rules can be tested directly and the HTTP layer stays a thin shell.
"""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import partial
import json
import threading
import time
from typing import Any, Literal
import uuid

ZERO_UUID = "00000000-0000-0000-0000-000000000000"
AUTHENTICATE = "General/AuthenticatePublisherAccount"
LOGIN_BY_ID = "General/LoginPublisherAccountById"
READ = "Publisher/ReadPublisherLatestGlucoseValues"
LOGINS = (AUTHENTICATE, LOGIN_BY_ID)

REGIONS = ("us", "ous", "jp")

# Share's trend names in the order of their pre-2021 integer codes.
TREND_NAMES = (
    "None",
    "DoubleUp",
    "SingleUp",
    "FortyFiveUp",
    "Flat",
    "FortyFiveDown",
    "SingleDown",
    "DoubleDown",
    "NotComputable",
    "RateOutOfRange",
)
RETENTION_SECONDS = 24 * 3600

CLOUDFLARE_HTML = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    "<body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center>"
    "</body></html>"
)


@dataclass
class Reading:
    """One CGM reading as Share stores it."""

    time: float
    """Epoch seconds when the sensor took the reading."""
    value: int | float
    """mg/dL; 39 means LOW and 401 HIGH, as Dexcom reports them."""
    trend: str = "Flat"
    available_at: float | None = None
    """Epoch seconds from which Share serves it (upload delay); None: at once."""
    utc_offset_minutes: int = -300

    @property
    def visible_from(self) -> float:
        """When a read can first return this reading."""
        return self.time if self.available_at is None else self.available_at


@dataclass
class RecordFormat:
    """How records are written: today's form, or the older and odder ones seen."""

    trend_as_int: bool = False
    date_style: Literal["modern", "wrapped", "no_offset"] = "modern"
    whole_seconds: bool = False


@dataclass
class Account:
    """A Share publisher (the sharer) and the readings it uploaded."""

    account_id: str
    password: str
    region: str = "us"
    aliases: set[str] = field(default_factory=set)
    readings: list[Reading] = field(default_factory=list)
    share_enabled: bool = True
    failed_logins: list[float] = field(default_factory=list)
    locked_until: float = 0.0

    def add_readings(self, readings: Iterable[Reading]) -> None:
        """Add readings; one at the same timestamp replaces the old one."""
        by_time = {reading.time: reading for reading in self.readings}
        by_time.update((reading.time, reading) for reading in readings)
        self.readings = sorted(by_time.values(), key=lambda r: r.time, reverse=True)


@dataclass
class Session:
    """A Share session created by a login."""

    account_id: str
    created_at: float
    expired: bool = False


FaultKind = Literal[
    "html",
    "empty",
    "text",
    "json_string",
    "malformed_json",
    "object",
    "code",
    "zero_uuid",
    "hang",
    "slow",
    "reset",
]


@dataclass
class Fault:
    """A misbehaviour for the next `times` matching requests (None: until removed).

    Kinds: `html`/`empty`/`text` bodies with `status`; `json_string` (a 500 whose
    body is a JSON string); `malformed_json` (truncated, 200); `object` (a JSON
    object instead of a list, 200); `code` (a Share error body with `code` and
    `message`, `status`); `zero_uuid` (200 all-zeros UUID); `hang` (no answer for
    `seconds`, or until the simulator stops); `slow` (the normal answer, `seconds`
    late); `reset` (connection dropped).
    """

    kind: FaultKind
    endpoint: str | None = None
    times: int | None = 1
    status: int = 500
    code: str = "InternalError"
    message: str = "Internal error"
    retry_after: str | None = None
    seconds: float = 3600.0


@dataclass
class Response:
    """What the HTTP layer should send."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    action: Literal["answer", "hang", "reset"] = "answer"
    hang_seconds: float = 0.0
    delay: float = 0.0
    """Seconds to wait before answering (a slow Share)."""


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the simulator saw it."""

    time: float
    endpoint: str
    status: int
    params: dict[str, Any]


def _wall_clock() -> float:
    """`time.time()`, looked up at each call so that frozen test time applies."""
    return time.time()


def error_body(code: str, message: str, type_string: str = "InvalidPassword") -> bytes:
    """A Share fault body in the XML-SubCode style seen in recorded traffic."""
    sub_code = (
        f'<OnlineException ErrorCode="{code}" TypeString="{type_string}" '
        f'Message="{message}" FullText="com.dexcom.udp.common.data.exception.'
        f'OnlineException: {message}" />'
    )
    return json.dumps(
        {
            "Code": code,
            "Message": message,
            "SubCode": sub_code,
            "TypeName": "FaultException",
        }
    ).encode()


def _json(value: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(value).encode())


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def format_date(epoch_ms: int, offset_minutes: int | None, style: str) -> str:
    """Share's `Date(...)` notation in one of its historic spellings."""
    if offset_minutes is None or style == "no_offset":
        inner = f"{epoch_ms}"
    else:
        sign = "-" if offset_minutes < 0 else "+"
        hours, minutes = divmod(abs(offset_minutes), 60)
        inner = f"{epoch_ms}{sign}{hours:02d}{minutes:02d}"
    return f"/Date({inner})/" if style == "wrapped" else f"Date({inner})"


class ShareState:
    """Accounts, sessions, readings and faults of one simulated Share service."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] | None = None,
        lockout_threshold: int = 5,
        lockout_window: float = 900.0,
        lockout_duration: float = 900.0,
        lockout_code: str = "SSO_AuthenticateMaxAttemptsExceeed",
        attempts_while_locked_extend: bool = True,
        session_ttl: float = 86400.0,
    ) -> None:
        """Create an empty service; the defaults follow the reference."""
        self.clock = clock or _wall_clock
        self.lockout_threshold = lockout_threshold
        self.lockout_window = lockout_window
        self.lockout_duration = lockout_duration
        self.lockout_code = lockout_code
        self.attempts_while_locked_extend = attempts_while_locked_extend
        self.session_ttl = session_ttl
        self.record_format = RecordFormat()
        self.accounts: dict[str, Account] = {}
        self.sessions: dict[str, Session] = {}
        self.issued_sessions: list[str] = []
        """Every session ID ever handed out, also after expire/forget."""
        self.faults: list[Fault] = []
        self.log: list[LoggedRequest] = []
        self.counts: Counter[str] = Counter()
        self.lock = threading.RLock()

    # Control -------------------------------------------------------------

    def add_account(
        self,
        *,
        username: str | None = "demo",
        password: str = "demo-password",  # noqa: S107 - simulator account
        email: str | None = None,
        phone: str | None = None,
        account_id: str | None = None,
        region: str = "us",
        readings: Iterable[Reading] = (),
    ) -> Account:
        """Add a publisher account reachable by any of its names."""
        aliases = {name.lower() for name in (username, email, phone) if name}
        account = Account(
            account_id=account_id or str(uuid.uuid4()),
            password=password,
            region=region,
            aliases=aliases,
        )
        account.add_readings(readings)
        with self.lock:
            self.accounts[account.account_id] = account
        return account

    def add_fault(self, fault: Fault) -> Fault:
        """Arm a fault; it applies to requests from now on."""
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Disarm every fault."""
        with self.lock:
            self.faults.clear()

    def expire_sessions(self) -> None:
        """Make every session answer SessionNotValid, as after Share's timeout."""
        with self.lock:
            for session in self.sessions.values():
                session.expired = True

    def forget_sessions(self) -> None:
        """Drop every session, so reads answer SessionIdNotFound."""
        with self.lock:
            self.sessions.clear()

    def request_count(self, endpoint: str | None = None) -> int:
        """Requests seen for one endpoint, or in all."""
        with self.lock:
            if endpoint is None:
                return sum(self.counts.values())
            return self.counts[endpoint]

    def login_count(self) -> int:
        """Authenticate and LoginById requests seen."""
        return sum(self.request_count(endpoint) for endpoint in LOGINS)

    def reset_log(self) -> None:
        """Forget the request log and counts."""
        with self.lock:
            self.log.clear()
            self.counts.clear()

    # Requests ------------------------------------------------------------

    def handle(self, region: str, endpoint: str, params: dict[str, Any], body: Any) -> Response:
        """Answer one POST as Share would."""
        with self.lock:
            now = self.clock()
            answer = partial(self._route, region, endpoint, params, body, now)
            fault = self._take_fault(endpoint)
            response = answer() if fault is None else _fault_to_response(fault, answer)
            self.counts[endpoint] += 1
            self.log.append(LoggedRequest(now, endpoint, response.status, params))
            return response

    def _take_fault(self, endpoint: str) -> Fault | None:
        for fault in self.faults:
            if fault.endpoint not in (None, endpoint):
                continue
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
            return fault
        return None

    def _route(
        self, region: str, endpoint: str, params: dict[str, Any], body: Any, now: float
    ) -> Response:
        if not isinstance(body, dict):
            body = {}
        if endpoint == AUTHENTICATE:
            return self._authenticate(region, body, now)
        if endpoint == LOGIN_BY_ID:
            return self._login_by_id(region, body, now)
        if endpoint == READ:
            return self._read(params, body, now)
        return Response(404, b"Not Found", "text/plain")

    def _authenticate(self, region: str, body: dict[str, Any], now: float) -> Response:
        name = str(body.get("accountName") or "").lower()
        account = next(
            (
                candidate
                for candidate in self.accounts.values()
                if name in candidate.aliases and candidate.region == region
            ),
            None,
        )
        return self._check_credentials(account, body, now) or _json(
            account.account_id if account else ZERO_UUID
        )

    def _login_by_id(self, region: str, body: dict[str, Any], now: float) -> Response:
        account_id = body.get("accountId")
        if account_id in ("", ZERO_UUID):
            return _json(ZERO_UUID)
        if not _is_uuid(account_id):
            return Response(
                500,
                error_body(
                    "InvalidArgument",
                    "Missing required field(s): JSON parse error: Cannot deserialize "
                    f'value of type `java.util.UUID` from String "{account_id}": UUID '
                    "has to be represented by standard 36-char representation",
                    "InvalidArgument",
                ),
            )
        account = self.accounts.get(account_id)
        if account is not None and account.region != region:
            account = None
        if failure := self._check_credentials(account, body, now):
            return failure
        session_id = str(uuid.uuid4())
        self.sessions[session_id] = Session(account_id=account_id, created_at=now)
        self.issued_sessions.append(session_id)
        return _json(session_id)

    def _check_credentials(
        self, account: Account | None, body: dict[str, Any], now: float
    ) -> Response | None:
        """Lockout first, then the password; None when the login may proceed."""
        if account is not None and account.locked_until > now:
            if self.attempts_while_locked_extend:
                account.locked_until = now + self.lockout_duration
            return Response(
                500,
                error_body(
                    self.lockout_code,
                    "Publisher account has exceeded the maximum number of authentication attempts",
                    "MaxAttemptsExceeded",
                ),
            )
        if account is not None and body.get("password") == account.password:
            account.failed_logins.clear()
            return None
        if account is not None:
            recent = [t for t in account.failed_logins if t > now - self.lockout_window]
            account.failed_logins = [*recent, now]
            if len(account.failed_logins) >= self.lockout_threshold:
                account.locked_until = now + self.lockout_duration
        return Response(
            500, error_body("AccountPasswordInvalid", "Publisher account password failed")
        )

    def _read(self, params: dict[str, Any], body: dict[str, Any], now: float) -> Response:
        merged = {key.lower(): value for key, value in body.items()}
        merged.update((key.lower(), value) for key, value in params.items())
        session_id = merged.get("sessionid")
        if session_id == ZERO_UUID:
            return Response(200, b"")
        if not _is_uuid(session_id):
            return Response(400, b"Bad Request", "text/plain")
        session = self.sessions.get(session_id)
        if session is None:
            return Response(
                500,
                error_body(
                    "SessionIdNotFound",
                    f"Failed to find session object. [SessionId = {session_id}]",
                    "ObjectNotFound",
                ),
            )
        if session.expired or session.created_at + self.session_ttl < now:
            return Response(
                500,
                error_body(
                    "SessionNotValid",
                    f"Session not active or timed out. [SessionId = {session_id}]",
                    "SessionNotValid",
                ),
            )
        try:
            minutes = int(merged.get("minutes", 0))
            max_count = int(merged.get("maxcount", 0))
        except TypeError, ValueError:
            return Response(400, b"Bad Request", "text/plain")
        account = self.accounts[session.account_id]
        if minutes <= 0 or max_count <= 0 or not account.share_enabled:
            return _json([])
        window_start = now - min(minutes * 60, RETENTION_SECONDS)
        records = [
            self._record(reading)
            for reading in account.readings
            if reading.visible_from <= now and window_start < reading.time <= now
        ][:max_count]
        return _json(records)

    def _record(self, reading: Reading) -> dict[str, Any]:
        fmt = self.record_format
        epoch_ms = int(reading.time * 1000)
        if fmt.whole_seconds:
            epoch_ms -= epoch_ms % 1000
        system = format_date(epoch_ms, None, fmt.date_style)
        trend: str | int = reading.trend
        if fmt.trend_as_int and reading.trend in TREND_NAMES:
            trend = TREND_NAMES.index(reading.trend)
        return {
            "WT": system,
            "ST": system,
            "DT": format_date(epoch_ms, reading.utc_offset_minutes, fmt.date_style),
            "Value": reading.value,
            "Trend": trend,
        }


def _fault_to_response(fault: Fault, answer: Callable[[], Response]) -> Response:
    headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
    match fault.kind:
        case "html":
            return Response(fault.status, CLOUDFLARE_HTML.encode(), "text/html", headers)
        case "empty":
            return Response(fault.status, b"", "text/plain", headers)
        case "text":
            return Response(
                fault.status,
                b"The server encountered an error processing the request.",
                "text/plain",
                headers,
            )
        case "json_string":
            return Response(fault.status, b'"oops"', headers=headers)
        case "malformed_json":
            return Response(200, b'[{"WT":"Date(17', headers=headers)
        case "object":
            return Response(200, b'{"Value": 100}', headers=headers)
        case "code":
            return Response(
                fault.status, error_body(fault.code, fault.message, "Error"), headers=headers
            )
        case "zero_uuid":
            return _json(ZERO_UUID)
        case "hang":
            return Response(0, action="hang", hang_seconds=fault.seconds)
        case "slow":
            return replace(answer(), delay=fault.seconds)
        case "reset":
            return Response(0, action="reset")
