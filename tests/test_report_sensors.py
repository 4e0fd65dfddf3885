"""The report period's sensors, on a crafted 14-day history, through Share and the options."""

from datetime import datetime, timedelta
import statistics
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.dexcom_share.glucose.models import GlucoseReading
from share_simulator import Account, ShareSimulator

from .conftest import ACCOUNT_ID, NOW, PASSWORD, USERNAME, readings_until
from .entities import PREFIX, VALUE
from .helpers import advance, finish_options
from .seed import store_history

REPORT = f"sensor.{PREFIX}_report_"
BANDS = ("time_very_low", "time_low", "time_in_range", "time_high", "time_very_high")
FIVE = timedelta(minutes=5)
# The account fixture's 24 hours on Share: 100-111 mg/dL, all in range.
SHARE_VALUES = [100 + index % 12 for index in range(288)]
# Before them, 3712 readings: with Share's 288, 4000 in the 14 days, so that each
# band is a round share: 1 % very low, 3 % low, 70 % in range, 20 % high, 6 % very high.
OLDER_VALUES = [45] * 40 + [60] * 120 + [120] * (2800 - 288) + [200] * 800 + [300] * 240


def older_readings() -> list[GlucoseReading]:
    """The 3712 readings before Share's 24 hours, every 5 minutes, newest first."""
    newest = NOW - timedelta(days=1, minutes=6)
    return [
        GlucoseReading(newest - FIVE * index, value, None)
        for index, value in enumerate(OLDER_VALUES)
    ]


def report_state(hass: HomeAssistant, figure: str) -> Any:
    return hass.states.get(REPORT + figure)


@pytest.fixture
async def fortnight(
    hass: HomeAssistant,
    account: Account,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> MockConfigEntry:
    """The entry set up with 13 days of stored history before Share's 24 hours."""
    store_history(hass_storage, config_entry.entry_id, older_readings(), NOW)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "fortnight")
async def test_fourteen_days(hass: HomeAssistant) -> None:
    """Every figure over the 4000 readings of the default 14 days, with its period."""
    values = OLDER_VALUES + SHARE_VALUES
    mean = statistics.fmean(values)
    sd = statistics.pstdev(values)
    expected = {
        "time_very_low": 1.0,
        "time_low": 3.0,
        "time_in_range": 70.0,
        "time_high": 20.0,
        "time_very_high": 6.0,
        "mean_glucose": round(mean, 1),
        "standard_deviation": round(sd, 1),
        "coefficient_of_variation": round(100 * sd / mean, 1),
        "glucose_management_indicator": round(3.31 + 0.02392 * mean, 1),
        "cgm_coverage": round(100 * 4000 / (14 * 288), 1),
    }
    for figure, value in expected.items():
        state = report_state(hass, figure)
        assert float(state.state) == value, figure
        assert state.attributes["days"] == 14
        assert state.attributes["start"] == NOW - timedelta(days=14)
        assert state.attributes["end"] == NOW
        assert state.attributes["readings"] == 4000
        assert state.attributes["sufficient"] is True
    assert report_state(hass, "mean_glucose").attributes["unit_of_measurement"] == "mg/dL"
    assert report_state(hass, "time_in_range").attributes["unit_of_measurement"] == "%"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_options_change_the_period_and_the_unit_at_once(
    hass: HomeAssistant, fortnight: MockConfigEntry
) -> None:
    """7 days instead of 14, and mmol/L, shown without a reload or a poll."""
    result = await hass.config_entries.options.async_init(fortnight.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "unit_of_measurement": "mmol/L",
            "stale_minutes": 15,
            "sensor_type": "g7",
            "report_days": "7",
        },
    )
    shown = {marker.schema: marker.default() for marker in result["data_schema"].schema}
    result = await hass.config_entries.options.async_configure(result["flow_id"], shown)
    await finish_options(hass, result)

    # Share's 288 and the 1727 stored readings taken in the last 7 days.
    since = NOW - timedelta(days=7)
    week = SHARE_VALUES + [r.value for r in older_readings() if r.time >= since]
    assert len(week) == 288 + 1727
    coverage = report_state(hass, "cgm_coverage")
    assert coverage.attributes["days"] == 7
    assert coverage.attributes["start"] == since
    assert coverage.attributes["readings"] == len(week)
    assert coverage.state == "100.0"  # 2015 of 2016, to 0.1
    in_range = sum(70 <= value <= 180 for value in week)
    assert float(report_state(hass, "time_in_range").state) == round(100 * in_range / len(week), 1)
    mean = report_state(hass, "mean_glucose")
    assert mean.attributes["unit_of_measurement"] == "mmol/L"
    assert float(mean.state) == pytest.approx(statistics.fmean(week) / 18.0182, abs=0.01)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_too_few_readings(
    hass: HomeAssistant, share: ShareSimulator, frozen_now: datetime, config_entry: MockConfigEntry
) -> None:
    """Under 144 readings (12 hours): readings and coverage only, flagged as not enough."""
    share.state.add_account(
        username=USERNAME,
        password=PASSWORD,
        account_id=ACCOUNT_ID,
        readings=readings_until(frozen_now - timedelta(minutes=1), [120] * 143),
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    coverage = report_state(hass, "cgm_coverage")
    assert coverage.state == str(round(100 * 143 / (14 * 288), 1))
    assert coverage.attributes["readings"] == 143
    assert coverage.attributes["sufficient"] is False
    for figure in (
        *BANDS,
        "mean_glucose",
        "standard_deviation",
        "coefficient_of_variation",
        "glucose_management_indicator",
    ):
        assert report_state(hass, figure).state == STATE_UNKNOWN, figure


@pytest.mark.usefixtures("fortnight")
async def test_report_stays_when_the_reading_is_old(
    hass: HomeAssistant, share: ShareSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """The report describes the past: it stays while the current glucose goes unavailable."""
    share.state.accounts[ACCOUNT_ID].share_enabled = False
    await advance(hass, freezer, timedelta(minutes=20))
    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE
    in_range = report_state(hass, "time_in_range")
    assert in_range.state == "70.0"
    assert in_range.attributes["end"] > NOW
