"""Diagnostics of a healthy entry."""

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.dexcom_share.diagnostics import async_get_config_entry_diagnostics


async def test_diagnostics(
    hass: HomeAssistant, init_integration: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    """Entry (redacted), region, schedule, errors, requests, logins and readings."""
    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    # The next poll is planned within the reading period after the newest (1 min old).
    assert 0 < diagnostics["schedule"]["next_poll_in_s"] <= 300
    assert diagnostics == snapshot(exclude=props("next_poll_in_s"))
