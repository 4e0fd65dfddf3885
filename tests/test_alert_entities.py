"""The alert engine inside Home Assistant: event, sensor, actions, options, restarts.

Readings come from the Share simulator; the engine's own rules are in test_alerts.py.
"""

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Context, Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.dexcom_share.const import DOMAIN
from custom_components.dexcom_share.diagnostics import async_get_config_entry_diagnostics
from custom_components.dexcom_share.storage import DATA
from share_simulator import Account, Fault, ShareSimulator
from share_simulator.model import READ

from .conftest import NOW, readings_until, served
from .entities import PREFIX
from .helpers import advance, form_defaults

ALERT = f"event.{PREFIX}_glucose_alert"
ACTIVE = f"sensor.{PREFIX}_active_alert"


class Fired:
    """The Glucose alert event's firings, as (event type, alert, value, unit, by)."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Listen from now on."""
        self.events: list[dict[str, Any]] = []

        @callback
        def record(event: Event) -> None:
            if event.data["entity_id"] == ALERT and event.data["new_state"] is not None:
                self.events.append(dict(event.data["new_state"].attributes))

        hass.bus.async_listen(EVENT_STATE_CHANGED, record)

    def of(self, alert: str) -> list[str]:
        """The event types of one alert kind."""
        return [event["event_type"] for event in self.events if event["alert"] == alert]


def falling(account: Account, values: list[int], start_minutes: int = 4) -> None:
    """Readings every 5 minutes from NOW + `start_minutes`, served 20 s after each."""
    last = NOW + timedelta(minutes=start_minutes + 5 * (len(values) - 1))
    account.add_readings(served(readings_until(last, values)))


async def call(
    hass: HomeAssistant, service: str, context: Context | None = None, **data: Any
) -> None:
    await hass.services.async_call(DOMAIN, service, data, blocking=True, context=context)


async def test_urgent_low_raised_acknowledged_snoozed_and_cleared(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_admin_user: MockUser,
) -> None:
    """An urgent low sounds; Sam acknowledges it from the phone; a high snooze is separate."""
    fired = Fired(hass)
    entry_id = init_integration.entry_id
    assert hass.states.get(ACTIVE).state == "none"
    falling(account, [90, 70, 52])
    await advance(hass, freezer, timedelta(minutes=15))
    assert fired.of("urgent_low") == ["raised"]
    raised = next(event for event in fired.events if event["alert"] == "urgent_low")
    assert (raised["value"], raised["unit"], raised["by"]) == (52, "mg/dL", None)
    assert hass.states.get(ACTIVE).state == "urgent_low"
    assert hass.states.get(ACTIVE).attributes["alerts"]["urgent_low"]["state"] == "sounding"

    # A snooze of another kind changes nothing for the urgent low.
    await call(hass, "snooze_alert", config_entry_id=entry_id, alert="high", minutes=120)
    falling(account, [50], start_minutes=19)
    await advance(hass, freezer, timedelta(minutes=5))
    assert fired.of("urgent_low") == ["raised", "repeated"]

    # Acknowledged by the person whose phone called the action.
    hass_admin_user.name = "Sam"
    await call(
        hass, "acknowledge_alert", Context(user_id=hass_admin_user.id), config_entry_id=entry_id
    )
    acknowledged = fired.events[-1]
    assert (acknowledged["event_type"], acknowledged["by"]) == ("acknowledged", "Sam")
    shown = hass.states.get(ACTIVE).attributes["alerts"]["urgent_low"]
    assert (shown["state"], shown["by"]) == ("acknowledged", "Sam")
    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    assert diagnostics["alerts"] == {
        "active": ["urgent_low", "urgent_low_soon", "low"],
        "snoozed": ["high"],
        "acknowledged": ["urgent_low"],
    }
    assert "Sam" not in str(diagnostics)  # people's names stay out
    # Still low: silent for 30 minutes after the last sound, then again, whatever was done.
    falling(account, [50] * 8, start_minutes=24)
    await advance(hass, freezer, timedelta(minutes=40))
    assert fired.of("urgent_low") == ["raised", "repeated", "acknowledged", "repeated"]
    falling(account, [80, 95], start_minutes=64)
    await advance(hass, freezer, timedelta(minutes=10))
    assert fired.of("urgent_low")[-1] == "cleared"
    assert fired.of("low")[-1] == "cleared"
    assert hass.states.get(ACTIVE).state == "none"
    snoozed = hass.states.get(ACTIVE).attributes["snoozed_until"]
    assert list(snoozed) == ["high"]

    await call(hass, "cancel_snooze", config_entry_id=entry_id)
    assert hass.states.get(ACTIVE).attributes["snoozed_until"] == {}


