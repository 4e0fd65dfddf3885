"""The simulator's HTTP shell: a threaded server on loopback in front of `ShareState`."""

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
import socket
import struct
import threading
from typing import Any, override
from urllib.parse import parse_qsl, urlsplit
import uuid

from .model import REGIONS, RETENTION_SECONDS, Reading, ShareState
from .trace import TraceProfile, generate_trace

SERVICES_PATH = "/ShareWebServices/Services/"
CONTROL_PATH = "/_sim/"
# How long the readings of an account added through the control plane keep coming.
FUTURE_SECONDS = 7 * 86400


def sharer_trace(now: float, stopped_minutes_ago: float | None, seed: int) -> list[Reading]:
    """A day of history for a new sharer, and readings to come unless the sensor stopped.

    With `stopped_minutes_ago`, the newest reading is taken exactly that long before
    `now` on a steady five-minute cadence and none follow: a client can watch that
    reading age past Share's 15 minutes on cue, as when a phone stops uploading.
    """
    if stopped_minutes_ago is None:
        return generate_trace(now - RETENTION_SECONDS, now + FUTURE_SECONDS, TraceProfile(), seed)
    stopped = now - stopped_minutes_ago * 60
    steady = TraceProfile(period=300.0, period_jitter=0.0)
    # Half a period of slack, so that float sums cannot drop the reading taken at `stopped`.
    readings = generate_trace(stopped - RETENTION_SECONDS, stopped + 150, steady, seed)
    return [reading for reading in readings if reading.time <= stopped + 1]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    @override
    def log_message(self, format: str, *args: Any) -> None:
        """Keep test and demo output quiet; the state keeps its own log."""

    def do_GET(self) -> None:
        """Share answers only POST on its endpoints."""
        self._send(405, b"Method Not Allowed", "text/plain", {})

    def do_POST(self) -> None:
        """Decode the request, let the state answer, and act out its answer."""
        url = urlsplit(self.path)
        if url.path.startswith(CONTROL_PATH):
            self._control(url.path.removeprefix(CONTROL_PATH))
            return
        region, _, endpoint = url.path.lstrip("/").partition(SERVICES_PATH.lstrip("/"))
        region = region.strip("/") or "us"
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            body = {}
        if region not in REGIONS or not endpoint:
            self._send(404, b"Not Found", "text/plain", {})
            return
        response = self.server.state.handle(region, endpoint, dict(parse_qsl(url.query)), body)
        if response.action == "hang":
            self.server.hung.add(threading.current_thread())
            self.server.stopping.wait(response.hang_seconds)
            self.close_connection = True
            return
        if response.delay:
            # A slow Share answers late, unless the simulator stops meanwhile.
            self.server.hung.add(threading.current_thread())
            if self.server.stopping.wait(response.delay):
                self.close_connection = True
                return
        if response.action == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        self._send(response.status, response.body, response.content_type, response.headers)

    def _control(self, action: str) -> None:
        """The demo's control plane (not Share): change a password, expire sessions, add a sharer."""
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = {}
        state = self.server.state
        added: dict[str, Any] = {}
        with state.lock:
            if action == "password":
                name = str(body.get("account", "")).lower()
                for account in state.accounts.values():
                    if name in account.aliases or name == account.account_id:
                        account.password = str(body.get("password", ""))
            elif action == "expire_sessions":
                state.expire_sessions()
            elif action == "add_account":
                if (account_added := self._add_account(body)) is None:
                    return
                added = account_added
            else:
                self._send(404, b"Not Found", "text/plain", {})
                return
            counts = dict(state.counts)
        self._send(200, json.dumps({"requests": counts, **added}).encode(), "application/json", {})

    def _add_account(self, body: Any) -> dict[str, Any] | None:
        """Add a sharer with a day of history; None after answering a bad request.

        Body: `username`, `password`, optional `sensor_stopped_minutes_ago` (0-1435)
        and `seed`. Answers the account ID and the newest reading's epoch seconds.
        """
        state = self.server.state
        body = body if isinstance(body, dict) else {}
        username = str(body.get("username") or "").lower()
        stopped = body.get("sensor_stopped_minutes_ago")
        seed = body.get("seed", len(state.accounts) + 1)
        taken = any(username in account.aliases for account in state.accounts.values())
        stopped_ok = stopped is None or (
            type(stopped) in (int, float) and 0 <= stopped <= RETENTION_SECONDS / 60 - 5
        )
        if not username or taken or not stopped_ok or type(seed) is not int:
            self._send(400, b"Bad Request", "text/plain", {})
            return None
        now = state.clock()
        account = state.add_account(
            username=username,
            password=str(body.get("password") or ""),
            readings=sharer_trace(now, stopped, seed),
        )
        newest = max(r.time for r in account.readings if r.time <= now)
        return {"account_id": account.account_id, "newest_reading": newest}

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The `Date` header by the simulated service's clock (it may differ from the host's)."""
        return super().date_time_string(
            self.server.state.clock() if timestamp is None else timestamp
        )

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
        self.send_header("x-trace-id", str(uuid.uuid4()))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = True

    def __init__(self, address: tuple[str, int], state: ShareState) -> None:
        self.state = state
        self.stopping = threading.Event()
        self.hung: set[threading.Thread] = set()
        """Handler threads that held a request (hung or slow): `stop` waits for them to end."""
        super().__init__(address, _Handler)


class ShareSimulator:
    """A running simulated Share service on 127.0.0.1.

    `base_url(region)` gives the URL to put in `pydexcom.const.DEXCOM_BASE_URLS`.
    `refuse_connections()` closes the port (connection refused) until
    `accept_connections()` opens it again on the same port.
    """

    def __init__(self, state: ShareState | None = None, host: str = "127.0.0.1") -> None:
        """Wrap `state` (a fresh one by default); call `start` to listen."""
        self.state = state or ShareState()
        self.host = host
        self.port = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, port: int | None = None) -> ShareSimulator:
        """Listen on `port` (the previous one, or any free one) in a thread."""
        self._server = _Server((self.host, self.port if port is None else port), self.state)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"share-simulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and release every hung request."""
        if self._server is None:
            return
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        # Released above, they still have to return; a test must not end before they do.
        for handler in tuple(self._server.hung):
            handler.join(timeout=5)
        self._server = None
        self._thread = None

    def refuse_connections(self) -> None:
        """Close the port so that clients get 'connection refused'."""
        self.stop()

    def accept_connections(self) -> None:
        """Listen again on the same port."""
        self.start(self.port)

    def base_url(self, region: str = "us") -> str:
        """The Share base URL of one region on this simulator."""
        return f"http://{self.host}:{self.port}/{region}{SERVICES_PATH}"

    def __enter__(self) -> ShareSimulator:
        """Start when used as a context manager."""
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        """Stop at the end of the block."""
        self.stop()
