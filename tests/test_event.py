"""The new-reading event: once per reading, repeats, backlogs and a bad start included."""

from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant, callback
from pytest_homeassistant_custom_component.common import MockConfigEntry

from share_simulator import Account, Reading, ShareSimulator

from .conftest import ACCOUNT_ID, NOW, PASSWORD, USERNAME, readings_until, served
from .entities import EVENT
from .helpers import advance


async def test_fires_once_per_reading(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Nothing for the 24 h loaded at start-up; one event per new reading after that."""
    fired: list[dict[str, object]] = []

    @callback
    def record(event: Event) -> None:
        if event.data["entity_id"] == EVENT:
            fired.append(dict(event.data["new_state"].attributes))

    hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    assert hass.states.get(EVENT).state == STATE_UNKNOWN

    # The same value twice in a row still fires twice.
    account.add_readings(readings_until(NOW + timedelta(minutes=9), [120, 120]))
    await advance(hass, freezer, timedelta(minutes=10))
    # A backlog of three readings arrives at once after a signal loss.
    backlog = readings_until(NOW + timedelta(minutes=24), [118, 116, 114])
    account.add_readings(served(backlog, at=NOW + timedelta(minutes=25)))
    await advance(hass, freezer, timedelta(minutes=20))

    assert [(event["value"], event["reading_time"]) for event in fired] == [
        (120, (NOW + timedelta(minutes=4)).isoformat()),
        (120, (NOW + timedelta(minutes=9)).isoformat()),
        (118, (NOW + timedelta(minutes=14)).isoformat()),
        (116, (NOW + timedelta(minutes=19)).isoformat()),
        (114, (NOW + timedelta(minutes=24)).isoformat()),
    ]
    assert all(event["event_type"] == "new_reading" for event in fired)
    assert fired[0]["trend"] == "steady"


def new_reading_events(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Collect the attributes of every new-reading event from now on."""
    fired: list[dict[str, Any]] = []

    @callback
    def record(event: Event) -> None:
        if event.data["entity_id"] == EVENT and event.data["new_state"] is not None:
            fired.append(dict(event.data["new_state"].attributes))

    hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    return fired


async def test_first_readings_after_an_empty_start_fire_events(
    hass: HomeAssistant,
    share: ShareSimulator,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    frozen_now: datetime,
) -> None:
    """A day without a sensor, then readings: each one fires the event."""
    account = share.state.add_account(username=USERNAME, password=PASSWORD, account_id=ACCOUNT_ID)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    fired = new_reading_events(hass)
    account.add_readings(readings_until(NOW + timedelta(minutes=4), [140]))
    await advance(hass, freezer, timedelta(minutes=6))
    account.add_readings(readings_until(NOW + timedelta(minutes=9), [142]))
    await advance(hass, freezer, timedelta(minutes=5))
    assert [event["value"] for event in fired] == [140, 142]


async def test_readings_after_a_failed_start_fire_events(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Share down at start-up: readings taken since then still fire once each."""
    share.refuse_connections()
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    fired = new_reading_events(hass)
    account.add_readings(readings_until(NOW + timedelta(minutes=4), [140]))
    await advance(hass, freezer, timedelta(minutes=5))
    share.accept_connections()
    account.add_readings(readings_until(NOW + timedelta(minutes=9), [142]))
    await advance(hass, freezer, timedelta(minutes=10))
    assert [event["value"] for event in fired] == [140, 142]


async def test_a_record_sent_twice_fires_once(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """One Share answer holding the same record twice is one reading, one event."""
    fired = new_reading_events(hass)
    reading = readings_until(NOW + timedelta(minutes=4), [125])[0]
    account.add_readings([reading])
    account.readings.insert(0, Reading(reading.time, reading.value, reading.trend))
    await advance(hass, freezer, timedelta(minutes=6))
    assert [event["value"] for event in fired] == [125]
