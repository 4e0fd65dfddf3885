"""Home Assistant's clock days behind or a year ahead of Share's: said, and nothing lost.

The simulated Share keeps the true time (its answers' Date header and the readings'
stamps); Home Assistant's frozen clock is set wrong against it.
"""

from datetime import timedelta
import time

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.dexcom_share.const import DOMAIN
from custom_components.dexcom_share.coordinator import CLOCK_TOLERANCE
from custom_components.dexcom_share.diagnostics import async_get_config_entry_diagnostics
from custom_components.dexcom_share.glucose.share import RequestStats
from share_simulator import Account, ShareSimulator

from .conftest import NOW
from .entities import PREFIX, VALUE
from .helpers import advance, stored_days

STATUS = f"sensor.{PREFIX}_data_status"


def clock_issues(hass: HomeAssistant) -> dict[str, dict[str, str] | None]:
    return {
        str(issue.translation_key): issue.translation_placeholders
        for (domain, _), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and str(issue.translation_key).startswith("clock_")
    }


@pytest.mark.parametrize(
    ("home_assistant_off", "key", "minutes"),
    [
        (timedelta(days=-2), "clock_behind", "2880"),
        (timedelta(days=365), "clock_ahead", "525600"),
        (timedelta(minutes=-10), "clock_behind", "10"),
    ],
)
async def test_a_wrong_clock_is_said_and_loses_no_reading(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    home_assistant_off: timedelta,
    key: str,
    minutes: str,
) -> None:
    """A repair names the difference; the 3 days stored stay; right again, all is well."""
    state = await stored_days(hass, config_entry.entry_id, 3)
    held = len(state.history)
    # Share keeps the true time; Home Assistant's clock is off by `home_assistant_off`.
    share.state.clock = lambda: time.time() - home_assistant_off.total_seconds()
    freezer.move_to(NOW + home_assistant_off)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    await advance(hass, freezer, timedelta(minutes=30))
    assert clock_issues(hass) == {key: {"title": config_entry.title, "minutes": minutes}}
    assert len(state.history) >= held
    diagnostics = await async_get_config_entry_diagnostics(hass, config_entry)
    assert diagnostics["share_clock_ahead_s"] == pytest.approx(
        -home_assistant_off.total_seconds(), abs=2
    )

    # The clock is set right (and Home Assistant restarted, as after fixing the host's
    # clock: timers planned by the wrong clock would wait for it): the issue goes, and
    # every reading is still there.
    freezer.move_to(NOW + timedelta(minutes=31))
    share.state.clock = time.time
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await advance(hass, freezer, timedelta(minutes=30))
    assert clock_issues(hass) == {}
    assert len(state.history) >= held


async def test_a_small_difference_is_no_issue(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Within the tolerance (the header's whole seconds, a slow answer): nothing to say."""
    off = CLOCK_TOLERANCE.total_seconds() - 30
    share.state.clock = lambda: time.time() + off
    freezer.move_to(NOW)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    await advance(hass, freezer, timedelta(minutes=10))
    assert clock_issues(hass) == {}


@pytest.mark.parametrize("header", [None, "", "yesterday", "Mon, 99 Foo 2026 25:61:00 GMT"])
def test_a_date_header_that_is_not_a_date_is_ignored(header: str | None) -> None:
    stats = RequestStats()
    stats.record_clock(header)
    assert stats.clock_offset is None
    stats.record_clock("Sat, 21 Nov 2026 12:00:00 GMT")
    assert stats.clock_offset is not None


@pytest.mark.parametrize("off", [timedelta(days=-2), timedelta(days=2)])
async def test_status_with_a_wrong_clock(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    off: timedelta,
) -> None:
    """Share's readings unusable (two days ahead or behind): stale, never waiting."""
    share.state.clock = lambda: time.time() - off.total_seconds()
    freezer.move_to(NOW + off)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    await advance(hass, freezer, timedelta(minutes=30))
    assert hass.states.get(STATUS).state == "stale"
    assert hass.states.get(VALUE).state == "unavailable"
