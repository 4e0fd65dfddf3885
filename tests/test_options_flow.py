"""The options: sensor type, report period, unit and numbers; shown, checked, stored, applied at once."""

from datetime import timedelta
import math

from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import NOW
from .entities import PREFIX, RATE
from .helpers import finish_options, form_defaults as defaults, set_options

EXPIRES = f"sensor.{PREFIX}_sensor_expires"
TIME_IN_RANGE = f"sensor.{PREFIX}_report_time_in_range"
FIRST_STEP = {
    "unit_of_measurement": "mg/dL",
    "stale_minutes": 15,
    "sensor_type": "g7_15_day",
    "report_days": "30",
}


async def test_sensor_type_and_report_period(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """G7 and 14 days at first; a G7 15 Day over 30 days, then the thresholds, then saved."""
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: f"button.{PREFIX}_sensor_replaced"}
    )
    await hass.async_block_till_done()
    assert hass.states.get(EXPIRES).state == (NOW + timedelta(days=10, hours=12)).isoformat()
    assert hass.states.get(TIME_IN_RANGE).attributes["days"] == 14

    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert defaults(result) == {
        "unit_of_measurement": "mg/dL",
        "stale_minutes": 15,
        "sensor_type": "g7",
        "report_days": "14",
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], FIRST_STEP)
    assert result["step_id"] == "thresholds"
    result = await hass.config_entries.options.async_configure(result["flow_id"], defaults(result))
    result = await finish_options(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options["sensor_type"] == "g7_15_day"
    assert init_integration.options["report_days"] == 30

    # Applied without a reload: 15 days and 12 hours from the press, a 30-day report.
    assert hass.states.get(EXPIRES).state == (NOW + timedelta(days=15, hours=12)).isoformat()
    assert hass.states.get(TIME_IN_RANGE).attributes["days"] == 30
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    assert defaults(result) == FIRST_STEP


@pytest.mark.parametrize(("field", "value"), [("sensor_type", "g5"), ("report_days", "45")])
async def test_only_offered_choices(
    hass: HomeAssistant, init_integration: MockConfigEntry, field: str, value: str
) -> None:
    """A sensor type or period the form does not offer is refused, nothing stored."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {**FIRST_STEP, field: value}
        )
    assert "sensor_type" not in init_integration.options


async def test_fallback_sensor_chosen_refused_if_own_and_cleared(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Any glucose sensor but the account's own; cleared in the form, it is gone."""
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    own = f"sensor.{PREFIX}_glucose_value"
    # The picker does not offer the account's own entities, nor takes them.
    schema = result["data_schema"].schema
    (marker,) = [m for m in schema if m.schema == "fallback_sensor"]
    assert own in schema[marker].config["exclude_entities"]
    assert f"sensor.{PREFIX}_average_glucose_24_h" in schema[marker].config["exclude_entities"]
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {**FIRST_STEP, "fallback_sensor": own}
        )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**FIRST_STEP, "fallback_sensor": "sensor.libre_glucose"}
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], defaults(result))
    result = await finish_options(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options["fallback_sensor"] == "sensor.libre_glucose"

    # Shown again as chosen; cleared (left out of the form), it is dropped.
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    (marker,) = [m for m in result["data_schema"].schema if m.schema == "fallback_sensor"]
    assert marker.description == {"suggested_value": "sensor.libre_glucose"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], FIRST_STEP)
    result = await hass.config_entries.options.async_configure(result["flow_id"], defaults(result))
    await finish_options(hass, result)
    assert "fallback_sensor" not in init_integration.options


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_rate_unit_follows_a_unit_switch_at_once(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Switching to mmol/L relabels the rate with its value, without a reload."""
    assert hass.states.get(RATE).attributes["unit_of_measurement"] == "mg/dL/min"
    assert float(hass.states.get(RATE).state) == 0.2
    await set_options(
        hass, init_integration, {"unit_of_measurement": "mmol/L", "stale_minutes": 15}, {}
    )
    rate = hass.states.get(RATE)
    assert rate.attributes["unit_of_measurement"] == "mmol/L/min"
    assert float(rate.state) == pytest.approx(0.2 / 18.016, abs=0.001)


async def test_thresholds_1_mg_dl_apart_save_unchanged_in_mmol(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """55 and 56 mg/dL both show as 3.1 mmol/L; the form still saves as shown."""
    hass.config_entries.async_update_entry(
        init_integration, options={"urgent_low": 55, "low": 56, "high": 180, "urgent_high": 250}
    )
    result = await set_options(
        hass, init_integration, {"unit_of_measurement": "mmol/L", "stale_minutes": 15}, {}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    keys = ("urgent_low", "low", "high", "urgent_high")
    assert [init_integration.options[key] for key in keys] == [55, 56, 180, 250]


async def test_not_a_number_is_refused(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """NaN in any number field is refused with a message, never stored."""
    result = await set_options(
        hass, init_integration, {"unit_of_measurement": "mg/dL", "stale_minutes": math.nan}, {}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"stale_minutes": "not_a_number"}
    result = await set_options(
        hass,
        init_integration,
        {"unit_of_measurement": "mg/dL", "stale_minutes": 15},
        {"low": math.nan},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"low": "not_a_number"}
    assert "low" not in init_integration.options
    assert "stale_minutes" not in init_integration.options


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"stale_minutes": math.inf}, {}),
        ({"stale_minutes": -math.inf}, {}),
        ({"stale_minutes": 5}, {}),
        ({"stale_minutes": 15}, {"high": math.inf}),
        ({"stale_minutes": 15}, {"urgent_low": -math.inf}),
    ],
)
async def test_numbers_out_of_range_are_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    first: dict[str, float],
    second: dict[str, float],
) -> None:
    """Infinity, and a "Data stale" time under 10 minutes, fail the form's own checks."""
    with pytest.raises(InvalidData):
        await set_options(hass, init_integration, {"unit_of_measurement": "mg/dL", **first}, second)
    assert not init_integration.options
