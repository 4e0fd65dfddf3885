"""End-to-end check of the running demo in headless Chromium and through the REST API.

scripts/e2e starts the demo and runs this. It logs in to the frontend, opens the Dexcom
Share device page and the dashboard, checks that glucose value and trend show, and saves
screenshots to docs/screenshots/. Through the REST API it then adds a second entry with
the config flow, switches the unit option to mmol/L, and changes the simulator's
password to see Home Assistant ask for reauthentication.
"""

import asyncio
import base64
import json
import os
from pathlib import Path
import sys
import tempfile
import time
from typing import Any

import aiohttp
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

sys.path.insert(0, str(Path(__file__).parent))
from demo_provision import login_code, token_from_code

URL = os.environ.get("HASS_URL", "http://localhost:8123")
SIMULATOR = os.environ.get("SHARE_SIMULATOR_URL", "http://127.0.0.1:8125")
CLIENT_ID = f"{URL}/"
SCREENSHOTS = Path(__file__).parent.parent / "docs" / "screenshots"
VALUE = "sensor.dexcom_demo_example_com_glucose_value"
TREND = "sensor.dexcom_demo_example_com_glucose_trend"
TIMEOUT = 30
TREND_NAMES = json.loads(
    (
        Path(__file__).parent.parent / "custom_components/dexcom_share/translations/en.json"
    ).read_text()
)["entity"]["sensor"]["glucose_trend"]["state"]
# Click the first button-like element whose own text is exactly arguments[0].
CLICK_TEXT = """
const wanted = arguments[0];
const find = (node) => {
  for (const child of (node.shadowRoot ? [node.shadowRoot, ...node.children] : node.children)) {
    const text = (child.innerText || child.textContent || '').trim();
    if (text === wanted && /BUTTON|HA-BUTTON|MWC-BUTTON|HA-PROGRESS-BUTTON/.test(child.tagName)) {
      return child;
    }
    const found = find(child);
    if (found) return found;
  }
  return null;
};
const target = find(document.body);
if (target) target.click();
return Boolean(target);
"""
# Text of the page including every shadow root (Home Assistant's frontend uses many).
DEEP_TEXT = """
const texts = [];
const walk = (node) => {
  if (node.shadowRoot) walk(node.shadowRoot);
  for (const child of node.childNodes) {
    if (child.nodeType === Node.TEXT_NODE) texts.push(child.textContent.trim());
    else walk(child);
  }
};
walk(document.body);
return texts.filter(Boolean).join(' | ');
"""


