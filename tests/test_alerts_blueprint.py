"""The "Dexcom Share alerts" blueprint, run as real automations on the engine's events.

Phones are mocked notify actions; a failing light or speaker raises, as a dead Zigbee
bridge or a broken TTS would; the companion app's buttons are
`mobile_app_notification_action` events fired with the phone owner's user.
"""

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_mock_service,
)

from custom_components.dexcom_share.storage import ENTRY_STATES
from share_simulator import Account

from .entities import PREFIX
from .helpers import advance
from .test_alert_entities import falling
from .test_blueprint import NOTIFICATION_ACTION, add_automations

ALERT = f"event.{PREFIX}_glucose_alert"
pytestmark = pytest.mark.usefixtures("blueprints")


def alerts_automation(**inputs: Any) -> dict[str, Any]:
    """An automation from the alerts blueprint: two phones, a light, a speaker."""
    return {
        "alias": "Dexcom alerts",
        "use_blueprint": {
            "path": "dexcom_share/alerts.yaml",
            "input": {
                "alert_event": ALERT,
                "notify_actions": ["notify.mobile_app_sam", "notify.mobile_app_alex"],
                "lights": {"entity_id": "light.kitchen"},
                "speakers": ["media_player.bedroom"],
                "tts_entity": "tts.home_assistant_cloud",
                "escalation_notify_actions": ["notify.mobile_app_grandma"],
            }
            | inputs,
        },
    }


def failing(hass: HomeAssistant, domain: str, service: str) -> list[ServiceCall]:
    """A service that is called and fails, as a device that is offline."""
    calls: list[ServiceCall] = []

    async def fail(call: ServiceCall) -> None:
        calls.append(call)
        raise HomeAssistantError(f"{domain} is offline")

    hass.services.async_register(domain, service, fail)
    return calls


@pytest.fixture
def phones(hass: HomeAssistant) -> dict[str, list[ServiceCall]]:
    """Sam's, Alex's and Grandma's phones."""
    return {
        name: async_mock_service(hass, "notify", f"mobile_app_{name}")
        for name in ("sam", "alex", "grandma")
    }


def messages(calls: list[ServiceCall]) -> list[str]:
    return [call.data["message"] for call in calls]


async def test_urgent_low_reaches_both_phones_despite_a_broken_light_and_speaker(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    phones: dict[str, list[ServiceCall]],
    freezer: FrozenDateTimeFactory,
    hass_admin_user: MockUser,
) -> None:
    """An alarm on both phones, light and speaker tried; Sam acknowledges; all clear."""
    light = failing(hass, "light", "turn_on")
    speaker = failing(hass, "tts", "speak")
    await add_automations(hass, alerts_automation())
    falling(account, [90, 70, 52])
    await advance(hass, freezer, timedelta(minutes=15))

    for phone in ("sam", "alex"):
        urgent = [c for c in phones[phone] if c.data["message"].startswith("Urgent low:")]
        assert len(urgent) == 1, messages(phones[phone])
        data = urgent[0].data
        assert data["message"] == "Urgent low: 52 mg/dL."
        assert data["title"] == "Dexcom jane.sharer"
        entry_id = init_integration.entry_id
        assert data["data"]["tag"] == f"dexcom_share_{entry_id}_urgent_low"
        # An alarm on iOS and Android, with buttons for this alert only.
        assert data["data"]["push"] == {
            "interruption-level": "critical",
            "sound": {"name": "default", "critical": 1, "volume": 1.0},
        }
        assert (data["data"]["channel"], data["data"]["priority"], data["data"]["ttl"]) == (
            "alarm_stream",
            "high",
            0,
        )
        assert [button["action"] for button in data["data"]["actions"]] == [
            f"DEXCOM_SHARE_ACK|{entry_id}|urgent_low",
            f"DEXCOM_SHARE_SNOOZE|{entry_id}|urgent_low",
        ]
    low = next(c for c in phones["sam"] if c.data["message"].startswith("Low:"))
    assert low.data["data"]["push"] == {"interruption-level": "time-sensitive"}
    assert light  # tried, failed, and the notification had gone out already
    assert speaker[0].data["media_player_entity_id"] == ["media_player.bedroom"]

    # Sam presses Acknowledge on the urgent low: both phones are told, in its place.
    hass_admin_user.name = "Sam"
    hass.bus.async_fire(
        NOTIFICATION_ACTION,
        {"action": f"DEXCOM_SHARE_ACK|{init_integration.entry_id}|urgent_low"},
        context=Context(user_id=hass_admin_user.id),
    )
    await hass.async_block_till_done()
    for phone in ("sam", "alex"):
        told = phones[phone][-1].data
        assert told["message"] == "Sam is on it (urgent low, 52 mg/dL)."
        assert told["data"]["tag"].endswith("_urgent_low")
        assert told["data"]["actions"] == []
    engine = init_integration.runtime_data.alerts
    assert engine.states["urgent_low"].acknowledged_by == "Sam"
    assert engine.states["low"].acknowledged_by is None  # another alert, still sounding

    falling(account, [80, 100], start_minutes=19)
    await advance(hass, freezer, timedelta(minutes=10))
    assert "All clear: urgent low is over (80 mg/dL)." in messages(phones["alex"])


