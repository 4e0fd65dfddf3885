"""The blueprints: valid for Home Assistant, and they alert, snooze and keep quiet as described.

NOW is 04:00 in the tests' time zone (US/Pacific). Readings keep arriving through the
Share simulator; the companion app's buttons are `mobile_app_notification_action` events.
"""

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from share_simulator import Account

from .conftest import NOW, readings_until
from .entities import DATA_STALE, LOW_SOON, PREFIX, VALUE
from .helpers import advance

SNOOZE = f"datetime.{PREFIX}_alerts_snoozed_until"
NOTIFICATION_ACTION = "mobile_app_notification_action"
SNOOZE_ACTION = "DEXCOM_SHARE_SNOOZE_AUTOMATION_{}"
ACKNOWLEDGE_ACTION = "DEXCOM_SHARE_ACKNOWLEDGE_AUTOMATION_{}"
CLEAR = "clear_notification"


@pytest.fixture
def lights(hass: HomeAssistant) -> list[ServiceCall]:
    """Calls of light.turn_on."""
    return async_mock_service(hass, "light", "turn_on")


@pytest.fixture
def phone(hass: HomeAssistant) -> list[ServiceCall]:
    """Calls of notify.mobile_app_phone."""
    return async_mock_service(hass, "notify", "mobile_app_phone")


def urgent_low(alias: str = "Urgent low", **inputs: Any) -> dict[str, Any]:
    """An automation from the urgent-low blueprint; the defaults suit most tests."""
    return {
        "alias": alias,
        "use_blueprint": {
            "path": "dexcom_share/urgent_low.yaml",
            "input": {
                "glucose_sensor": VALUE,
                "threshold": 65,
                "low_soon_sensor": [],
                "snooze_entity": SNOOZE,
                "lights": {"entity_id": "light.kitchen"},
                "notify_action": "notify.mobile_app_phone",
                "cooldown": 30,
            }
            | inputs,
        },
    }


def high_glucose(**inputs: Any) -> dict[str, Any]:
    """An automation from the high-glucose blueprint."""
    return {
        "alias": "High glucose",
        "use_blueprint": {
            "path": "dexcom_share/high_glucose.yaml",
            "input": {
                "glucose_sensor": VALUE,
                "threshold": 250,
                "duration": 10,
                "snooze_entity": SNOOZE,
                "notify_action": "notify.mobile_app_phone",
            }
            | inputs,
        },
    }


def no_data(**inputs: Any) -> dict[str, Any]:
    """An automation from the no-data blueprint."""
    return {
        "alias": "No data",
        "use_blueprint": {
            "path": "dexcom_share/no_data.yaml",
            "input": {
                "data_stale_sensor": DATA_STALE,
                "duration": 10,
                "snooze_entity": SNOOZE,
                "notify_action": "notify.mobile_app_phone",
            }
            | inputs,
        },
    }


async def add_automations(hass: HomeAssistant, *automations: dict[str, Any]) -> None:
    """Set up these automations, all valid."""
    assert await async_setup_component(
        hass, AUTOMATION_DOMAIN, {AUTOMATION_DOMAIN: list(automations)}
    )
    await hass.async_block_till_done()
    for automation in automations:
        entity_id = f"automation.{automation['alias'].lower().replace(' ', '_')}"
        assert hass.states.get(entity_id).state == "on", entity_id


async def press(hass: HomeAssistant, action: str) -> None:
    """A notification's button pressed in the companion app."""
    hass.bus.async_fire(NOTIFICATION_ACTION, {"action": action})
    await hass.async_block_till_done()


def alerts(calls: list[ServiceCall]) -> list[str]:
    """The messages of the alerts sent (not the clearing of them)."""
    return [call.data["message"] for call in calls if call.data["message"] != CLEAR]


def snoozed_until(hass: HomeAssistant, minutes: float) -> str:
    """The snooze's state when it was set `minutes` ahead just now."""
    until = dt_util.utcnow().replace(microsecond=0) + timedelta(minutes=minutes)
    return until.isoformat()


