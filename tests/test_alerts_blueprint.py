"""The "Dexcom Share alerts" blueprint, run as real automations on the engine's events.

Phones are mocked notify actions; a failing light or speaker raises, as a dead Zigbee
bridge or a broken TTS would; the companion app's buttons are
`mobile_app_notification_action` events fired with the phone owner's user.
"""

import asyncio
from collections.abc import Generator
from datetime import timedelta
import os
from pathlib import Path
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, CoreState, HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_mock_service,
)

from custom_components.dexcom_share.glucose.alerts import AlertEvent, AlertEventType, AlertKind
from custom_components.dexcom_share.storage import DATA
from share_simulator import Account

from .conftest import NOW
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


@pytest.mark.parametrize(
    ("inputs", "glucose", "moments"),
    [
        pytest.param(
            {},
            (90, 70, 52, 50, 50, 50, 50),
            # Nobody answers an urgent low for 15 minutes: Grandma is woken too. The low
            # and the prediction say nothing while the urgent low speaks for them.
            ((31, "grandma", ("Urgent low: 50 mg/dL.",)),),
            id="escalation_reaches_the_second_circle",
        ),
        pytest.param(
            {"lights": {}, "speakers": [], "quiet_start": "22:00:00", "quiet_end": "07:00:00"},
            (90, 68, 52),
            # 04:00 within quiet hours 22:00-07:00: the low waits, the urgent low does not.
            ((10, "sam", ()), (15, "sam", ("Urgent low: 52 mg/dL.",))),
            id="quiet_hours_never_hold_back_an_urgent_low",
        ),
    ],
)
async def test_alerts_run(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    phones: dict[str, list[ServiceCall]],
    freezer: FrozenDateTimeFactory,
    inputs: dict[str, Any],
    glucose: tuple[int, ...],
    moments: tuple[tuple[int, str, tuple[str, ...]], ...],
) -> None:
    """Glucose every 5 minutes from 04:04: at each moment, a phone has these messages.

    Every urgent low among them is an alarm.
    """
    async_mock_service(hass, "light", "turn_on")
    async_mock_service(hass, "tts", "speak")
    await add_automations(hass, alerts_automation(**inputs))
    falling(account, list(glucose))
    for minutes, name, sent in moments:
        await advance(hass, freezer, NOW + timedelta(minutes=minutes) - dt_util.utcnow())
        assert messages(phones[name]) == list(sent)
        for call in phones[name]:
            if call.data["message"].startswith("Urgent low:"):
                assert call.data["data"]["push"]["interruption-level"] == "critical"


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
    hass.data.pop(DATA, None)
    assert await hass.config_entries.async_setup(entry_id)
    await hass.async_block_till_done()
    again = messages(phones["sam"])[before:]
    assert again.count("Urgent low: 52 mg/dL.") == 1


README = Path(__file__).parent.parent / "docs" / "alerts.md"
NIGHT_START = "<!-- scripted night: tests/test_alerts_blueprint.py, UPDATE_NIGHT=1 -->"
NIGHT_END = "<!-- end of scripted night -->"


@pytest.fixture
def steady_offset() -> Generator[None]:
    """Every coordinator's sub-second offset at 0.25 s (Home Assistant draws it at random)."""
    with patch("homeassistant.helpers.update_coordinator.randint", return_value=250_000):
        yield


