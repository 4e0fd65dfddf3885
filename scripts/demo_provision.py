"""First start of the demo: finish onboarding, add the Dexcom Share entry and a dashboard.

Used by scripts/develop once Home Assistant answers. It creates the demo user, skips
the rest of onboarding, adds "Dexcom Share" for the simulator's demo account through
the real config flow and saves the Glucose dashboard with the dexcom-share-card. A
second run finds everything done and changes nothing; a demo provisioned with an older
dashboard gets the current one.
"""

import argparse
import asyncio
import json
from pathlib import Path
import sys
import time
from typing import Any

import aiohttp
import requests

DEMO_USER = "demo"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the demo's published login
SHARE_USERNAME = "demo@example.com"
SHARE_PASSWORD = "demo-password"  # noqa: S105 - the simulator's published demo account
TIMEOUT = 30
# Raise when dashboard() changes: an existing demo then gets the new dashboard.
DASHBOARD_VERSION = 4


def wait_for(url: str, seconds: float) -> None:
    """Wait until Home Assistant answers HTTP at all."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=5)
        except requests.ConnectionError:
            time.sleep(1)
        else:
            return
    sys.exit(f"Home Assistant did not answer at {url} within {seconds:.0f} s")


def token_from_code(url: str, client_id: str, code: str) -> str:
    """Exchange an authorization code for an access token."""
    response = requests.post(
        f"{url}/auth/token",
        data={"grant_type": "authorization_code", "code": code, "client_id": client_id},
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def login_code(url: str, client_id: str) -> str:
    """Log the demo user in through the login flow (what the login page does)."""
    flow = requests.post(
        f"{url}/auth/login_flow",
        json={
            "client_id": client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": f"{client_id}?auth_callback=1",
        },
        timeout=TIMEOUT,
    ).json()
    result = requests.post(
        f"{url}/auth/login_flow/{flow['flow_id']}",
        json={"client_id": client_id, "username": DEMO_USER, "password": DEMO_PASSWORD},
        timeout=TIMEOUT,
    ).json()
    return str(result["result"])


def onboard(url: str, client_id: str) -> str:
    """Create the demo user and finish onboarding; return an access token."""
    status = requests.get(f"{url}/api/onboarding", timeout=TIMEOUT).json()
    done = {step["step"] for step in status if step["done"]}
    if "user" not in done:
        code = requests.post(
            f"{url}/api/onboarding/users",
            json={
                "client_id": client_id,
                "name": "Demo",
                "username": DEMO_USER,
                "password": DEMO_PASSWORD,
                "language": "en",
            },
            timeout=TIMEOUT,
        ).json()["auth_code"]
    else:
        code = login_code(url, client_id)
    token = token_from_code(url, client_id, code)
    headers = {"Authorization": f"Bearer {token}"}
    for step, body in (
        ("core_config", {}),
        ("analytics", {}),
        ("integration", {"client_id": client_id, "redirect_uri": f"{client_id}?auth_callback=1"}),
    ):
        if step not in done:
            requests.post(
                f"{url}/api/onboarding/{step}", json=body, headers=headers, timeout=TIMEOUT
            )
    return token


def add_entry(url: str, token: str) -> str:
    """Add Dexcom Share for the demo account through the config flow, unless present."""
    headers = {"Authorization": f"Bearer {token}"}
    entries = requests.get(
        f"{url}/api/config/config_entries/entry?domain=dexcom_share",
        headers=headers,
        timeout=TIMEOUT,
    ).json()
    if entries:
        return str(entries[0]["entry_id"])
    # Onboarding adds a few integrations whose packages the demo does not install.
    for entry in requests.get(
        f"{url}/api/config/config_entries/entry", headers=headers, timeout=TIMEOUT
    ).json():
        if entry["state"] == "setup_error":
            requests.delete(
                f"{url}/api/config/config_entries/entry/{entry['entry_id']}",
                headers=headers,
                timeout=TIMEOUT,
            )
    flow = requests.post(
        f"{url}/api/config/config_entries/flow",
        json={"handler": "dexcom_share"},
        headers=headers,
        timeout=TIMEOUT,
    ).json()
    result = requests.post(
        f"{url}/api/config/config_entries/flow/{flow['flow_id']}",
        json={"username": SHARE_USERNAME, "password": SHARE_PASSWORD, "region": "us"},
        headers=headers,
        timeout=TIMEOUT,
    ).json()
    if result.get("type") != "create_entry":
        sys.exit(f"Adding Dexcom Share failed: {json.dumps(result)}")
    return str(result["result"]["entry_id"])


PREFIX = "dexcom_demo_example_com"
DASHBOARD_PATH = "dexcom-demo"
CARD = "custom:dexcom-share-card"


def dashboard(entry_id: str, device_id: str) -> dict[str, Any]:
    """The Glucose dashboard: the card for every account, the entities, and the card's layouts."""
    return {
        "title": "Dexcom Share demo",
        "views": [
            {
                "title": "Glucose",
                "path": "glucose",
                "cards": [
                    # No devices listed: every Dexcom Share device, one row each.
                    {"type": CARD, "title": "Glucose"},
                    {
                        "type": "entities",
                        "title": "Dexcom demo@example.com",
                        "entities": [
                            {"entity": f"sensor.{PREFIX}_glucose_value", "name": "Glucose value"},
                            {"entity": f"sensor.{PREFIX}_glucose_trend", "name": "Trend"},
                            {"entity": f"sensor.{PREFIX}_glucose_change", "name": "Change"},
                            {"entity": f"sensor.{PREFIX}_glucose_range", "name": "Range"},
                            {"entity": f"sensor.{PREFIX}_sensor_limit", "name": "Sensor limit"},
                            {"entity": f"sensor.{PREFIX}_reading_time", "name": "Reading taken"},
                            {"entity": f"binary_sensor.{PREFIX}_data_stale", "name": "Data stale"},
                            {"entity": f"binary_sensor.{PREFIX}_low_soon", "name": "Low soon"},
                            {"entity": f"event.{PREFIX}_new_reading", "name": "Last new reading"},
                        ],
                    },
                    {
                        "type": "statistics-graph",
                        "title": "Glucose, hourly (imported from Share)",
                        "entities": [f"dexcom_share:glucose_{entry_id.lower()}"],
                        "period": "hour",
                        "days_to_show": 1,
                        "stat_types": ["mean", "min", "max"],
                        "chart_type": "line",
                    },
                    {
                        "type": "gauge",
                        "entity": f"sensor.{PREFIX}_time_in_range_24_h",
                        "name": "Time in range (24 h)",
                        "min": 0,
                        "max": 100,
                    },
                    {
                        "type": "picture-entity",
                        "entity": f"image.{PREFIX}_glucose_profile",
                        "name": "Glucose profile (report period)",
                        "show_state": False,
                    },
                    {
                        "type": "entities",
                        "title": "Sensor session",
                        "entities": [
                            {"entity": f"sensor.{PREFIX}_sensor_started", "name": "Started"},
                            {"entity": f"sensor.{PREFIX}_sensor_expires", "name": "Expires"},
                            {
                                "entity": f"binary_sensor.{PREFIX}_sensor_expiring_soon",
                                "name": "Expiring soon",
                            },
                            {"entity": f"button.{PREFIX}_sensor_replaced", "name": "Replaced"},
                            {
                                "entity": f"datetime.{PREFIX}_alerts_snoozed_until",
                                "name": "Alerts snoozed until",
                            },
                        ],
                    },
                ],
            },
            {
                "title": "Card layouts",
                "path": "layouts",
                "cards": [
                    {"type": CARD, "devices": [device_id]},
                    {
                        "type": CARD,
                        "devices": [device_id],
                        "show_name": False,
                        "show_graph": False,
                    },
                    {"type": CARD, "devices": [device_id], "hours_to_show": 24},
                ],
            },
        ],
    }


