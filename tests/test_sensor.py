"""The glucose sensors: states, trends, stale readings, LOW and HIGH."""

from collections.abc import Generator
from datetime import timedelta
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import image
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.dexcom_share.const import PLATFORMS
from share_simulator import Account, ShareSimulator
from share_simulator.model import TREND_NAMES

from .conftest import NOW, readings_until
from .entities import SENSOR_LIMIT as LIMIT, TREND, VALUE
from .helpers import advance


@pytest.fixture
def fixed_image_token() -> Generator[None]:
    """The image's access token (random, in its state attributes), fixed."""
    with patch.object(image._RND, "getrandbits", return_value=0x1D):
        yield


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "fixed_image_token")
@pytest.mark.parametrize(
    "platforms", [[platform] for platform in PLATFORMS], ids=lambda p: p[0].value
)
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    init_integration: MockConfigEntry,
) -> None:
    """Every entity's registry entry and state, platform by platform."""
    await snapshot_platform(hass, entity_registry, snapshot, init_integration.entry_id)


async def test_enabled_by_default(
    entity_registry: er.EntityRegistry, init_integration: MockConfigEntry
) -> None:
    """Only the entities most people use are enabled, so the recorder is not flooded."""
    entries = er.async_entries_for_config_entry(entity_registry, init_integration.entry_id)
    enabled = sorted(entry.entity_id for entry in entries if entry.disabled_by is None)
    assert len(entries) == 37
    assert enabled == [
        "binary_sensor.dexcom_jane_sharer_data_stale",
        "binary_sensor.dexcom_jane_sharer_low_soon",
        "binary_sensor.dexcom_jane_sharer_sensor_expiring_soon",
        "button.dexcom_jane_sharer_sensor_replaced",
        "datetime.dexcom_jane_sharer_alerts_snoozed_until",
        "event.dexcom_jane_sharer_glucose_alert",
        "event.dexcom_jane_sharer_new_reading",
        "image.dexcom_jane_sharer_glucose_profile",
        "sensor.dexcom_jane_sharer_active_alert",
        "sensor.dexcom_jane_sharer_data_status",
        "sensor.dexcom_jane_sharer_glucose_change",
        "sensor.dexcom_jane_sharer_glucose_range",
        "sensor.dexcom_jane_sharer_glucose_trend",
        "sensor.dexcom_jane_sharer_glucose_value",
        "sensor.dexcom_jane_sharer_reading_time",
        "sensor.dexcom_jane_sharer_report_cgm_coverage",
        "sensor.dexcom_jane_sharer_report_glucose_management_indicator",
        "sensor.dexcom_jane_sharer_report_time_in_range",
        "sensor.dexcom_jane_sharer_report_time_very_low",
        "sensor.dexcom_jane_sharer_sensor_expires",
        "sensor.dexcom_jane_sharer_sensor_limit",
        "sensor.dexcom_jane_sharer_sensor_started",
        "sensor.dexcom_jane_sharer_time_in_range_24_h",
    ]


@pytest.mark.parametrize(
    ("share_trend", "state", "arrow"),
    [
        ("None", STATE_UNKNOWN, None),
        ("DoubleUp", "rising_quickly", "↑↑"),
        ("SingleUp", "rising", "↑"),
        ("FortyFiveUp", "rising_slightly", "↗"),
        ("Flat", "steady", "→"),
        ("FortyFiveDown", "falling_slightly", "↘"),
        ("SingleDown", "falling", "↓"),
        ("DoubleDown", "falling_quickly", "↓↓"),
        ("NotComputable", "not_computable", "?"),
        ("RateOutOfRange", "rate_out_of_range", "-"),
    ],
)
async def test_trend_mapping(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    share_trend: str,
    state: str,
    arrow: str | None,
) -> None:
    """All ten Share directions; Share's 'None' is unknown, not a trend."""
    assert share_trend in TREND_NAMES
    account.add_readings(readings_until(NOW + timedelta(minutes=4), [150], [share_trend]))
    await advance(hass, freezer, timedelta(minutes=5))
    trend = hass.states.get(TREND)
    assert trend.state == state
    assert trend.attributes.get("arrow") == arrow
    assert hass.states.get(VALUE).state == "150"


async def test_stale_reading_becomes_unavailable(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """With no new reading, the last one stops being shown 15 minutes after it was taken."""
    # The newest reading was taken at NOW - 1 min.
    await advance(hass, freezer, timedelta(minutes=13, seconds=50))
    assert hass.states.get(VALUE).state == "111"
    await advance(hass, freezer, timedelta(seconds=15))
    for entity_id in (VALUE, TREND, LIMIT):
        assert hass.states.get(entity_id).state == STATE_UNAVAILABLE


async def test_new_reading_after_stale_period_is_shown(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After a signal loss the first new reading brings the sensors back within seconds."""
    await advance(hass, freezer, timedelta(minutes=28))
    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE
    # The sensor keeps its 5-minute phase: the newest held reading was at NOW - 1 min.
    account.add_readings(readings_until(NOW + timedelta(minutes=29), [95], ["FortyFiveDown"]))
    await advance(hass, freezer, timedelta(minutes=1, seconds=30))
    assert hass.states.get(VALUE).state == "95"
    assert hass.states.get(TREND).state == "falling_slightly"


@pytest.mark.parametrize(
    ("value", "limit"), [(39, "low"), (40, "within_range"), (400, "within_range"), (401, "high")]
)
async def test_low_and_high(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    value: int,
    limit: str,
) -> None:
    """Share's 39 and 401 stay numbers (below/above any threshold) and set the limit."""
    account.add_readings(readings_until(NOW + timedelta(minutes=4), [value]))
    await advance(hass, freezer, timedelta(minutes=5))
    assert hass.states.get(VALUE).state == str(value)
    assert hass.states.get(LIMIT).state == limit


async def test_no_data_on_share(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Share switched off (empty answers): the held reading expires as usual."""
    account.share_enabled = False
    await advance(hass, freezer, timedelta(minutes=10))
    assert hass.states.get(VALUE).state == "111"
    await advance(hass, freezer, timedelta(minutes=6))
    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_rate_follows_the_unit_option(
    hass: HomeAssistant,
    account: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The rate of change is given per minute in the chosen unit."""
    hass.config_entries.async_update_entry(config_entry, options={"unit_of_measurement": "mmol/L"})
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    rate = hass.states.get("sensor.dexcom_jane_sharer_glucose_rate_of_change")
    assert rate.attributes["unit_of_measurement"] == "mmol/L/min"
    assert float(rate.state) == round(0.2 / 18.0182, 3)
    value = hass.states.get(VALUE)
    assert value.attributes["unit_of_measurement"] == "mmol/L"