async def test_escalation_reaches_the_second_circle(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    phones: dict[str, list[ServiceCall]],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Nobody answers an urgent low for 15 minutes: Grandma is woken too."""
    async_mock_service(hass, "light", "turn_on")
    async_mock_service(hass, "tts", "speak")
    await add_automations(hass, alerts_automation())
    falling(account, [90, 70, 52, 50, 50, 50, 50])
    await advance(hass, freezer, timedelta(minutes=31))
    # Each unanswered alert is escalated once (urgent low soon and low as well).
    grandma = {call.data["message"]: call.data["data"] for call in phones["grandma"]}
    assert len(phones["grandma"]) == len(grandma) == 3
    assert set(grandma) == {"Urgent low soon: 50 mg/dL.", "Urgent low: 50 mg/dL.", "Low: 50 mg/dL."}
    assert grandma["Urgent low: 50 mg/dL."]["push"]["interruption-level"] == "critical"
    assert grandma["Low: 50 mg/dL."]["push"]["interruption-level"] == "time-sensitive"


async def test_snooze_button_and_unit_switch(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    phones: dict[str, list[ServiceCall]],
    freezer: FrozenDateTimeFactory,
) -> None:
    """In mmol/L a low still sounds; Snooze silences that low only, and says until when."""
    hass.config_entries.async_update_entry(
        init_integration,
        options={"unit_of_measurement": "mmol/L", "alerts_on": ["urgent_low", "low"]},
    )
    init_integration.runtime_data.options_changed()
    await add_automations(hass, alerts_automation(lights={}, speakers=[]))
    falling(account, [90, 68])
    await advance(hass, freezer, timedelta(minutes=10))
    assert messages(phones["sam"]) == ["Low: 3.8 mmol/L."]
    hass.bus.async_fire(
        NOTIFICATION_ACTION, {"action": f"DEXCOM_SHARE_SNOOZE|{init_integration.entry_id}|low"}
    )
    await hass.async_block_till_done()
    assert messages(phones["alex"])[-1].startswith("Home Assistant snoozed low until ")
    # A button of another entry does nothing here.
    hass.bus.async_fire(NOTIFICATION_ACTION, {"action": "DEXCOM_SHARE_ACK|other|low"})
    await hass.async_block_till_done()
    assert init_integration.runtime_data.alerts.states["low"].acknowledged_by is None


async def test_restart_during_an_urgent_low_notifies_again(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    phones: dict[str, list[ServiceCall]],
    freezer: FrozenDateTimeFactory,
) -> None:
    """The entry reloads mid-alarm: the phones get the alarm again, not a stale replay."""
    await add_automations(hass, alerts_automation(lights={}, speakers=[]))
    falling(account, [90, 70, 52])
    await advance(hass, freezer, timedelta(minutes=15))
    before = len(messages(phones["sam"]))
    entry_id = init_integration.entry_id
    assert await hass.config_entries.async_unload(entry_id)
    await hass.async_block_till_done()
    hass.data.pop(ENTRY_STATES, None)
    assert await hass.config_entries.async_setup(entry_id)
    await hass.async_block_till_done()
    again = messages(phones["sam"])[before:]
    assert again.count("Urgent low: 52 mg/dL.") == 1
