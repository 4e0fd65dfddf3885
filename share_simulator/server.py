"""The simulator's HTTP shell: a threaded server on loopback in front of `ShareState`."""

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
import socket
import struct
import threading
from typing import Any, override
from urllib.parse import parse_qsl, urlsplit
import uuid

from .model import REGIONS, ShareState

SERVICES_PATH = "/ShareWebServices/Services/"
CONTROL_PATH = "/_sim/"


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
            self.server.stopping.wait(response.hang_seconds)
            self.close_connection = True
            return
        if response.action == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        self._send(response.status, response.body, response.content_type, response.headers)

    def _control(self, action: str) -> None:
        """The demo's control plane (not Share): change a password, expire sessions."""
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = {}
        state = self.server.state
        with state.lock:
            if action == "password":
                name = str(body.get("account", "")).lower()
                for account in state.accounts.values():
                    if name in account.aliases or name == account.account_id:
                        account.password = str(body.get("password", ""))
            elif action == "expire_sessions":
                state.expire_sessions()
            else:
                self._send(404, b"Not Found", "text/plain", {})
                return
            counts = dict(state.counts)
        self._send(200, json.dumps({"requests": counts}).encode(), "application/json", {})

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