@pytest.mark.usefixtures("steady_offset")
async def test_scripted_night_in_the_readme(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    phones: dict[str, list[ServiceCall]],
    freezer: FrozenDateTimeFactory,
    hass_admin_user: MockUser,
) -> None:
    """The night in docs/alerts.md, minute by minute, is what this run sends to each phone.

    A fall into an urgent low at 04:00: Sam acknowledges the urgent low, nobody
    answers the low (it escalates to Grandma), the urgent low sounds again 30 minutes
    after its last sound, Alex snoozes the low, glucose recovers. `UPDATE_NIGHT=1`
    writes the table into docs/alerts.md; otherwise it must match. Home Assistant's random
    sub-second offset of the coordinator is fixed, so that every run is the same night.
    """
    async_mock_service(hass, "light", "turn_on")
    async_mock_service(hass, "tts", "speak")
    await add_automations(hass, alerts_automation())
    hass_admin_user.name = "Sam"
    entry_id = init_integration.entry_id
    rows: list[tuple[str, str, str]] = []
    seen = dict.fromkeys(phones, 0)

    def collect() -> None:
        for name, calls in phones.items():
            for call in calls[seen[name] :]:
                level = call.data["data"].get("push", {}).get("interruption-level", "")
                kind = {"critical": "alarm", "time-sensitive": "time-sensitive"}.get(level, "")
                text = call.data["message"] + (f" ({kind})" if kind else "")
                rows.append((dt_util.as_local(dt_util.utcnow()).strftime("%H:%M"), name, text))
            seen[name] = len(calls)

    async def until(minutes: int) -> None:
        end = NOW + timedelta(minutes=minutes)
        while dt_util.utcnow() < end:
            await advance(hass, freezer, min(timedelta(minutes=1), end - dt_util.utcnow()))
            collect()

    def press(verb: str, kind: str, user: MockUser | None) -> None:
        context = Context(user_id=user.id) if user else None
        hass.bus.async_fire(
            NOTIFICATION_ACTION, {"action": f"{verb}|{entry_id}|{kind}"}, context=context
        )

    falling(account, [88, 76, 66, 58, 53, 51, 50, 50, 50, 50, 52, 54, 56])
    await until(26)
    press("DEXCOM_SHARE_ACK", "urgent_low", hass_admin_user)
    await hass.async_block_till_done()
    collect()
    await until(56)
    press("DEXCOM_SHARE_SNOOZE", "low", None)
    await hass.async_block_till_done()
    collect()
    falling(account, [62, 75, 90, 104, 110], start_minutes=69)
    await until(95)

    names = {"sam": "Sam's phone", "alex": "Alex's phone", "grandma": "Grandma's phone"}
    table = "\n".join(
        [
            NIGHT_START,
            "| Time | Phone | Notification |",
            "|---|---|---|",
            *(f"| {time} | {names[name]} | {text} |" for time, name, text in rows),
            NIGHT_END,
        ]
    )
    readme = README.read_text()
    start, end = readme.index(NIGHT_START), readme.index(NIGHT_END) + len(NIGHT_END)
    if os.environ.get("UPDATE_NIGHT"):
        readme = readme[:start] + table + readme[end:]
        README.write_text(readme)
    assert readme[start : start + len(table)] == table
    # What the night must show, whatever the wording.
    sam = [text for _, name, text in rows if name == "sam"]
    assert any(text.startswith("Urgent low:") and "(alarm)" in text for text in sam)
    assert any(text.startswith("Sam is on it (urgent low") for text in sam)
    assert any(text.startswith("All clear: urgent low") for text in sam)
    assert any(name == "grandma" for _, name, _ in rows)


async def test_a_speaker_that_never_answers_holds_back_no_other_alert(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    phones: dict[str, list[ServiceCall]],
) -> None:
    """A low's announcement hangs: the urgent low after it still reaches the phones."""
    gate = asyncio.Event()

    async def hang(call: ServiceCall) -> None:
        await gate.wait()

    hass.services.async_register("tts", "speak", hang)
    async_mock_service(hass, "light", "turn_on")
    await add_automations(hass, alerts_automation())
    coordinator = init_integration.runtime_data
    now = dt_util.utcnow()
    for kind, value in ((AlertKind.LOW, 66), (AlertKind.URGENT_LOW, 52)):
        coordinator._alerts_changed([AlertEvent(kind, AlertEventType.RAISED, now, value)])
        for _ in range(50):  # not block_till_done: the first run never ends by itself
            await asyncio.sleep(0)
    assert messages(phones["sam"]) == ["Low: 66 mg/dL.", "Urgent low: 52 mg/dL."]
    gate.set()
    await hass.async_block_till_done()


async def test_raised_again_at_a_real_start_reaches_the_automation(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    phones: dict[str, list[ServiceCall]],
    freezer: FrozenDateTimeFactory,
) -> None:
    """From the review: automations arm their triggers as Home Assistant starts.

    The entry is set up while Home Assistant is still starting (as at every restart);
    the urgent low that still holds is raised once it has started, and the phones get it.
    """
    falling(account, [90, 70, 52, 50, 50, 50])
    await advance(hass, freezer, timedelta(minutes=15))
    entry_id = init_integration.entry_id
    assert await hass.config_entries.async_unload(entry_id)
    await hass.async_block_till_done()
    hass.data.pop(DATA, None)
    hass.set_state(CoreState.not_running)
    await add_automations(hass, alerts_automation(lights={}, speakers=[]))
    assert await hass.config_entries.async_setup(entry_id)
    await hass.async_block_till_done()
    assert messages(phones["sam"]) == []
    await hass.async_start()
    await hass.async_block_till_done()
    assert messages(phones["sam"]).count("Urgent low: 52 mg/dL.") == 1
