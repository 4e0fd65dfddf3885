"""End-to-end check of the running demo in headless Chromium and through the REST API.

scripts/e2e starts the demo and runs this. Through the simulator's control plane it adds
a sharer whose sensor stopped 13 minutes ago, and through the config flow an entry for it
and for the second demo account. In the browser it opens the device page and the setup
form, then the Glucose dashboard: the dexcom-share-card must show the demo account's
value, arrow, change and a ticking age as the REST API reports them, open the more-info
dialog from the keyboard, offer its visual editor, fit a phone's width, and turn the
stopped sharer's row stale once that reading is 15 minutes old. Screenshots (light and
dark) go to docs/screenshots/; each is taken only once the page shows what it claims, and
the check fails if a picture shows a loading screen, an error card or an empty card. At
the end the unit option is switched to mmol/L (the card follows) and the simulator's
password is changed to see Home Assistant ask for reauthentication.
"""

import asyncio
import base64
from collections.abc import Callable
import json
import os
from pathlib import Path
import re
import sys
import tempfile
import time
from typing import Any

import aiohttp
from PIL import Image, ImageStat
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

sys.path.insert(0, str(Path(__file__).parent))
from demo_provision import DASHBOARD_PATH, login_code, token_from_code

URL = os.environ.get("HASS_URL", "http://localhost:8123")
SIMULATOR = os.environ.get("SHARE_SIMULATOR_URL", "http://127.0.0.1:8125")
CLIENT_ID = f"{URL}/"
SCREENSHOTS = Path(__file__).parent.parent / "docs" / "screenshots"
VALUE = "sensor.dexcom_demo_example_com_glucose_value"
TREND = "sensor.dexcom_demo_example_com_glucose_trend"
DELTA = "sensor.dexcom_demo_example_com_glucose_change"
SECOND_VALUE = "sensor.dexcom_alex_example_com_glucose_value"
ACTIVE_ALERT = "sensor.dexcom_demo_example_com_active_alert"
# A sharer whose phone stopped uploading: its value turns unavailable at 15 minutes.
STOPPED = "sam@example.com"
STOPPED_VALUE = "sensor.dexcom_sam_example_com_glucose_value"
STOPPED_MINUTES_AGO = 13
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the simulator's published demo login
GLUCOSE_VIEW = f"/{DASHBOARD_PATH}/glucose"
LAYOUTS_VIEW = f"/{DASHBOARD_PATH}/layouts"
DESKTOP = (1366, 900)
PHONE = (390, 844)
TIMEOUT = 30
TRANSLATIONS_DIR = Path(__file__).parent.parent / "custom_components/dexcom_share/translations"
TRANSLATIONS = json.loads((TRANSLATIONS_DIR / "en.json").read_text())["entity"]["sensor"]
TREND_NAMES = TRANSLATIONS["glucose_trend"]["state"]
RANGE_NAMES = TRANSLATIONS["glucose_range"]["state"]
LIVE_AGE = re.compile(r"(just now|\d+ min ago)")
STALE_AGE = re.compile(r"No data for (\d+) min")
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
# Every element with a tag name in arguments[0], searched through all shadow roots.
DEEP_FIND = """
const tags = arguments[0].map((tag) => tag.toUpperCase());
const found = [];
const walk = (node) => {
  if (tags.includes(node.tagName)) found.push(node);
  if (node.shadowRoot) walk(node.shadowRoot);
  for (const child of node.children || []) walk(child);
};
walk(document.body);
return found;
"""
# What each dexcom-share-card shows, row by row, read through its shadow root.
CARD_ROWS = """
const text = (root, selector) => root.querySelector(selector)?.textContent.trim() ?? null;
return arguments[0].map((card) => {
  const box = card.getBoundingClientRect();
  return {
    width: box.width,
    height: box.height,
    overflows: card.scrollWidth > card.clientWidth + 1,
    empty: text(card.shadowRoot, '.empty'),
    rows: [...card.shadowRoot.querySelectorAll('.device')].map((row) => ({
      device: row.dataset.deviceId,
      state: row.dataset.state,
      range: row.dataset.range,
      label: row.getAttribute('aria-label'),
      role: row.getAttribute('role'),
      tabindex: row.getAttribute('tabindex'),
      name: text(row, '.name'),
      range_name: text(row, '.range'),
      value: text(row, '.value'),
      unit: text(row, '.unit'),
      arrow: text(row, '.arrow'),
      arrow_title: row.querySelector('.arrow')?.getAttribute('title') ?? null,
      delta: text(row, '.delta'),
      age: text(row, '.age'),
      graph: row.querySelector('.graph')?.getAttribute('aria-label') ?? null,
      graph_points: (row.querySelector('.graph .line')?.getAttribute('d') ?? '')
        .split(/[ML]/).filter(Boolean).length,
      overflows: row.scrollWidth > row.clientWidth + 1,
    })),
  };
});
"""
# The alert shown above one device's row: its kind, note and buttons (null: none).
CARD_ALERT = """
for (const card of arguments[0]) {
  const slot = card.shadowRoot.querySelector(`.alert-slot[data-device-id="${arguments[1]}"]`);
  const alert = slot?.querySelector('.alert');
  if (alert) {
    return {
      alert: alert.dataset.alert,
      name: alert.querySelector('.alert-name')?.textContent.trim() ?? null,
      note: alert.querySelector('.alert-note')?.textContent.trim() ?? null,
      buttons: [...alert.querySelectorAll('button')].map((b) => b.textContent.trim()),
    };
  }
}
return null;
"""
# Press one of an alert's buttons on the card, as a person would.
CARD_PRESS = """
for (const card of arguments[0]) {
  const slot = card.shadowRoot.querySelector(`.alert-slot[data-device-id="${arguments[1]}"]`);
  const button = slot?.querySelector(`button[data-action="${arguments[2]}"]`);
  if (button) { button.click(); return true; }
}
return false;
"""
# Blank, loading and broken pages are never photographed.
NOT_PHOTOGRAPHABLE = ("Loading", "Custom element doesn't exist", "Configuration error")


