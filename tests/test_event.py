"""The new-reading event: once per reading, repeats and backlogs included."""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant, callback
from pytest_homeassistant_custom_component.common import MockConfigEntry

from share_simulator import Account, Reading

from .conftest import NOW, readings_until
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
    release = (NOW + timedelta(minutes=25)).timestamp()
    account.add_readings(
        Reading(time=(NOW + timedelta(minutes=m)).timestamp(), value=v, available_at=release)
        for m, v in ((14, 118), (19, 116), (24, 114))
    )
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