def demo_device_id(url: str, token: str) -> str:
    """The demo account's device (its entities appear just after the entry is created)."""
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = requests.post(
            f"{url}/api/template",
            json={"template": f"{{{{ device_id('sensor.{PREFIX}_glucose_value') }}}}"},
            headers=headers,
            timeout=TIMEOUT,
        )
        if response.ok and response.text not in ("", "None"):
            return response.text
        time.sleep(1)
    sys.exit("The demo account's device did not appear")


async def save_dashboard(url: str, token: str, config: dict[str, Any]) -> None:
    """Add the "Glucose" dashboard (sidebar) unless present, and save its views."""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{url.replace('http', 'ws', 1)}/api/websocket") as socket,
    ):
        await socket.receive_json()
        await socket.send_json({"type": "auth", "access_token": token})
        await socket.receive_json()
        number = 0

        async def ask(message: dict[str, Any]) -> Any:
            nonlocal number
            number += 1
            await socket.send_json({"id": number, **message})
            answer = await socket.receive_json()
            if not answer.get("success"):
                sys.exit(f"Saving the dashboard failed: {json.dumps(answer)}")
            return answer["result"]

        dashboards = await ask({"type": "lovelace/dashboards/list"})
        if not any(item["url_path"] == DASHBOARD_PATH for item in dashboards):
            await ask(
                {
                    "type": "lovelace/dashboards/create",
                    "url_path": DASHBOARD_PATH,
                    "title": "Glucose",
                    "icon": "mdi:diabetes",
                    "show_in_sidebar": True,
                    "require_admin": False,
                    "mode": "storage",
                }
            )
        await ask({"type": "lovelace/config/save", "url_path": DASHBOARD_PATH, "config": config})


def remove_failed_entries(url: str, token: str) -> None:
    """Onboarding adds a few integrations whose packages the demo does not install."""
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(15):
        entries = requests.get(
            f"{url}/api/config/config_entries/entry", headers=headers, timeout=TIMEOUT
        ).json()
        if not any(entry["state"] in ("not_loaded", "setup_in_progress") for entry in entries):
            break
        time.sleep(1)
    for entry in entries:
        if entry["state"] == "setup_error":
            requests.delete(
                f"{url}/api/config/config_entries/entry/{entry['entry_id']}",
                headers=headers,
                timeout=TIMEOUT,
            )


def main() -> None:
    """Provision the demo Home Assistant at --url."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://localhost:8123")
    parser.add_argument("--marker", type=Path, required=True)
    args = parser.parse_args()
    wait_for(args.url, 300)
    done = f"provisioned, dashboard {DASHBOARD_VERSION}"
    if args.marker.exists() and args.marker.read_text().strip() == done:
        return
    client_id = f"{args.url}/"
    token = onboard(args.url, client_id)
    entry_id = add_entry(args.url, token)
    config = dashboard(entry_id, demo_device_id(args.url, token))
    asyncio.run(save_dashboard(args.url, token, config))
    remove_failed_entries(args.url, token)
    args.marker.write_text(f"{done}\n")


if __name__ == "__main__":
    main()