class Api:
    """The REST API (and WebSocket commands) as the demo user."""

    def __init__(self) -> None:
        """Log in through the login flow."""
        self.token = token_from_code(URL, CLIENT_ID, login_code(URL, CLIENT_ID))
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def websocket(self, message: dict[str, Any]) -> Any:
        """One WebSocket command's result (for what the REST API lacks)."""

        async def ask() -> Any:
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(f"{URL.replace('http', 'ws', 1)}/api/websocket") as socket,
            ):
                await socket.receive_json()
                await socket.send_json({"type": "auth", "access_token": self.token})
                await socket.receive_json()
                await socket.send_json({"id": 1, **message})
                return (await socket.receive_json())["result"]

        return asyncio.run(ask())

    def flows_in_progress(self) -> list[dict[str, Any]]:
        """Config flows in progress (the REST API does not list them)."""
        return list(self.websocket({"type": "config_entries/flow/progress"}))

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

    def device_id(self, entity_id: str) -> str:
        """The device an entity belongs to."""
        return self.template(f"{{{{ device_id('{entity_id}') }}}}")


def glucose_shows(api: Api, entity_id: str) -> Callable[[], bool]:
    """A check that reads the entity's state afresh each time: a number is shown."""

    def check() -> bool:
        return str(api.state(entity_id)["state"]).isdigit()

    return check


