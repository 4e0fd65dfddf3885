"""The blueprints: valid for Home Assistant, and they alert, snooze and keep quiet as described.

NOW is 04:00 in the tests' time zone (US/Pacific). Readings keep arriving through the
Share simulator; the companion app's buttons are `mobile_app_notification_action` events.
"""

from dataclasses import dataclass
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


LOW_60 = "Glucose is 60 mg/dL."
NO_DATA_0414 = "No new glucose reading from Dexcom Share (data stale since 04:14)."


@dataclass(frozen=True)
class At:
    """A moment of a run, minutes after it began: what has happened, then a button pressed.

    A check left at None is not made.
    """

    minutes: int
    sent: tuple[str, ...] | None = None  # every message to the phone so far (CLEAR: a clearing)
    lights: int | None = None  # calls of light.turn_on so far
    value: float | None = None  # the glucose value
    stale: bool | None = None  # Data stale
    title: str | None = None  # of every alert so far
    buttons: bool | None = None  # every alert so far has buttons (Snooze, Acknowledge)
    press: tuple[str, str] | None = None  # then a button: (SNOOZE_ACTION, "urgent_low")
    snoozed: int | None = None  # after the press, the snooze ends this many minutes from now


@dataclass(frozen=True)
class Run:
    """Automations from the blueprints, the glucose Share serves, and the moments checked."""

    automations: tuple[dict[str, Any], ...]
    moments: tuple[At, ...]
    glucose: tuple[int, ...] = ()  # every 5 minutes from 4 minutes after the start
    hours: int = 0  # the run starts this many hours after NOW (04:00)


QUIET_UNTIL_0430 = {"quiet_start": "22:00:00", "quiet_end": "04:30:00"}

RUNS = [
    pytest.param(
        # Without Low soon the alert comes at the threshold; without a snooze, no buttons.
        Run(
            (urgent_low(snooze_entity=""),),
            (At(10, sent=()), At(15, sent=(LOW_60,), buttons=False, lights=1)),
            glucose=(90, 75, 60),
        ),
        id="threshold_alone_without_snooze",
    ),
    # During quiet hours a low neither turns lights on nor notifies.
    pytest.param(
        # 04:00, in quiet hours across midnight.
        Run(
            (urgent_low(quiet_start="22:00:00", quiet_end="07:00:00"),),
            (At(15, value=60, lights=0, sent=()),),
            glucose=(90, 75, 60),
        ),
        id="quiet_hours-across_midnight",
    ),
    pytest.param(
        # 14:00, in daytime quiet hours.
        Run(
            (urgent_low(quiet_start="07:00:00", quiet_end="22:00:00"),),
            (At(15, value=60, lights=0, sent=()),),
            glucose=(90, 75, 60),
            hours=10,
        ),
        id="quiet_hours-daytime",
    ),
    pytest.param(
        # Snooze: set for everyone, the alert taken off the phones, and back if still low.
        # A new low during the snooze is silent, though the cooldown is over; when the
        # snooze ends (30 minutes after the press) with glucose still low, the alert
        # comes again.
        Run(
            (urgent_low(cooldown=1),),
            (
                At(15, sent=(LOW_60,), press=(SNOOZE_ACTION, "urgent_low"), snoozed=30),
                At(40, sent=(LOW_60, CLEAR), lights=1),
                At(
                    47,
                    sent=(LOW_60, CLEAR, "Still low after the snooze: glucose is 61 mg/dL."),
                    lights=2,
                ),
            ),
            glucose=(90, 75, 60, 70, 62, 61, 60, 60, 61, 62, 61),
        ),
        id="snooze_from_the_notification_then_still_low",
    ),
    pytest.param(
        # Acknowledge silences for 15 minutes; back in range by then, nothing more comes.
        Run(
            (urgent_low(lights={}),),
            (
                At(15, press=(ACKNOWLEDGE_ACTION, "urgent_low"), snoozed=15),
                At(45, sent=(LOW_60, CLEAR)),
            ),
            glucose=(90, 75, 60, 70, 80, 90, 95, 100, 105),
        ),
        id="acknowledge_and_recovered",
    ),
    pytest.param(
        # No readings: Data stale at 15 minutes, the alert 10 minutes later; snoozed and again.
        Run(
            (no_data(snooze_minutes=30),),
            (
                At(23, stale=True, sent=()),
                At(
                    25,
                    sent=(NO_DATA_0414,),
                    title="No glucose data",
                    press=(SNOOZE_ACTION, "no_data"),
                    snoozed=30,
                ),
                At(54, sent=(NO_DATA_0414, CLEAR)),
                At(57, sent=(NO_DATA_0414, CLEAR, NO_DATA_0414)),
            ),
        ),
        id="no_data_alerts_snoozes_and_alerts_again",
    ),
    pytest.param(
        # The no-data alert keeps quiet hours too.
        Run(
            (no_data(quiet_start="23:00:00", quiet_end="06:00:00"),),
            (At(40, stale=True, sent=()),),
        ),
        id="no_data_in_quiet_hours",
    ),
    pytest.param(
        # Snoozed from the urgent-low alert, the no-data alert waits for the snooze to end.
        # No reading after 04:14: stale at 04:29, due at 04:39, snoozed until 04:45.
        Run(
            (urgent_low(lights={}), no_data()),
            (
                At(15, sent=(LOW_60,), press=(SNOOZE_ACTION, "urgent_low"), snoozed=30),
                At(43, stale=True, sent=(LOW_60, CLEAR)),
                At(
                    47,
                    sent=(
                        LOW_60,
                        CLEAR,
                        "No new glucose reading from Dexcom Share (data stale since 04:29).",
                    ),
                ),
            ),
            glucose=(90, 75, 60),
        ),
        id="one_alerts_snooze_silences_the_others",
    ),
    pytest.param(
        # A press does not restart the cooldown: once its snooze is over, a new low alerts.
        # And a low that goes on alerts again every cooldown (30 minutes).
        Run(
            (urgent_low(lights={}),),
            (
                At(25, press=(ACKNOWLEDGE_ACTION, "urgent_low")),  # snoozed until 04:40
                At(51, sent=(LOW_60, CLEAR, "Glucose is 62 mg/dL.")),  # 62 since 04:49
                At(
                    81,  # 05:21
                    sent=(
                        LOW_60,
                        CLEAR,
                        "Glucose is 62 mg/dL.",
                        "Glucose is still low: 60 mg/dL.",
                    ),
                ),
            ),
            glucose=(90, 75, 60, 70, 80, 90, 90, 90, 90, 62, *[60] * 14),  # 04:04 ... 05:59
        ),
        id="a_new_low_after_acknowledge_alerts_at_once",
    ),
    pytest.param(
        # Low from 04:14 in quiet hours until 04:30: the alert comes at 04:30, not never.
        Run(
            (urgent_low(lights={}, **QUIET_UNTIL_0430),),
            (At(29, sent=()), At(31, sent=("Glucose is still low: 55 mg/dL.",))),
            glucose=(90, 75, *[55] * 16),
        ),
        id="a_low_held_back_by_quiet_hours_alerts_when_they_end",
    ),
    pytest.param(
        # High since 04:04, quiet hours until 04:30: the alert comes 10 minutes after them.
        # A single high reading just before their end alerts at no time.
        Run(
            (high_glucose(**QUIET_UNTIL_0430),),
            (At(39, sent=()), At(41, sent=("Glucose is 300 mg/dL.",))),
            glucose=(200, *[300] * 17),
        ),
        id="high_held_back_by_quiet_hours_alerts_once_it_lasts_after_them",
    ),
    pytest.param(
        # Above 250 for less than the 10 minutes, after quiet hours or after an alert: silent.
        Run(
            (high_glucose(**QUIET_UNTIL_0430),),
            (
                At(90, sent=("Glucose is 270 mg/dL.",)),  # 04:44-04:59, after quiet hours
                At(170, sent=("Glucose is 270 mg/dL.",)),  # 05:59, one reading of 260
            ),
            glucose=(*[150] * 5, 300, *[150] * 8, *[270] * 4, *[150] * 12, 260, *[150] * 3),
        ),
        id="a_short_high_never_alerts",
    ),
]