@pytest.mark.usefixtures("blueprints")
async def test_low_turns_lights_on_and_notifies_once_per_cooldown(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    lights: list[ServiceCall],
    phone: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Falling fast: Low soon alerts first; the low that follows is in the cooldown."""
    await add_automations(hass, urgent_low(low_soon_sensor=[LOW_SOON]))
    account.add_readings(readings_until(NOW + timedelta(minutes=14), [90, 75, 60]))
    await advance(hass, freezer, timedelta(minutes=15))
    assert len(lights) == 1
    assert lights[0].data == {"entity_id": ["light.kitchen"], "brightness_pct": 100}
    assert len(phone) == 1
    assert phone[0].data["title"] == "Low glucose"
    assert phone[0].data["message"] == "Glucose is predicted to go low within 20 minutes."
    assert phone[0].data["data"] == {
        "tag": "automation.urgent_low",
        "actions": [
            {"action": SNOOZE_ACTION.format("URGENT_LOW"), "title": "Snooze 30 min"},
            {"action": ACKNOWLEDGE_ACTION.format("URGENT_LOW"), "title": "Acknowledge"},
        ],
    }
    assert float(hass.states.get(VALUE).state) == 60

    # Back up, then down again within the cooldown: no second alert.
    account.add_readings(readings_until(NOW + timedelta(minutes=24), [80, 62]))
    await advance(hass, freezer, timedelta(minutes=10))
    assert float(hass.states.get(VALUE).state) == 62
    assert len(lights) == 1

    # After the cooldown, the next drop alerts again.
    account.add_readings(readings_until(NOW + timedelta(minutes=54), [80, 80, 80, 80, 80, 61]))
    await advance(hass, freezer, timedelta(minutes=30))
    assert len(lights) == 2
    assert alerts(phone)[1] in (
        "Glucose is 61 mg/dL.",
        "Glucose is predicted to go low within 20 minutes.",
    )


@pytest.mark.usefixtures("blueprints")
async def test_threshold_alone_without_snooze(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    lights: list[ServiceCall],
    phone: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Without Low soon the alert comes at the threshold; without a snooze, no buttons."""
    await add_automations(hass, urgent_low(snooze_entity=""))
    account.add_readings(readings_until(NOW + timedelta(minutes=14), [90, 75, 60]))
    await advance(hass, freezer, timedelta(minutes=10))
    assert phone == []
    await advance(hass, freezer, timedelta(minutes=5))
    assert alerts(phone) == ["Glucose is 60 mg/dL."]
    assert phone[0].data["data"]["actions"] == []
    assert len(lights) == 1


@pytest.mark.usefixtures("blueprints")
@pytest.mark.parametrize(
    ("quiet_start", "quiet_end", "hours_later"),
    [
        ("22:00:00", "07:00:00", 0),  # 04:00, in quiet hours across midnight
        ("07:00:00", "22:00:00", 10),  # 14:00, in daytime quiet hours
    ],
    ids=["across midnight", "daytime"],
)
async def test_quiet_hours(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    lights: list[ServiceCall],
    phone: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
    quiet_start: str,
    quiet_end: str,
    hours_later: int,
) -> None:
    """During quiet hours a low neither turns lights on nor notifies."""
    await add_automations(hass, urgent_low(quiet_start=quiet_start, quiet_end=quiet_end))
    freezer.tick(timedelta(hours=hours_later))
    start = NOW + timedelta(hours=hours_later)
    account.add_readings(readings_until(start + timedelta(minutes=14), [90, 75, 60]))
    await advance(hass, freezer, timedelta(minutes=15))
    assert float(hass.states.get(VALUE).state) == 60
    assert (lights, phone) == ([], [])


@pytest.mark.usefixtures("blueprints")
async def test_snooze_from_the_notification_then_still_low(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    lights: list[ServiceCall],
    phone: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Snooze: set for everyone, the alert taken off the phones, and back if still low.

    A new low during the snooze is silent; when the snooze ends while glucose is
    still low, the alert comes again.
    """
    await add_automations(hass, urgent_low(cooldown=1))
    account.add_readings(readings_until(NOW + timedelta(minutes=14), [90, 75, 60]))
    await advance(hass, freezer, timedelta(minutes=15))
    assert alerts(phone) == ["Glucose is 60 mg/dL."]

    await press(hass, SNOOZE_ACTION.format("URGENT_LOW"))
    assert hass.states.get(SNOOZE).state == snoozed_until(hass, 30)
    assert phone[-1].data == {"message": CLEAR, "data": {"tag": "automation.urgent_low"}}

    # Up and down again while snoozed: silent, though the cooldown is over.
    values = [70, 62, 61, 60, 60, 61, 62, 61]  # every 5 minutes from NOW + 19 min
    account.add_readings(readings_until(NOW + timedelta(minutes=54), values))
    await advance(hass, freezer, timedelta(minutes=25))
    assert len(alerts(phone)) == 1
    assert len(lights) == 1

    # The snooze ends (30 minutes after the press) with glucose still low.
    await advance(hass, freezer, timedelta(minutes=7))
    assert alerts(phone)[1:] == ["Still low after the snooze: glucose is 61 mg/dL."]
    assert len(lights) == 2


@pytest.mark.usefixtures("blueprints")
async def test_acknowledge_and_recovered(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    phone: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Acknowledge silences for 15 minutes; back in range by then, nothing more comes."""
    await add_automations(hass, urgent_low(lights={}))
    account.add_readings(readings_until(NOW + timedelta(minutes=14), [90, 75, 60]))
    await advance(hass, freezer, timedelta(minutes=15))
    await press(hass, ACKNOWLEDGE_ACTION.format("URGENT_LOW"))
    assert hass.states.get(SNOOZE).state == snoozed_until(hass, 15)

    account.add_readings(readings_until(NOW + timedelta(minutes=44), [70, 80, 90, 95, 100, 105]))
    await advance(hass, freezer, timedelta(minutes=30))
    assert alerts(phone) == ["Glucose is 60 mg/dL."]
    assert [call.data["message"] for call in phone] == ["Glucose is 60 mg/dL.", CLEAR]


@pytest.mark.usefixtures("blueprints")
async def test_buttons_act_only_on_their_own_automation(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    phone: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Two alerts for two phones: each button reaches its own automation only."""
    grandma = async_mock_service(hass, "notify", "mobile_app_grandma")
    await add_automations(
        hass,
        urgent_low(lights={}),
        urgent_low("Urgent low grandma", notify_action="notify.mobile_app_grandma", lights={}),
    )
    account.add_readings(readings_until(NOW + timedelta(minutes=14), [90, 75, 60]))
    await advance(hass, freezer, timedelta(minutes=15))
    assert grandma[0].data["data"]["actions"][0]["action"] == SNOOZE_ACTION.format(
        "URGENT_LOW_GRANDMA"
    )

    await press(hass, "SOME_OTHER_APP_ACTION")
    await press(hass, SNOOZE_ACTION.format("URGENT_LOW_TOO"))
    assert hass.states.get(SNOOZE).state == "unknown"

    await press(hass, SNOOZE_ACTION.format("URGENT_LOW_GRANDMA"))
    assert hass.states.get(SNOOZE).state == snoozed_until(hass, 30)
    assert [call.data["message"] for call in grandma][-1] == CLEAR
    assert CLEAR not in [call.data["message"] for call in phone]


@pytest.mark.usefixtures("blueprints")
async def test_high_glucose_honours_the_shared_snooze(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    phone: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Above 250 for 10 minutes alerts; a snooze set elsewhere silences it until it ends."""
    await add_automations(hass, high_glucose())
    account.add_readings(readings_until(NOW + timedelta(minutes=19), [200, 260, 270, 280]))
    await advance(hass, freezer, timedelta(minutes=9))
    assert phone == []
    await advance(hass, freezer, timedelta(minutes=16))
    assert len(alerts(phone)) == 1
    assert alerts(phone)[0] in {f"Glucose is {value} mg/dL." for value in (260, 270, 280)}
    assert phone[0].data["title"] == "High glucose"

    # Below, then above again while a caregiver's snooze (from another alert) runs.
    await hass.services.async_call(
        "datetime",
        "set_value",
        {"entity_id": SNOOZE, "datetime": (dt_util.utcnow() + timedelta(minutes=75)).isoformat()},
        blocking=True,
    )
    values = [200, 190] + [300] * 14
    account.add_readings(readings_until(NOW + timedelta(minutes=99), values))
    await advance(hass, freezer, timedelta(minutes=70))
    assert len(alerts(phone)) == 1
    await advance(hass, freezer, timedelta(minutes=7))
    assert alerts(phone)[1:] == ["Still high after the snooze: glucose is 300 mg/dL."]


@pytest.mark.usefixtures("blueprints")
async def test_no_data_alerts_snoozes_and_alerts_again(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    phone: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """No readings: Data stale at 15 minutes, the alert 10 minutes later; snoozed and again."""
    await add_automations(hass, no_data(snooze_minutes=30))
    await advance(hass, freezer, timedelta(minutes=23))
    assert hass.states.get(DATA_STALE).state == "on"
    assert phone == []
    await advance(hass, freezer, timedelta(minutes=2))
    assert alerts(phone) == ["No new glucose reading from Dexcom Share (data stale since 04:14)."]
    assert phone[0].data["title"] == "No glucose data"

    await press(hass, SNOOZE_ACTION.format("NO_DATA"))
    assert hass.states.get(SNOOZE).state == snoozed_until(hass, 30)
    await advance(hass, freezer, timedelta(minutes=29))
    assert len(alerts(phone)) == 1
    await advance(hass, freezer, timedelta(minutes=3))
    assert len(alerts(phone)) == 2


@pytest.mark.usefixtures("blueprints")
async def test_no_data_in_quiet_hours(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    phone: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """The no-data alert keeps quiet hours too."""
    await add_automations(hass, no_data(quiet_start="23:00:00", quiet_end="06:00:00"))
    await advance(hass, freezer, timedelta(minutes=40))
    assert hass.states.get(DATA_STALE).state == "on"
    assert phone == []


@pytest.mark.usefixtures("blueprints")
async def test_one_alerts_snooze_silences_the_others(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    phone: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Snoozed from the urgent-low alert, the no-data alert waits for the snooze to end."""
    await add_automations(hass, urgent_low(lights={}), no_data())
    account.add_readings(readings_until(NOW + timedelta(minutes=14), [90, 75, 60]))
    await advance(hass, freezer, timedelta(minutes=15))
    assert alerts(phone) == ["Glucose is 60 mg/dL."]
    await press(hass, SNOOZE_ACTION.format("URGENT_LOW"))
    assert hass.states.get(SNOOZE).state == snoozed_until(hass, 30)

    # No reading after 04:14: stale at 04:29, due at 04:39, snoozed until 04:45.
    await advance(hass, freezer, timedelta(minutes=28))
    assert hass.states.get(DATA_STALE).state == "on"
    assert alerts(phone) == ["Glucose is 60 mg/dL."]
    await advance(hass, freezer, timedelta(minutes=4))
    assert alerts(phone)[1:] == [
        "No new glucose reading from Dexcom Share (data stale since 04:29)."
    ]


@pytest.mark.usefixtures("blueprints")
async def test_a_new_low_after_acknowledge_alerts_at_once(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    phone: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A press does not restart the cooldown: once its snooze is over, a new low alerts.

    And a low that goes on alerts again every cooldown (30 minutes).
    """
    await add_automations(hass, urgent_low(lights={}))
    account.add_readings(readings_until(NOW + timedelta(minutes=14), [90, 75, 60]))
    await advance(hass, freezer, timedelta(minutes=15))
    values = [70, 80, 90, 90, 90, 90, 62] + [60] * 14  # 04:19 ... 05:59
    account.add_readings(readings_until(NOW + timedelta(minutes=119), values))
    await advance(hass, freezer, timedelta(minutes=10))
    await press(hass, ACKNOWLEDGE_ACTION.format("URGENT_LOW"))  # snoozed until 04:40
    await advance(hass, freezer, timedelta(minutes=26))  # 04:51; 62 since 04:49
    assert alerts(phone) == ["Glucose is 60 mg/dL.", "Glucose is 62 mg/dL."]
    await advance(hass, freezer, timedelta(minutes=30))  # 05:21
    assert alerts(phone)[2:] == ["Glucose is still low: 60 mg/dL."]


@pytest.mark.usefixtures("blueprints")
async def test_a_low_held_back_by_quiet_hours_alerts_when_they_end(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    phone: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Low from 04:14 in quiet hours until 04:30: the alert comes at 04:30, not never."""
    await add_automations(hass, urgent_low(lights={}, quiet_start="22:00:00", quiet_end="04:30:00"))
    account.add_readings(readings_until(NOW + timedelta(minutes=89), [90, 75] + [55] * 16))
    await advance(hass, freezer, timedelta(minutes=29))
    assert phone == []
    await advance(hass, freezer, timedelta(minutes=2))
    assert alerts(phone) == ["Glucose is still low: 55 mg/dL."]


@pytest.mark.usefixtures("blueprints")
async def test_high_held_back_by_quiet_hours_alerts_once_it_lasts_after_them(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    phone: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """High since 04:04, quiet hours until 04:30: the alert comes 10 minutes after them.

    A single high reading just before their end alerts at no time.
    """
    await add_automations(hass, high_glucose(quiet_start="22:00:00", quiet_end="04:30:00"))
    account.add_readings(readings_until(NOW + timedelta(minutes=89), [200] + [300] * 17))
    await advance(hass, freezer, timedelta(minutes=39))
    assert phone == []
    await advance(hass, freezer, timedelta(minutes=2))
    assert alerts(phone) == ["Glucose is 300 mg/dL."]


@pytest.mark.usefixtures("blueprints")
async def test_a_short_high_never_alerts(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    phone: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Above 250 for less than the 10 minutes, after quiet hours or after an alert: silent."""
    await add_automations(hass, high_glucose(quiet_start="22:00:00", quiet_end="04:30:00"))
    values = [150] * 5 + [300] + [150] * 8 + [270] * 4 + [150] * 12 + [260] + [150] * 3
    account.add_readings(readings_until(NOW + timedelta(minutes=169), values))
    await advance(hass, freezer, timedelta(minutes=90))
    assert alerts(phone) == ["Glucose is 270 mg/dL."]  # 04:44-04:59, after quiet hours
    await advance(hass, freezer, timedelta(minutes=80))
    assert alerts(phone) == ["Glucose is 270 mg/dL."]  # 05:59, one reading of 260