def wait_until(what: str, check: Callable[[], Any], seconds: float, every: float = 2) -> Any:
    """Poll `check` until it returns something truthy."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(every)
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
        "--hide-scrollbars",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
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
    # The frontend reloads the page once its service worker takes control (a few seconds
    # after the first visit); a page checked or photographed before that vanishes.
    driver.execute_script("window.e2eBeforeServiceWorker = !navigator.serviceWorker.controller")
    wait_until(
        "the service worker's reload",
        lambda: driver.execute_script(
            "return Boolean(navigator.serviceWorker.controller) && !window.e2eBeforeServiceWorker"
        ),
        60,
        0.5,
    )


def set_dark(driver: webdriver.Chrome, dark: bool) -> None:
    """Follow the system's colour scheme, as Home Assistant's default theme does."""
    scheme = "dark" if dark else "light"
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )


def cards(driver: webdriver.Chrome) -> list[WebElement]:
    """Every dexcom-share-card on the page."""
    return list(driver.execute_script(DEEP_FIND, ["dexcom-share-card"]))


def card_rows(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    """What every dexcom-share-card on the page shows."""
    return list(driver.execute_script(CARD_ROWS, cards(driver)))


def photo_problems(driver: webdriver.Chrome, wanted: list[str]) -> list[str]:
    """Why the page is not yet what its screenshot claims (nothing: ready)."""
    shown = driver.execute_script(DEEP_TEXT)
    problems = [f"shows {text!r}" for text in NOT_PHOTOGRAPHABLE if text in shown]
    problems += [f"does not show {text!r}" for text in wanted if text not in shown]
    if driver.execute_script(DEEP_FIND, ["hui-error-card", "hui-warning"]):
        problems.append("shows an error card")
    for card in card_rows(driver):
        if card["empty"] or not card["rows"] or card["height"] < 40:
            problems.append(f"has an empty card: {card}")
        for row in card["rows"]:
            live_without_value = row["state"] == "live" and not (row["value"] or "").strip()
            if row["state"] not in ("live", "stale") or live_without_value:
                problems.append(f"has a card row without a value: {row}")
    return problems


def print_browser_errors(driver: webdriver.Chrome) -> None:
    """What the frontend reported: error cards' messages and the console's errors."""
    for config in driver.execute_script(
        "return arguments[0].map((card) => JSON.stringify(card._config))",
        driver.execute_script(DEEP_FIND, ["hui-error-card"]),
    ):
        print(f"e2e: error card: {config}", file=sys.stderr)
    for entry in driver.get_log("browser"):
        print(f"e2e: browser: {entry['level']} {entry['message'][:400]}", file=sys.stderr)
    loaded = driver.execute_script(
        "return [Boolean(customElements.get('dexcom-share-card')),"
        " performance.getEntriesByType('resource').map((e) => e.name)"
        ".filter((name) => name.includes('/dexcom_share/'))]"
    )
    print(f"e2e: card defined: {loaded[0]}; card module loaded from: {loaded[1]}", file=sys.stderr)


def capture(
    driver: webdriver.Chrome, name: str, wanted: list[str], element: WebElement | None = None
) -> list[str]:
    """Save a screenshot; what was wrong with the page right after (nothing: a good picture)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / name
    if element is None:
        driver.save_screenshot(str(target))
    else:
        element.screenshot(str(target))
    problems = photo_problems(driver, wanted)
    with Image.open(target) as image:
        spread = ImageStat.Stat(image.convert("L")).stddev[0]
    if spread < 8:
        problems.append(f"is nearly blank (brightness spread {spread:.1f})")
    return problems


def photograph(
    driver: webdriver.Chrome,
    name: str,
    wanted: list[str],
    element: WebElement | None = None,
    seconds: float = 90,
) -> None:
    """Save a screenshot once the page shows `wanted` and nothing unfinished; fail otherwise.

    The page is checked before and right after the capture, so a picture taken while
    the frontend re-rendered is caught too. Charts get a moment to finish drawing.
    """
    deadline = time.monotonic() + seconds
    while problems := photo_problems(driver, wanted):
        if time.monotonic() > deadline:
            driver.save_screenshot(str(Path(tempfile.gettempdir()) / f"failed-{name}"))
            print_browser_errors(driver)
            sys.exit(f"e2e: not photographing {name}: the page {'; '.join(problems)}")
        time.sleep(1)
    time.sleep(2)
    if problems := capture(driver, name, wanted, element):
        sys.exit(f"e2e: {name} was taken while the page {'; '.join(problems)}")
    print(f"e2e: saved {name}")


def page_shows(driver: webdriver.Chrome, path: str, texts: list[str], shot: str) -> None:
    """Open `path` and photograph it once every text shows."""
    driver.get(f"{URL}{path}")
    photograph(driver, shot, texts)
    print(f"e2e: {path} shows {texts}")