class Api:
    """The REST API (and one WebSocket command) as the demo user."""

    def __init__(self) -> None:
        """Log in through the login flow."""
        self.token = token_from_code(URL, CLIENT_ID, login_code(URL, CLIENT_ID))
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def flows_in_progress(self) -> list[dict[str, Any]]:
        """Config flows in progress (the REST API does not list them)."""

        async def ask() -> list[dict[str, Any]]:
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(f"{URL.replace('http', 'ws', 1)}/api/websocket") as socket,
            ):
                await socket.receive_json()
                await socket.send_json({"type": "auth", "access_token": self.token})
                await socket.receive_json()
                await socket.send_json({"id": 1, "type": "config_entries/flow/progress"})
                return list((await socket.receive_json())["result"])

        return asyncio.run(ask())

    def get(self, path: str) -> Any:
        """GET a JSON answer."""
        response = requests.get(f"{URL}{path}", headers=self.headers, timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """POST JSON, return the JSON answer."""
        response = requests.post(
            f"{URL}{path}", json=body or {}, headers=self.headers, timeout=TIMEOUT
        )
        response.raise_for_status()
        return response.json()

    def state(self, entity_id: str) -> dict[str, Any]:
        """One entity's state."""
        return dict(self.get(f"/api/states/{entity_id}"))

    def template(self, template: str) -> str:
        """Render a template (for registry look-ups the REST API lacks)."""
        response = requests.post(
            f"{URL}/api/template",
            json={"template": template},
            headers=self.headers,
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        return response.text


def wait_until(what: str, check: Any, seconds: float) -> Any:
    """Poll `check` until it returns something truthy."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(2)
    sys.exit(f"e2e: timed out waiting for {what}")


def browser() -> webdriver.Chrome:
    """Headless Debian Chromium with a fresh profile and no background traffic."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1366,900",
        f"--user-data-dir={tempfile.mkdtemp(prefix='e2e-chromium-')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def log_in(driver: webdriver.Chrome) -> None:
    """Complete the frontend's OAuth login with a code from the demo user's login flow."""
    state = base64.urlsafe_b64encode(
        json.dumps({"hassUrl": URL, "clientId": CLIENT_ID}).encode()
    ).decode()
    code = login_code(URL, CLIENT_ID)
    driver.get(f"{URL}/?auth_callback=1&code={code}&state={state}&storeToken=true")
    wait_until(
        "the frontend to log in",
        lambda: driver.execute_script("return localStorage.getItem('hassTokens')"),
        TIMEOUT,
    )


def page_shows(
    driver: webdriver.Chrome, path: str, texts: list[str], shot: str | None = None
) -> None:
    """Open `path`, wait until every text shows, and save a screenshot if `shot` is named."""
    driver.get(f"{URL}{path}")
    deadline = time.monotonic() + 90
    while not all(text in (shown := driver.execute_script(DEEP_TEXT)) for text in texts):
        if time.monotonic() > deadline:
            driver.save_screenshot(
                str(Path(tempfile.gettempdir()) / f"failed-{shot or 'page'}.png")
            )
            sys.exit(f"e2e: {path} did not show {texts}; it showed: {shown[:600]}")
        time.sleep(2)
    print(f"e2e: {path} shows {texts}")
    if shot:
        time.sleep(2)  # let charts and icons finish drawing
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(SCREENSHOTS / shot))


def show_setup_form(driver: webdriver.Chrome) -> bool:
    """Open "Add integration" for Dexcom Share, confirm, and capture the form (best effort).

    Only the README's setup screenshot depends on this: headless Chromium sometimes
    closes the dialog again as the page re-renders, so a few tries are made.
    """

    def shows(text: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if text in driver.execute_script(DEEP_TEXT):
                return True
            time.sleep(0.25)
        return False

    for _ in range(3):
        driver.get(f"{URL}/config/integrations/dashboard/add?domain=dexcom_share")
        if not shows("Do you want to set up Dexcom Share?", 30):
            continue
        driver.execute_script(CLICK_TEXT, "OK")
        if shows("Outside the United States", 10):
            driver.save_screenshot(str(SCREENSHOTS / "setup.png"))
            return True
    return False


def check_browser(api: Api) -> None:
    """Log in, open the device page and the dashboard, check value and trend.

    Also opens the "Add integration" dialog, for the README's setup screenshot.
    """
    value = api.state(VALUE)
    trend = api.state(TREND)
    device_id = api.template(f"{{{{ device_id('{VALUE}') }}}}")
    expected = [
        "Glucose value",
        value["state"],
        TREND_NAMES[trend["state"]],
    ]
    driver = browser()
    try:
        log_in(driver)
        page_shows(driver, f"/config/devices/device/{device_id}", expected, "device.png")
        page_shows(
            driver,
            "/dexcom-demo/glucose",
            ["Glucose value", value["state"], "Trend", TREND_NAMES[trend["state"]]],
            "dashboard.png",
        )
        if show_setup_form(driver):
            print("e2e: the setup form shows (setup.png)")
        else:
            print("e2e: note: the setup dialog closed too soon; setup.png was not refreshed")
    finally:
        driver.quit()


def add_second_entry(api: Api) -> None:
    """The config flow through the API, for the simulator's second account."""
    flow = api.post("/api/config/config_entries/flow", {"handler": "dexcom_share"})
    result = api.post(
        f"/api/config/config_entries/flow/{flow['flow_id']}",
        {"username": "alex@example.com", "password": "demo-password", "region": "us"},
    )
    assert result["type"] == "create_entry", result
    wait_until(
        "the second account's glucose",
        api.state("sensor.dexcom_alex_example_com_glucose_value")["state"].isdigit,
        TIMEOUT,
    )
    print("e2e: second entry added; alex@example.com shows glucose")


def switch_to_mmol(api: Api) -> None:
    """Both option steps; the glucose value then shows in mmol/L."""
    entry = next(
        e
        for e in api.get("/api/config/config_entries/entry?domain=dexcom_share")
        if e["title"] == "demo@example.com"
    )
    flow = api.post("/api/config/config_entries/options/flow", {"handler": entry["entry_id"]})
    step = api.post(
        f"/api/config/config_entries/options/flow/{flow['flow_id']}",
        {"unit_of_measurement": "mmol/L", "stale_minutes": 15},
    )
    shown = {field["name"]: field["default"] for field in step["data_schema"]}
    result = api.post(f"/api/config/config_entries/options/flow/{flow['flow_id']}", shown)
    assert result["type"] == "create_entry", result
    state = wait_until(
        "mmol/L",
        lambda: (s := api.state(VALUE))["attributes"]["unit_of_measurement"] == "mmol/L" and s,
        TIMEOUT,
    )
    print(f"e2e: unit option switched; glucose value {state['state']} mmol/L")


def trigger_reauth(api: Api) -> None:
    """A new password on the simulator: Home Assistant asks for it, and takes it."""
    requests.post(
        f"{SIMULATOR}/_sim/password",
        json={"account": "demo@example.com", "password": "changed-password"},
        timeout=TIMEOUT,
    )
    requests.post(f"{SIMULATOR}/_sim/expire_sessions", timeout=TIMEOUT)
    # Poll now rather than at the next planned time (a manual refresh).
    api.post("/api/services/homeassistant/update_entity", {"entity_id": VALUE})

    def reauth_flow() -> dict[str, Any] | None:
        flows = api.flows_in_progress()
        return next((f for f in flows if f["context"].get("source") == "reauth"), None)

    flow = wait_until("the reauthentication flow", reauth_flow, 600)
    result = api.post(
        f"/api/config/config_entries/flow/{flow['flow_id']}", {"password": "changed-password"}
    )
    assert result["reason"] == "reauth_successful", result
    wait_until(
        "glucose after reauthentication",
        lambda: api.state(VALUE)["state"] not in ("unavailable", "unknown"),
        120,
    )
    print("e2e: reauthentication asked for and completed")


def main() -> None:
    """Run every check; exit non-zero on the first failure."""
    api = Api()
    wait_until("the glucose value", api.state(VALUE)["state"].isdigit, 120)
    check_browser(api)
    add_second_entry(api)
    switch_to_mmol(api)
    trigger_reauth(api)
    print("e2e: passed")


if __name__ == "__main__":
    main()