@pytest.mark.usefixtures("blueprints")
@pytest.mark.parametrize("run", RUNS)
async def test_blueprint_run(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    lights: list[ServiceCall],
    phone: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
    run: Run,
) -> None:
    """The automations see the glucose Share serves; at each moment the phone has what the row says."""
    await add_automations(hass, *run.automations)
    start = NOW + timedelta(hours=run.hours)
    if run.hours:
        freezer.tick(timedelta(hours=run.hours))
    if run.glucose:
        last = start + timedelta(minutes=4 + 5 * (len(run.glucose) - 1))
        account.add_readings(readings_until(last, run.glucose))
    for moment in run.moments:
        await advance(hass, freezer, start + timedelta(minutes=moment.minutes) - dt_util.utcnow())
        if moment.sent is not None:
            assert [call.data["message"] for call in phone] == list(moment.sent)
        if moment.lights is not None:
            assert len(lights) == moment.lights
        if moment.value is not None:
            assert float(hass.states.get(VALUE).state) == moment.value
        if moment.stale is not None:
            assert hass.states.get(DATA_STALE).state == ("on" if moment.stale else "off")
        sent = [call.data for call in phone if call.data["message"] != CLEAR]
        if moment.title is not None:
            assert {data["title"] for data in sent} == {moment.title}
        if moment.buttons is not None:
            assert all(bool(data["data"]["actions"]) is moment.buttons for data in sent)
        if moment.press is not None:
            action, automation = moment.press
            await press(hass, action.format(automation.upper()))
            # Seen: the alert is taken off the phone.
            tag = f"automation.{automation}"
            assert phone[-1].data == {"message": CLEAR, "data": {"tag": tag}}
        if moment.snoozed is not None:
            assert hass.states.get(SNOOZE).state == snoozed_until(hass, moment.snoozed)


# Its own test: it checks the whole notification and light call, and its last alert may
# be either of two messages.
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


# Its own test: two automations, two phones, and buttons pressed that are not theirs.
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


# Its own test: a snooze set mid-run by an action, and a first alert of any of three values.
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
