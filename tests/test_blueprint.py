"""The urgent-low blueprint: valid for Home Assistant, and it fires as described."""

from datetime import timedelta
from pathlib import Path
import shutil

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from share_simulator import Account

from .conftest import NOW, readings_until
from .helpers import advance

BLUEPRINT = Path(__file__).parent.parent / "blueprints" / "automation" / "dexcom_share"
VALUE = "sensor.dexcom_jane_sharer_glucose_value"
LOW_SOON = "binary_sensor.dexcom_jane_sharer_low_soon"


@pytest.fixture
async def alerts(
    hass: HomeAssistant, tmp_path: Path, request: pytest.FixtureRequest
) -> tuple[list, list]:
    """The blueprint installed in a fresh configuration folder, used by one automation.

    Parametrize indirectly with the Low soon entities to use (default: the account's).
    """
    low_soon = getattr(request, "param", [LOW_SOON])
    shutil.copytree(BLUEPRINT, tmp_path / "blueprints" / "automation" / "dexcom_share")
    hass.config.config_dir = str(tmp_path)
    lights = async_mock_service(hass, "light", "turn_on")
    notifications = async_mock_service(hass, "notify", "mobile_app_phone")
    assert await async_setup_component(
        hass,
        AUTOMATION_DOMAIN,
        {
            AUTOMATION_DOMAIN: {
                "alias": "Urgent low",
                "use_blueprint": {
                    "path": "dexcom_share/urgent_low.yaml",
                    "input": {
                        "glucose_sensor": VALUE,
                        "threshold": 65,
                        "low_soon_sensor": low_soon,
                        # NOW is 04:00 in the test's time zone (US/Pacific).
                        "start_time": "22:00:00",
                        "end_time": "07:00:00",
                        "lights": {"entity_id": "light.kitchen"},
                        "notify_action": "notify.mobile_app_phone",
                        "cooldown": 30,
                    },
                },
            }
        },
    )
    await hass.async_block_till_done()
    return lights, notifications


async def test_low_turns_lights_on_and_notifies_once_per_cooldown(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    alerts: tuple[list, list],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Falling fast at night: Low soon alerts first; the low that follows is in the cooldown."""
    lights, notifications = alerts
    assert hass.states.get("automation.urgent_low").state == "on"
    account.add_readings(readings_until(NOW + timedelta(minutes=14), [90, 75, 60]))
    await advance(hass, freezer, timedelta(minutes=15))
    assert len(lights) == 1
    assert lights[0].data == {"entity_id": ["light.kitchen"], "brightness_pct": 100}
    assert len(notifications) == 1
    assert notifications[0].data["title"] == "Low glucose"
    assert notifications[0].data["message"] == "Glucose is predicted to go low within 20 minutes."
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
    assert len(notifications) == 2
    assert notifications[1].data["message"] in (
        "Glucose is 61 mg/dL.",
        "Glucose is predicted to go low within 20 minutes.",
    )


async def test_outside_the_window_nothing_happens(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    alerts: tuple[list, list],
    freezer: FrozenDateTimeFactory,
) -> None:
    """In the afternoon (outside 22:00-07:00) a low does not trigger the actions."""
    lights, notifications = alerts
    freezer.tick(timedelta(hours=10))  # 14:00 local; the readings below are current
    account.add_readings(readings_until(NOW + timedelta(hours=10, minutes=14), [90, 75, 60]))
    await advance(hass, freezer, timedelta(minutes=15))
    assert float(hass.states.get(VALUE).state) == 60
    assert (lights, notifications) == ([], [])


@pytest.mark.parametrize("alerts", [[]], indirect=True)
async def test_threshold_alone(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    alerts: tuple[list, list],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Without Low soon, the alert comes when the value crosses the threshold."""
    lights, notifications = alerts
    account.add_readings(readings_until(NOW + timedelta(minutes=14), [90, 75, 60]))
    await advance(hass, freezer, timedelta(minutes=10))
    assert notifications == []
    await advance(hass, freezer, timedelta(minutes=5))
    assert [call.data["message"] for call in notifications] == ["Glucose is 60 mg/dL."]
    assert len(lights) == 1
