"""Smoke check on the newest Home Assistant release, run by scripts/smoke_latest.

HACS users update Home Assistant before the test harness catches up, so this starts
the release in .venv-latest for real: the Share simulator and Home Assistant on free
loopback ports (never the demo's 8123/8125), onboarding and the config flow through the
REST API, then the checks a user would make: the entry is loaded, the glucose value is
the newest reading Share holds, the card's module (once the integration ships one) is
served, and Home Assistant logged no error about the integration. Exits non-zero
otherwise. Every process it starts is stopped before it returns.
"""

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
import os
from pathlib import Path
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from homeassistant.const import __version__ as ha_version
from pydexcom import Dexcom, Region
import pydexcom.const
import requests

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "dexcom_share"
SHARE_USERNAME = "demo@example.com"
SHARE_PASSWORD = "demo-password"  # noqa: S105 - the simulator's published demo account
OWNER = {"name": "Smoke", "username": "smoke", "password": "smoke-password", "language": "en"}
GLUCOSE_ENTITY = "sensor.dexcom_demo_example_com_glucose_value"
REQUEST_TIMEOUT = 10
STOP_TIMEOUT = 30
# Once the entry is loaded its first reading is in, so the value shows at once.
SHOW_TIMEOUT = 30
# Home Assistant says this of every custom integration; it is not a finding.
KNOWN_WARNING = "which has not been tested by Home Assistant"


class SmokeCheckError(Exception):
    """A check failed; the message says which and what was seen."""


def free_port() -> int:
    """A loopback port nobody listens on now (the OS never hands out 8123 or 8125)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until[T](what: str, probe: Callable[[], T | None], seconds: float) -> T:
    """Call `probe` once a second until it returns a value; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        if (result := probe()) is not None:
            return result
        if time.monotonic() > deadline:
            raise SmokeCheckError(f"{what}: not within {seconds:.0f} s")
        time.sleep(1)