async def test_unit_switch_keeps_the_alerts(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """In mmol/L the same urgent low sounds, its value in mmol/L (thresholds stay mg/dL)."""
    hass.config_entries.async_update_entry(
        init_integration, options={"unit_of_measurement": "mmol/L"}
    )
    init_integration.runtime_data.options_changed()
    fired = Fired(hass)
    falling(account, [90, 70, 52])
    await advance(hass, freezer, timedelta(minutes=15))
    raised = next(event for event in fired.events if event["alert"] == "urgent_low")
    assert (raised["value"], raised["unit"]) == (2.9, "mmol/L")


async def test_turning_a_kind_off_clears_it_and_urgent_low_stays_on(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The options' alerts step: urgent low cannot be unticked; a kind turned off clears."""
    fired = Fired(hass)
    falling(account, [90, 68])
    await advance(hass, freezer, timedelta(minutes=10))
    assert fired.of("low") == ["raised"]

    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], form_defaults(result)
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], form_defaults(result)
    )
    assert result["step_id"] == "alerts"
    shown = form_defaults(result)
    assert shown["alerts_on"] == ["urgent_low", "urgent_low_soon", "low", "no_data", "urgent_high"]
    assert shown["repeat_urgent_low"] == 5
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**shown, "alerts_on": ["low", "high"]}
    )
    assert result["errors"] == {"alerts_on": "urgent_low_always_on"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**shown, "alerts_on": ["urgent_low", "high"], "high_minutes": 10}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert init_integration.options["alerts_on"] == ["urgent_low", "high"]
    assert fired.of("low") == ["raised", "cleared"]
    assert hass.states.get(ACTIVE).state == "none"


async def test_actions_refuse_unknown_entries_and_kinds(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Translated errors: no such entry, no such kind, nothing active to acknowledge."""
    entry_id = init_integration.entry_id
    with pytest.raises(ServiceValidationError) as unknown_entry:
        await call(hass, "acknowledge_alert", config_entry_id="nope")
    assert unknown_entry.value.translation_key == "entry_not_found"
    with pytest.raises(ServiceValidationError) as unknown_kind:
        await call(hass, "snooze_alert", config_entry_id=entry_id, alert="hypo", minutes=5)
    assert unknown_kind.value.translation_key == "unknown_alert"
    with pytest.raises(ServiceValidationError) as nothing:
        await call(hass, "acknowledge_alert", config_entry_id=entry_id)
    assert nothing.value.translation_key == "no_active_alert"
    with pytest.raises(ServiceValidationError) as inactive:
        await call(hass, "acknowledge_alert", config_entry_id=entry_id, alert="low", by="Sam")
    assert inactive.value.translation_key == "alert_not_active"
    # An automation without a user acts as Home Assistant.
    await call(hass, "snooze_alert", config_entry_id=entry_id, alert="low", minutes=5)
    engine = init_integration.runtime_data.alerts
    assert engine.states["low"].snoozed_by == "Home Assistant"


async def test_restart_during_an_urgent_low_raises_it_again(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Unload, forget everything in memory, set up again: raised again, snooze kept."""
    entry_id = init_integration.entry_id
    falling(account, [90, 70, 52, 50, 50, 50])
    await advance(hass, freezer, timedelta(minutes=15))
    await call(hass, "snooze_alert", config_entry_id=entry_id, alert="urgent_high", minutes=90)
    assert await hass.config_entries.async_unload(entry_id)
    await hass.async_block_till_done()
    hass.data.pop(DATA, None)
    fired = Fired(hass)
    assert await hass.config_entries.async_setup(entry_id)
    await hass.async_block_till_done()
    assert fired.of("urgent_low") == ["raised"]
    assert hass.states.get(ACTIVE).state == "urgent_low"
    assert "urgent_high" in hass.states.get(ACTIVE).attributes["snoozed_until"]


async def test_no_data_says_why(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Share failing for 20 minutes after the last reading: no data, Share unreachable."""
    fired = Fired(hass)
    share.state.add_fault(Fault("html", status=502, endpoint=READ, times=None))
    await advance(hass, freezer, timedelta(minutes=25))
    no_data = [event for event in fired.events if event["alert"] == "no_data"]
    assert [event["event_type"] for event in no_data][:1] == ["raised"]
    assert no_data[0]["reason"] == "share_unreachable"
    assert no_data[0]["value"] is None
    share.state.clear_faults()
    falling(account, [120], start_minutes=25)
    await advance(hass, freezer, timedelta(minutes=5))
    assert fired.of("no_data")[-1] == "cleared"
