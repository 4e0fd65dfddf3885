"""The dexcom_share.get_readings action."""

from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import probatio
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.dexcom_share.const import DOMAIN

from .conftest import NOW


async def get_readings(hass: HomeAssistant, **data: object) -> dict[str, object]:
    return await hass.services.async_call(
        DOMAIN, "get_readings", data, blocking=True, return_response=True
    )


async def test_returns_readings_newest_first(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The last `minutes` of readings, newest first, in both units."""
    response = await get_readings(hass, config_entry_id=init_integration.entry_id, minutes=16)
    readings = response["readings"]
    assert [reading["time"] for reading in readings] == [
        (NOW - timedelta(minutes=m)).isoformat() for m in (1, 6, 11, 16)
    ]
    assert readings[0] == {
        "time": (NOW - timedelta(minutes=1)).isoformat(),
        "value_mg_dl": 111,
        "value_mmol_l": 6.2,
        "trend": "steady",
    }
    default = await get_readings(hass, config_entry_id=init_integration.entry_id)
    assert len(default["readings"]) == 12


async def test_unknown_or_unloaded_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A wrong entry ID and an unloaded entry are explained, not crashes."""
    with pytest.raises(ServiceValidationError) as unknown:
        await get_readings(hass, config_entry_id="nope")
    assert unknown.value.translation_key == "entry_not_found"
    await hass.config_entries.async_unload(init_integration.entry_id)
    with pytest.raises(ServiceValidationError) as unloaded:
        await get_readings(hass, config_entry_id=init_integration.entry_id)
    assert unloaded.value.translation_key == "entry_not_loaded"


@pytest.mark.parametrize("minutes", [0, 1441, "soon"])
async def test_minutes_out_of_range(
    hass: HomeAssistant, init_integration: MockConfigEntry, minutes: object
) -> None:
    """Minutes must be 1 to 1440."""
    with pytest.raises(probatio.Invalid):
        await get_readings(hass, config_entry_id=init_integration.entry_id, minutes=minutes)
