"""Data stale and low soon: on when they should be, and no flapping."""

from datetime import timedelta
import math

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from pytest_homeassistant_custom_component.common import MockConfigEntry

from share_simulator import Account, Fault, ShareSimulator

from .conftest import NOW, readings_until, served
from .entities import DATA_STALE, DATA_STALE as STALE, LOW_SOON, VALUE
from .helpers import advance, set_options


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


async def test_never_current_once_15_minutes_old_whatever_fails(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Broken stored options and a failing Share: the old value still goes at 15 min."""
    hass.config_entries.async_update_entry(
        init_integration, options={"stale_minutes": math.nan, "low": math.inf}
    )
    share.state.add_fault(Fault("html", status=502, times=None))
    await advance(hass, freezer, timedelta(minutes=13))
    assert hass.states.get(VALUE).state == "111"
    await advance(hass, freezer, timedelta(minutes=2))
    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE
    assert hass.states.get(DATA_STALE).state == STATE_ON


async def test_data_stale_does_not_flap_before_every_reading(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """At the shortest setting, a reading 30 s late does not turn Data stale on."""
    await set_options(
        hass, init_integration, {"unit_of_measurement": "mg/dL", "stale_minutes": 10}, {}
    )
    states: list[str] = []

    @callback
    def record(event: Event) -> None:
        if event.data["entity_id"] == DATA_STALE and event.data["new_state"] is not None:
            states.append(event.data["new_state"].state)

    hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    # Every 5 minutes from NOW + 4 min to NOW + 59 min, each served 30 s after it was taken.
    account.add_readings(served(readings_until(NOW + timedelta(minutes=59), [120] * 12), delay=30))
    await advance(hass, freezer, timedelta(minutes=60))
    assert STATE_ON not in states