@contextmanager
def running(
    command: list[str], log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` with its output in `log`; stop it (SIGTERM, then SIGKILL) on exit."""
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and scripts
            command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, env=env
        )
        try:
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def write_config(config: Path, port: int) -> None:
    """A configuration like a user's: the frontend (and with it the API), the recorder."""
    (config / "custom_components").mkdir(parents=True)
    (config / "custom_components" / "dexcom_share").symlink_to(INTEGRATION)
    (config / "configuration.yaml").write_text(
        f"""homeassistant:
  name: Dexcom Share smoke check
  unit_system: metric
  time_zone: UTC
  country: US
http:
  server_host: 127.0.0.1
  server_port: {port}
frontend:
recorder:
logger:
  default: warning
  logs:
    custom_components.dexcom_share: info
"""
    )


class HomeAssistantClient:
    """The REST calls a user's browser makes, against one Home Assistant."""

    def __init__(self, url: str, alive: Callable[[], bool]) -> None:
        """Talk to `url`; `alive` tells whether its process still runs."""
        self.url = url
        self.client_id = f"{url}/"
        self._alive = alive
        self._session = requests.Session()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call; the JSON answer, or a failure that quotes the body."""
        response = self._session.request(
            method, f"{self.url}{path}", timeout=REQUEST_TIMEOUT, **kwargs
        )
        if not response.ok:
            raise SmokeCheckError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    def wait_for_start(self, seconds: float) -> None:
        """Until onboarding answers, failing at once if Home Assistant exits."""

        def answers() -> bool | None:
            if not self._alive():
                raise SmokeCheckError("Home Assistant exited during start-up")
            try:
                self._session.get(f"{self.url}/api/onboarding", timeout=REQUEST_TIMEOUT)
            except requests.ConnectionError:
                return None
            return True

        wait_until("Home Assistant answering HTTP", answers, seconds)

    def onboard(self) -> None:
        """Create the owner and finish onboarding, keeping an access token."""
        code = self.request(
            "POST", "/api/onboarding/users", json={"client_id": self.client_id, **OWNER}
        )["auth_code"]
        token = self.request(
            "POST",
            "/auth/token",
            data={"grant_type": "authorization_code", "code": code, "client_id": self.client_id},
        )["access_token"]
        self._session.headers["Authorization"] = f"Bearer {token}"
        self.request("POST", "/api/onboarding/core_config", json={})
        self.request("POST", "/api/onboarding/analytics", json={})
        self.request(
            "POST",
            "/api/onboarding/integration",
            json={"client_id": self.client_id, "redirect_uri": f"{self.client_id}?auth_callback=1"},
        )

    def add_entry(self) -> str:
        """Add Dexcom Share for the demo account through the config flow."""
        flow = self.request(
            "POST", "/api/config/config_entries/flow", json={"handler": "dexcom_share"}
        )
        if flow.get("type") != "form":
            raise SmokeCheckError(f"config flow did not show its form: {flow}")
        result = self.request(
            "POST",
            f"/api/config/config_entries/flow/{flow['flow_id']}",
            json={"username": SHARE_USERNAME, "password": SHARE_PASSWORD, "region": "us"},
        )
        if result.get("type") != "create_entry":
            raise SmokeCheckError(f"config flow did not create the entry: {result}")
        return str(result["result"]["entry_id"])

    def entry_state(self, entry_id: str) -> tuple[str, str | None]:
        """The entry's state and, if any, the reason Home Assistant gives."""
        for entry in self.request("GET", "/api/config/config_entries/entry?domain=dexcom_share"):
            if entry["entry_id"] == entry_id:
                return str(entry["state"]), entry.get("reason")
        raise SmokeCheckError(f"entry {entry_id} is gone")

    def state(self, entity_id: str) -> dict[str, Any]:
        """An entity's state object."""
        return dict(self.request("GET", f"/api/states/{entity_id}"))

    def extra_modules(self) -> list[str]:
        """The frontend modules integrations added, as listed in the served page."""
        page = self._session.get(f"{self.url}/", timeout=REQUEST_TIMEOUT).text
        loader = page.partition("__haLoadExtraModules")[2].partition("};")[0]
        return re.findall(r'import\("([^"]+)"\)', loader)

    def fetch(self, path: str) -> bytes:
        """A file the HTTP server serves, as the browser would get it."""
        response = self._session.get(f"{self.url}{path}", timeout=REQUEST_TIMEOUT)
        if not response.ok:
            raise SmokeCheckError(f"GET {path}: {response.status_code}")
        return response.content


def newest_share_values(simulator_url: str) -> set[int]:
    """The two newest readings Share holds, read with pydexcom as the integration does."""
    for region in Region:
        pydexcom.const.DEXCOM_BASE_URLS[region] = (
            f"{simulator_url}/{region.value}/ShareWebServices/Services/"
        )
    dexcom = Dexcom(username=SHARE_USERNAME, password=SHARE_PASSWORD, region=Region.US)
    return {reading.value for reading in dexcom.get_glucose_readings(minutes=30, max_count=2)}


def check_glucose(hass: HomeAssistantClient, simulator_url: str, seconds: float) -> str:
    """The glucose value is a number, in mg/dL, and one of Share's newest readings."""

    def shown() -> dict[str, Any] | None:
        state = hass.state(GLUCOSE_ENTITY)
        try:
            float(state["state"])
        except ValueError:
            return None
        return state

    state = wait_until(f"{GLUCOSE_ENTITY} showing a number", shown, seconds)
    unit = state["attributes"].get("unit_of_measurement")
    if unit != "mg/dL":
        raise SmokeCheckError(f"{GLUCOSE_ENTITY} is in {unit!r}, not mg/dL")
    on_share = newest_share_values(simulator_url)
    if round(float(state["state"])) not in on_share:
        raise SmokeCheckError(
            f"{GLUCOSE_ENTITY} shows {state['state']}; Share's newest: {on_share}"
        )
    return f"{state['state']} {unit}"


def check_card(hass: HomeAssistantClient) -> str:
    """Once the integration ships a card, the frontend loads it and the file is served."""
    shipped = {path.read_bytes() for path in (INTEGRATION / "card").glob("*.js")}
    if not shipped:
        return "no card shipped yet"
    modules = hass.extra_modules()
    served = [module for module in modules if hass.fetch(module) in shipped]
    if not served:
        raise SmokeCheckError(f"the card is not among the frontend's extra modules {modules}")
    return ", ".join(served)


def integration_errors(log: Path) -> tuple[list[str], list[str]]:
    """Errors and warnings Home Assistant logged about the integration."""
    errors: list[str] = []
    warnings: list[str] = []
    if not log.exists():
        return errors, warnings
    record = ""
    for line in [*log.read_text(errors="replace").splitlines(), "0000-00-00 END"]:
        if line[:4].isdigit():  # a new record starts with its timestamp
            if "dexcom_share" in record and KNOWN_WARNING not in record:
                if " ERROR " in record or " CRITICAL " in record:
                    errors.append(record)
                elif " WARNING " in record:
                    warnings.append(record)
            record = line
        else:
            record += "\n" + line
    return errors, warnings


def smoke(state: Path, timeout: float) -> None:
    """Run the checks, then read Home Assistant's log for what it says about us."""
    config = state / "config"
    failure: SmokeCheckError | None = None
    try:
        run_checks(config, timeout)
    except SmokeCheckError as error:
        failure = error
    errors, warnings = integration_errors(config / "home-assistant.log")
    for record in warnings + errors:
        print(f"smoke_latest: logged about the integration:\n{record}")
    if failure is not None:
        raise failure
    if errors:
        raise SmokeCheckError(f"Home Assistant logged {len(errors)} error(s) about the integration")


def run_checks(config: Path, timeout: float) -> None:
    """Start the simulator and Home Assistant, check, and stop both (also on failure)."""
    state = config.parent
    ha_port, simulator_port = free_port(), free_port()
    write_config(config, ha_port)
    simulator_url = f"http://127.0.0.1:{simulator_port}"
    deadline = time.monotonic() + timeout
    print(
        f"smoke_latest: Home Assistant {ha_version} on 127.0.0.1:{ha_port}, simulator :{simulator_port}"
    )

    def left() -> float:
        return max(1.0, deadline - time.monotonic())

    with (
        running(
            [sys.executable, "-m", "share_simulator", "--port", str(simulator_port)],
            state / "simulator.log",
        ),
        running(
            [
                sys.executable,
                "scripts/hass_with_simulator.py",
                "--config",
                str(config),
                "--skip-pip",
            ],
            state / "console.log",
            env={**os.environ, "SHARE_SIMULATOR_URL": simulator_url},
        ) as home_assistant,
    ):
        hass = HomeAssistantClient(
            f"http://127.0.0.1:{ha_port}", lambda: home_assistant.poll() is None
        )
        hass.wait_for_start(left())
        hass.onboard()
        entry_id = hass.add_entry()

        def loaded() -> bool | None:
            entry_state, reason = hass.entry_state(entry_id)
            if entry_state in ("setup_error", "migration_error", "failed_unload"):
                raise SmokeCheckError(f"entry state {entry_state}: {reason}")
            return True if entry_state == "loaded" else None

        wait_until("the entry loaded", loaded, left())
        print("smoke_latest: entry loaded")
        shown = check_glucose(hass, simulator_url, min(SHOW_TIMEOUT, left()))
        print(f"smoke_latest: glucose value {shown}")
        print(f"smoke_latest: card module: {check_card(hass)}")


def main() -> None:
    """Run the smoke check; exit 1 with the reason (and the log's place) on failure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state", type=Path, default=ROOT / ".cache" / "smoke-latest")
    parser.add_argument("--timeout", type=float, default=120, help="seconds for the checks")
    args = parser.parse_args()
    started = time.monotonic()
    shutil.rmtree(args.state, ignore_errors=True)
    try:
        smoke(args.state, args.timeout)
    except SmokeCheckError as failure:
        sys.exit(f"smoke_latest: FAILED: {failure}\n(logs in {args.state})")
    print(
        f"smoke_latest: passed on Home Assistant {ha_version} in {time.monotonic() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
