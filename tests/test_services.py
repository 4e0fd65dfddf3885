"""The dexcom_share.get_readings action."""

from datetime import timedelta
import threading
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import probatio
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.dexcom_share import services
from custom_components.dexcom_share.const import DOMAIN
from custom_components.dexcom_share.glucose.history import ReadingHistory
from custom_components.dexcom_share.glucose.models import GlucoseReading
from share_simulator import Account

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


@pytest.mark.parametrize("minutes", [0, 129601, "soon"])
async def test_minutes_out_of_range(
    hass: HomeAssistant, init_integration: MockConfigEntry, minutes: object
) -> None:
    """Minutes must be 1 to 1440."""
    with pytest.raises(probatio.Invalid):
        await get_readings(hass, config_entry_id=init_integration.entry_id, minutes=minutes)


async def test_up_to_90_days_from_the_local_history(
    hass: HomeAssistant,
    account: Account,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Readings older than Share's 24 hours come from the history kept across restarts."""
    older = [
        GlucoseReading(NOW - timedelta(days=3) + timedelta(minutes=5 * n), 90 + n % 7, None)
        for n in range(288)
    ]
    history, _ = ReadingHistory().merged(older, NOW)
    hass_storage[f"{DOMAIN}.{config_entry.entry_id}.history"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{config_entry.entry_id}.history",
        "data": history.to_dict(),
    }
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    response = await get_readings(hass, config_entry_id=config_entry.entry_id, minutes=129600)
    times = [reading["time"] for reading in response["readings"]]
    assert len(times) == 288 + 288
    assert times == sorted(times, reverse=True)
    assert times[-1] == older[0].time.isoformat()

    # 576 readings are built in the executor, a day or less on the event loop.
    threads: list[bool] = []
    build = services._readings_response

    def spied(history: ReadingHistory) -> Any:
        threads.append(threading.current_thread() is threading.main_thread())
        return build(history)

    with patch.object(services, "_readings_response", spied):
        day = await get_readings(hass, config_entry_id=config_entry.entry_id, minutes=24 * 60)
        again = await get_readings(hass, config_entry_id=config_entry.entry_id, minutes=129600)
    assert threads == [True, False]
    assert len(day["readings"]) == 288
    assert again == response

    # What Share sent is kept for the next start.
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    stored = ReadingHistory.from_dict(
        hass_storage[f"{DOMAIN}.{config_entry.entry_id}.history"]["data"]
    )
    assert len(stored) == 576
