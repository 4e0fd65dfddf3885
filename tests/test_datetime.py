"""The shared snooze: set, always available, and restored after a restart."""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.datetime import (
    ATTR_DATETIME,
    DOMAIN as DATETIME_DOMAIN,
    SERVICE_SET_VALUE,
)
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from share_simulator import Fault, ShareSimulator

from .conftest import NOW
from .entities import PREFIX, VALUE
from .helpers import advance

SNOOZE = f"datetime.{PREFIX}_alerts_snoozed_until"


@pytest.mark.parametrize("platforms", [[Platform.DATETIME]])
async def test_entity(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    init_integration: MockConfigEntry,
) -> None:
    """One snooze per account, on its device, unknown until set."""
    await snapshot_platform(hass, entity_registry, snapshot, init_integration.entry_id)
    assert hass.states.get(SNOOZE).state == STATE_UNKNOWN


async def test_set_and_survive_share_outage(
    hass: HomeAssistant,
    share: ShareSimulator,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Set with or without a time zone; stays available while Share is down."""
    until = NOW + timedelta(minutes=30)
    await hass.services.async_call(
        DATETIME_DOMAIN,
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: SNOOZE, ATTR_DATETIME: until.isoformat()},
        blocking=True,
    )
    assert hass.states.get(SNOOZE).state == "2026-11-21T12:30:00+00:00"

    # A time without a zone is Home Assistant's local time (US/Pacific in the tests).
    await hass.services.async_call(
        DATETIME_DOMAIN,
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: SNOOZE, ATTR_DATETIME: "2026-11-21 05:00:00"},
        blocking=True,
    )
    assert hass.states.get(SNOOZE).state == "2026-11-21T13:00:00+00:00"

    share.state.add_fault(Fault("html", status=502, times=None))
    await advance(hass, freezer, timedelta(minutes=30))
    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE
    assert hass.states.get(SNOOZE).state == "2026-11-21T13:00:00+00:00"


@pytest.mark.parametrize(
    ("stored", "restored"),
    [
        ("2026-11-21T12:45:00+00:00", "2026-11-21T12:45:00+00:00"),
        ("2026-11-21T13:45:00+01:00", "2026-11-21T12:45:00+00:00"),
        (STATE_UNKNOWN, STATE_UNKNOWN),
        (STATE_UNAVAILABLE, STATE_UNKNOWN),
        ("not a time", STATE_UNKNOWN),
    ],
)
@pytest.mark.usefixtures("account")
async def test_restored_after_restart(
    hass: HomeAssistant, config_entry: MockConfigEntry, stored: str, restored: str
) -> None:
    """The snooze from before the restart is back; anything unusable leaves it unknown."""
    mock_restore_cache(hass, [State(SNOOZE, stored)])
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(SNOOZE).state == restored


async def test_kept_across_a_reload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Reloading the entry (as an options change does) keeps the snooze."""
    await hass.services.async_call(
        DATETIME_DOMAIN,
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: SNOOZE, ATTR_DATETIME: (NOW + timedelta(hours=1)).isoformat()},
        blocking=True,
    )
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(SNOOZE).state == "2026-11-21T13:00:00+00:00"
