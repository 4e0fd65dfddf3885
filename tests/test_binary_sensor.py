"""Data stale and low soon."""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from share_simulator import Account

from .conftest import NOW, readings_until
from .entities import DATA_STALE as STALE, LOW_SOON
from .helpers import advance


async def test_data_stale_follows_the_option(
    hass: HomeAssistant, init_integration: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Off while readings come; on once none came for the chosen time (default 15 min)."""
    assert hass.states.get(STALE).state == STATE_OFF
    await advance(hass, freezer, timedelta(minutes=13, seconds=50))
    assert hass.states.get(STALE).state == STATE_OFF
    await advance(hass, freezer, timedelta(seconds=15))
    assert hass.states.get(STALE).state == STATE_ON

    hass.config_entries.async_update_entry(init_integration, options={"stale_minutes": 30})
    init_integration.runtime_data.options_changed()
    await hass.async_block_till_done()
    assert hass.states.get(STALE).state == STATE_OFF
    await advance(hass, freezer, timedelta(minutes=15))
    assert hass.states.get(STALE).state == STATE_ON


async def test_low_soon(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Falling 10 mg/dL per reading to 80: on before the low threshold is reached."""
    assert hass.states.get(LOW_SOON).state == STATE_OFF
    account.add_readings(
        readings_until(NOW + timedelta(minutes=14), [100, 90, 80], ["SingleDown"] * 3)
    )
    await advance(hass, freezer, timedelta(minutes=15))
    assert hass.states.get(LOW_SOON).state == STATE_ON
    assert float(hass.states.get("sensor.dexcom_jane_sharer_glucose_value").state) == 80
    await advance(hass, freezer, timedelta(minutes=16))
    assert hass.states.get(LOW_SOON).state == STATE_UNAVAILABLE
    assert hass.states.get(STALE).state == STATE_ON