def show_setup_form(driver: webdriver.Chrome) -> None:
    """Open "Add integration" for Dexcom Share, confirm, and photograph the form.

    A few tries: the dialog can close again if the page re-renders as it opens.
    """
    form = ["Outside the United States", "Password"]

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
        if shows(form[0], 10) and not photo_problems(driver, form):
            time.sleep(1)
            if not capture(driver, "setup.png", form):
                print("e2e: saved setup.png")
                return
    sys.exit("e2e: the setup form did not stay open long enough to photograph")


def add_stopped_sharer(api: Api) -> float:
    """A sharer whose newest reading is 13 minutes old, added through the config flow.

    Returns when that reading turns 15 minutes old (epoch seconds): the moment Home
    Assistant must stop showing it.
    """
    response = requests.post(
        f"{SIMULATOR}/_sim/add_account",
        json={
            "username": STOPPED,
            "password": DEMO_PASSWORD,
            "sensor_stopped_minutes_ago": STOPPED_MINUTES_AGO,
        },
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    stale_at = float(response.json()["newest_reading"]) + 15 * 60
    add_entry(api, STOPPED)
    state = wait_until(
        "the stopped sharer's last glucose",
        lambda: (s := api.state(STOPPED_VALUE))["state"] != "unavailable" and s,
        TIMEOUT,
    )
    print(f"e2e: {STOPPED} shows {state['state']} until its reading is 15 minutes old")
    return stale_at


def add_entry(api: Api, username: str) -> None:
    """The config flow through the API."""
    flow = api.post("/api/config/config_entries/flow", {"handler": "dexcom_share"})
    result = api.post(
        f"/api/config/config_entries/flow/{flow['flow_id']}",
        {"username": username, "password": DEMO_PASSWORD, "region": "us"},
    )
    assert result["type"] == "create_entry", result


def add_second_entry(api: Api) -> None:
    """The config flow through the API, for the simulator's second account."""
    add_entry(api, "alex@example.com")
    wait_until(
        "the second account's glucose",
        glucose_shows(api, SECOND_VALUE),
        TIMEOUT,
    )
    print("e2e: second entry added; alex@example.com shows glucose")


def expected_demo_row(api: Api) -> dict[str, str]:
    """What the demo account's row must show, from the REST API."""
    value = api.state(VALUE)
    trend = api.state(TREND)
    delta = float(api.state(DELTA)["state"])
    sign = "+" if delta > 0 else "±" if delta == 0 else ""
    return {
        "value": value["state"],
        "unit": value["attributes"]["unit_of_measurement"],
        "arrow": trend["attributes"]["arrow"],
        "arrow_title": TREND_NAMES[trend["state"]],
        "delta": f"{sign}{delta:.0f} mg/dL",
    }


def check_card(driver: webdriver.Chrome, api: Api, device_ids: dict[str, str]) -> None:
    """The family card shows the demo account as the API does, and every account's row."""
    driver.get(f"{URL}{GLUCOSE_VIEW}")

    def demo_row_matches() -> dict[str, Any] | None:
        expected = expected_demo_row(api)
        for card in card_rows(driver):
            rows = {row["device"]: row for row in card["rows"]}
            row = rows.get(device_ids[VALUE])
            if (
                set(device_ids.values()) <= rows.keys()
                and row
                and row["state"] == "live"
                and all(row[key] == wanted for key, wanted in expected.items())
                and LIVE_AGE.fullmatch(row["age"] or "")
            ):
                return row
        return None

    row = wait_until("the card to show the demo account's reading", demo_row_matches, 90, 1)
    assert row["role"] == "button", row
    assert row["tabindex"] == "0", row
    assert row["value"] in row["label"], row
    assert row["arrow_title"] in row["label"], row
    assert row["range"] in RANGE_NAMES, row
    assert row["range_name"] == RANGE_NAMES[row["range"]], row
    assert "target range" in (row["graph"] or ""), row
    # The simulator's 24 h are older than the recorder's first state: the line comes
    # from the integration's own readings (dexcom_share/readings), a point every 5 minutes.
    row = wait_until(
        "the card's graph to show 3 hours of readings",
        lambda: next(
            (
                r
                for card in card_rows(driver)
                for r in card["rows"]
                if r["device"] == device_ids[VALUE] and r["graph_points"] >= 30
            ),
            None,
        ),
        60,
        1,
    )
    print(
        f"e2e: the card shows {row['value']} {row['unit']} {row['arrow']} "
        f"({row['arrow_title']}), {row['delta']}, {row['age']}, {row['range_name']}"
    )


def check_keyboard(driver: webdriver.Chrome, device_id: str) -> None:
    """Enter on a focused row opens the glucose value's more-info dialog; Escape closes it."""
    row = driver.execute_script(
        "return arguments[0].shadowRoot.querySelector(`.device[data-device-id='${arguments[1]}']`)",
        cards(driver)[0],
        device_id,
    )

    def dialog_text() -> str:
        return str(
            driver.execute_script(
                "const [dialog] = arguments[0]; return dialog ? dialog.shadowRoot.textContent : ''",
                driver.execute_script(DEEP_FIND, ["ha-more-info-dialog"]),
            )
        )

    driver.execute_script("arguments[0].focus()", row)
    row.send_keys(Keys.ENTER)
    wait_until(
        "the more-info dialog", lambda: "Dexcom demo@example.com" in dialog_text(), TIMEOUT, 0.5
    )
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    wait_until("the more-info dialog to close", lambda: not dialog_text().strip(), TIMEOUT, 0.5)
    print("e2e: Enter on a focused card row opens the more-info dialog; Escape closes it")


def check_editor(driver: webdriver.Chrome, device_ids: list[str]) -> None:
    """The visual editor: a device picker for this integration, hours and parts."""
    result = driver.execute_async_script(
        """
        const [done] = arguments;
        (async () => {
          const hass = document.querySelector('home-assistant').hass;
          const Card = customElements.get('dexcom-share-card');
          const stub = Card.getStubConfig(hass);
          const editor = await Card.getConfigElement();
          const changes = [];
          editor.addEventListener('config-changed', (event) => changes.push(event.detail.config));
          editor.hass = hass;
          editor.setConfig({type: 'custom:dexcom-share-card', ...stub});
          document.body.append(editor);
          const form = editor.querySelector('ha-form');
          await form.updateComplete;
          const names = form.schema.flatMap((item) => item.schema ?? [item]).map((item) => item.name);
          const picker = form.schema.find((item) => item.name === 'devices').selector.device;
          form.dispatchEvent(new CustomEvent('value-changed', {
            detail: {value: {...form.data, hours_to_show: 24, show_graph: false}},
          }));
          const picked = form.shadowRoot.textContent;
          editor.remove();
          done({stub, names, picker, changes, picked,
                listed: (window.customCards || []).some((c) => c.type === 'dexcom-share-card')});
        })().catch((error) => done({error: String(error)}));
        """
    )
    assert "error" not in result, result
    assert result["listed"], result
    assert len(result["stub"]["devices"]) == 1, result
    assert result["stub"]["devices"][0] in device_ids, result
    assert result["picker"] == {"multiple": True, "filter": {"integration": "dexcom_share"}}
    assert {"devices", "hours_to_show", "show_graph", "show_trend"} <= set(result["names"])
    assert result["changes"][-1]["hours_to_show"] == 24, result
    assert result["changes"][-1]["show_graph"] is False, result
    print("e2e: the card picker lists the card; its editor picks devices, hours and parts")


def check_stale(
    driver: webdriver.Chrome, api: Api, device_id: str, stale_at: float
) -> dict[str, Any]:
    """The stopped sharer's row turns stale at 15 minutes, and its age keeps ticking."""
    driver.get(f"{URL}{GLUCOSE_VIEW}")
    ages: set[str] = set()

    def stale_and_ticking() -> dict[str, Any] | None:
        for card in card_rows(driver):
            for row in card["rows"]:
                if row["device"] == device_id and row["age"]:
                    ages.add(row["age"])
                    stale = row["state"] == "stale" and STALE_AGE.fullmatch(row["age"])
                    if stale and len(ages) >= 2:
                        return row
        return None

    wait = max(0.0, stale_at - time.time()) + 150
    row = wait_until("the stopped sharer's row to turn stale", stale_and_ticking, wait, 1)
    assert api.state(STOPPED_VALUE)["state"] == "unavailable"
    assert time.time() >= stale_at - 5, "stale before the reading was 15 minutes old"
    assert row["value"] is None, row
    assert row["arrow"] is None, row
    assert row["delta"] is None, row
    print(f"e2e: the stopped sharer's row turned stale ({row['age']}); ages seen: {sorted(ages)}")
    return row


def check_phone(driver: webdriver.Chrome) -> None:
    """On a phone's width every card fits, without sideways scrolling."""
    driver.set_window_size(*PHONE)
    driver.get(f"{URL}{GLUCOSE_VIEW}")
    photograph(driver, "card-phone.png", ["Glucose"])
    for card in card_rows(driver):
        assert card["width"] <= PHONE[0], card
        assert not card["overflows"], card
        assert not any(row["overflows"] for row in card["rows"]), card
    print("e2e: the card fits a phone's width")
    driver.set_window_size(*DESKTOP)


def check_browser(api: Api, stale_at: float) -> None:
    """The device page, the setup form, and the card in light and dark."""
    device_ids = {entity: api.device_id(entity) for entity in (VALUE, SECOND_VALUE, STOPPED_VALUE)}
    value = api.state(VALUE)
    trend = api.state(TREND)
    driver = browser()
    try:
        log_in(driver)
        page_shows(
            driver,
            f"/config/devices/device/{device_ids[VALUE]}",
            ["Glucose value", value["state"], TREND_NAMES[trend["state"]]],
            "device.png",
        )
        show_setup_form(driver)
        check_card(driver, api, device_ids)
        check_keyboard(driver, device_ids[VALUE])
        check_editor(driver, list(device_ids.values()))
        check_alert_on_card(driver, api, device_ids[VALUE])
        check_stale(driver, api, device_ids[STOPPED_VALUE], stale_at)
        photograph(driver, "dashboard.png", ["Glucose value", "No data for"])
        set_dark(driver, dark=True)
        wait_until("the dark theme", lambda: card_brightness(driver) < 0.3, TIMEOUT, 0.5)
        photograph(driver, "dashboard-dark.png", ["Glucose value", "No data for"])
        photograph(driver, "card-family.png", ["No data for"], cards(driver)[0])
        driver.get(f"{URL}{LAYOUTS_VIEW}")
        photograph(driver, "card-compact.png", ["In range"], wait_for_cards(driver, 3)[1])
        set_dark(driver, dark=False)
        wait_until("the light theme", lambda: card_brightness(driver) > 0.7, TIMEOUT, 0.5)
        photograph(driver, "card-device.png", ["mg/dL"], wait_for_cards(driver, 3)[0])
        check_phone(driver)
        switch_to_mmol(api)
        driver.get(f"{URL}{GLUCOSE_VIEW}")
        wait_until(
            "the card and its graph in mmol/L",
            lambda: any(
                row["unit"] == "mmol/L"
                and "mmol/L" in (row["graph"] or "")
                and row["device"] == device_ids[VALUE]
                for card in card_rows(driver)
                for row in card["rows"]
            ),
            TIMEOUT,
            1,
        )
        print("e2e: the card follows the unit option (mmol/L)")
    finally:
        driver.quit()


def wait_for_cards(driver: webdriver.Chrome, count: int) -> list[WebElement]:
    """The page's dexcom-share-cards once all `count` have rendered their rows."""
    return list(
        wait_until(
            f"{count} cards",
            lambda: (
                (found := cards(driver))
                and len(found) == count
                and all(card["rows"] for card in card_rows(driver))
                and found
            ),
            TIMEOUT,
            1,
        )
    )


def card_brightness(driver: webdriver.Chrome) -> float:
    """Brightness 0-1 of the first card's background: the theme in use."""
    color = driver.execute_script(
        "return getComputedStyle(arguments[0].shadowRoot.querySelector('ha-card')).backgroundColor",
        cards(driver)[0],
    )
    red, green, blue = (int(part) for part in re.findall(r"\d+", color)[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def demo_options(
    api: Api, first: dict[str, Any], thresholds: dict[str, float] | None = None
) -> None:
    """The demo entry's three option steps through the API.

    `first` answers the first step; the thresholds are as shown, or those given; the
    alerts step is answered as shown.
    """
    entry = next(
        e
        for e in api.get("/api/config/config_entries/entry?domain=dexcom_share")
        if e["title"] == "demo@example.com"
    )
    flow = api.post("/api/config/config_entries/options/flow", {"handler": entry["entry_id"]})
    step = api.post(f"/api/config/config_entries/options/flow/{flow['flow_id']}", first)
    shown = {field["name"]: field["default"] for field in step["data_schema"]}
    step = api.post(
        f"/api/config/config_entries/options/flow/{flow['flow_id']}", shown | (thresholds or {})
    )
    assert step.get("step_id") == "alerts", step
    shown = {field["name"]: field["default"] for field in step["data_schema"]}
    result = api.post(f"/api/config/config_entries/options/flow/{flow['flow_id']}", shown)
    assert result["type"] == "create_entry", result


def switch_to_mmol(api: Api) -> None:
    """The options' unit; the glucose value then shows in mmol/L."""
    demo_options(api, {"unit_of_measurement": "mmol/L", "stale_minutes": 15})
    state = wait_until(
        "mmol/L",
        lambda: (s := api.state(VALUE))["attributes"]["unit_of_measurement"] == "mmol/L" and s,
        TIMEOUT,
    )
    print(f"e2e: unit option switched; glucose value {state['state']} mmol/L")


def check_alert_on_card(driver: webdriver.Chrome, api: Api, device_id: str) -> None:
    """An urgent low (thresholds above the demo's glucose) on the card; Acknowledge there.

    The card shows the alert above the demo's row with its buttons; the press calls the
    integration's action in the name of the logged-in user, and the card then says who is
    on it. The default thresholds clear it again.
    """
    first = {"unit_of_measurement": "mg/dL", "stale_minutes": 15}
    demo_options(api, first, {"urgent_low": 390, "low": 395, "high": 398, "urgent_high": 400})
    driver.get(f"{URL}{GLUCOSE_VIEW}")

    def banner() -> dict[str, Any] | None:
        found = driver.execute_script(CARD_ALERT, cards(driver), device_id)
        return found if found and found["alert"] == "urgent_low" else None

    shown = wait_until("the card's urgent-low alert", banner, TIMEOUT, 1)
    assert shown["buttons"] == ["Acknowledge", "Snooze 30 min"], shown
    driver.execute_script(CARD_PRESS, cards(driver), device_id, "acknowledge")
    state = wait_until(
        "the urgent low acknowledged",
        lambda: (
            (s := api.state(ACTIVE_ALERT))["attributes"]["alerts"]
            .get("urgent_low", {})
            .get("state")
            == "acknowledged"
            and s
        ),
        TIMEOUT,
    )
    by = state["attributes"]["alerts"]["urgent_low"]["by"]
    shown = wait_until(
        "the card to say who is on it",
        lambda: (b := banner()) and b["note"] == f"{by} is on it" and not b["buttons"] and b,
        TIMEOUT,
        1,
    )
    demo_options(api, first, {"urgent_low": 55, "low": 70, "high": 180, "urgent_high": 250})
    wait_until("the alert cleared", lambda: api.state(ACTIVE_ALERT)["state"] == "none", TIMEOUT)
    wait_until(
        "the card without the alert",
        lambda: driver.execute_script(CARD_ALERT, cards(driver), device_id) is None,
        TIMEOUT,
        1,
    )
    print(f"e2e: the card showed an urgent low and its buttons; {by} acknowledged it there")


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
    started = time.monotonic()
    api = Api()
    wait_until("the glucose value", glucose_shows(api, VALUE), 120)
    stale_at = add_stopped_sharer(api)
    add_second_entry(api)
    check_browser(api, stale_at)
    trigger_reauth(api)
    print(f"e2e: passed in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
