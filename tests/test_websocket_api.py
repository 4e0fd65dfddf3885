"""The card's websocket command: readings, unit and thresholds from one source."""

from collections.abc import Callable
from datetime import timedelta
import threading
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.dexcom_share import websocket_api
from custom_components.dexcom_share.services import MAX_MINUTES
from share_simulator import Account

from .conftest import NOW
from .entities import VALUE
from .helpers import set_options, stored_days

COMMAND = "dexcom_share/readings"
Ask = Callable[..., Any]


async def asker(hass: HomeAssistant, hass_ws_client: WebSocketGenerator) -> Ask:
    """A function that sends the command with the fields given and returns the reply."""
    client = await hass_ws_client(hass)

    async def ask(**fields: Any) -> dict[str, Any]:
        await client.send_json_auto_id({"type": COMMAND, **fields})
        reply: dict[str, Any] = await client.receive_json()
        return reply

    return ask


def epoch(minutes_ago: int) -> int:
    """A reading's time as the command gives it: Unix seconds."""
    return int((NOW - timedelta(minutes=minutes_ago)).timestamp())


async def test_readings_oldest_first_with_unit_and_thresholds(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """The window's readings, oldest first, and everything the card draws them with."""
    ask = await asker(hass, hass_ws_client)
    reply = await ask(config_entry_id=init_integration.entry_id, minutes=16)
    assert reply["success"], reply
    assert reply["result"] == {
        "config_entry_id": init_integration.entry_id,
        "unit": "mg/dL",
        "precision": 0,
        "thresholds": {"urgent_low": 55, "low": 70, "high": 180, "urgent_high": 250},
        "axis": {"min": 40, "max": 250},
        "gap": 900,
        "readings": [[epoch(16), 108], [epoch(11), 109], [epoch(6), 110], [epoch(1), 111]],
    }
    default = await ask(config_entry_id=init_integration.entry_id)
    assert len(default["result"]["readings"]) == 12


async def test_by_entity_in_the_users_unit_and_thresholds(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """The card names its glucose value entity; the answer follows the options at once."""
    await set_options(
        hass,
        init_integration,
        {"unit_of_measurement": "mmol/L", "stale_minutes": 15},
        {"low": 4.4, "high": 8.9},
    )
    ask = await asker(hass, hass_ws_client)
    reply = await ask(entity_id=VALUE, minutes=6)
    assert reply["success"], reply
    result = reply["result"]
    assert result["config_entry_id"] == init_integration.entry_id
    assert result["unit"] == hass.states.get(VALUE).attributes["unit_of_measurement"] == "mmol/L"
    assert result["precision"] == 1
    assert result["thresholds"] == {"urgent_low": 3.1, "low": 4.4, "high": 8.9, "urgent_high": 13.9}
    assert result["axis"] == {"min": 2.2, "max": 13.9}
    # 110 and 111 mg/dL, as Home Assistant converts them (180.16 / 10 per mmol/L).
    assert result["readings"] == [[epoch(6), 6.1], [epoch(1), 6.2]]


async def test_unknown_or_unloaded_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """What the card cannot be answered for is said with a code, not a crash."""
    other = MockConfigEntry(domain="demo")
    other.add_to_hass(hass)
    er.async_get(hass).async_get_or_create("sensor", "demo", "x", config_entry=other)
    ask = await asker(hass, hass_ws_client)
    for fields in (
        {"config_entry_id": "nope"},
        {"config_entry_id": other.entry_id},
        {"entity_id": "sensor.nothing_here"},
        {"entity_id": "sensor.demo_x"},
    ):
        reply = await ask(**fields)
        assert not reply["success"], fields
        assert reply["error"]["code"] == "not_found", fields
    unknown = await ask(config_entry_id="nope")
    assert unknown["error"]["translation_key"] == "entry_not_found"
    assert "nope" in unknown["error"]["message"]

    await hass.config_entries.async_unload(init_integration.entry_id)
    for fields in ({"config_entry_id": init_integration.entry_id}, {"entity_id": VALUE}):
        reply = await ask(**fields)
        assert reply["error"]["code"] == "not_loaded", fields
        assert reply["error"]["translation_key"] == "entry_not_loaded"


async def test_malformed_requests(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """One of entry or entity, and 1 minute to 90 days."""
    ask = await asker(hass, hass_ws_client)
    entry_id = init_integration.entry_id
    for fields in (
        {},
        {"config_entry_id": entry_id, "entity_id": VALUE},
        {"config_entry_id": entry_id, "minutes": 0},
        {"config_entry_id": entry_id, "minutes": MAX_MINUTES + 1},
        {"config_entry_id": entry_id, "minutes": "soon"},
    ):
        reply = await ask(**fields)
        assert reply["error"]["code"] == "invalid_format", fields


async def test_90_days_built_off_the_event_loop(
    hass: HomeAssistant,
    account: Account,
    config_entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """The whole local history is answered; a long window is built in the executor."""
    await stored_days(hass, config_entry.entry_id, 90)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    threads: list[bool] = []
    answer = websocket_api._answer

    def spied(*args: Any) -> bytes:
        threads.append(threading.current_thread() is threading.main_thread())
        return answer(*args)

    ask = await asker(hass, hass_ws_client)
    with patch.object(websocket_api, "_answer", spied):
        day = await ask(config_entry_id=config_entry.entry_id, minutes=24 * 60)
        everything = await ask(config_entry_id=config_entry.entry_id, minutes=MAX_MINUTES)
    assert threads == [True, False]
    assert len(day["result"]["readings"]) == 288
    readings = everything["result"]["readings"]
    assert len(readings) == 90 * 288
    assert [time for time, _ in readings] == sorted(time for time, _ in readings)
    assert readings[-1] == [epoch(1), 111]
    assert readings[0][1] == 120
