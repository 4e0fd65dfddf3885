"""The sensor session: start and expiry, a signal loss that is not a change, the button, the repair."""

from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.const import (
    ATTR_ENTITY_ID,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.dexcom_share.const import DOMAIN
from share_simulator import Account, Fault, ShareSimulator
from share_simulator.model import READ

from .conftest import ACCOUNT_ID, EMAIL, NOW, PASSWORD, PHONE, USERNAME, readings_until, served
from .entities import PREFIX, TIME_IN_RANGE, VALUE
from .helpers import advance, restart
from .seed import every_five_minutes, store_history, store_sensor_started

STARTED = f"sensor.{PREFIX}_sensor_started"
EXPIRES = f"sensor.{PREFIX}_sensor_expires"
EXPIRING_SOON = f"binary_sensor.{PREFIX}_sensor_expiring_soon"
REPLACED = f"button.{PREFIX}_sensor_replaced"
G7_WARM_UP = timedelta(minutes=30)
G7_LIFETIME = timedelta(days=10, hours=12)
# Share's readings are taken at NOW - 1 min, NOW - 6 min, ...: the sensor's phase.
FIRST_NEW = NOW - timedelta(days=3, minutes=1)
"""The new sensor's first reading, three days ago: 45 minutes after the old one's last."""
DETECTED_START = FIRST_NEW - G7_WARM_UP


def shown_time(hass: HomeAssistant, entity_id: str) -> datetime | None:
    state = hass.states.get(entity_id).state
    return None if state == STATE_UNKNOWN else datetime.fromisoformat(state)


def expiry_issue(hass: HomeAssistant, entry_id: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"sensor_expires_soon_{entry_id}")


@pytest.fixture
async def changed_sensor(
    hass: HomeAssistant,
    account: Account,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> MockConfigEntry:
    """Stored history: the old sensor until 45 minutes before FIRST_NEW, then the new one."""
    old = every_five_minutes(FIRST_NEW - timedelta(days=6), FIRST_NEW - timedelta(minutes=45))
    new = every_five_minutes(FIRST_NEW, NOW - timedelta(days=1, minutes=6))
    store_history(hass_storage, config_entry.entry_id, [*old, *new], NOW)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry


@pytest.mark.usefixtures("changed_sensor")
async def test_start_and_expiry_from_the_history(hass: HomeAssistant) -> None:
    """The warm-up hole in the stored history gives the start; the G7's lifetime the expiry."""
    assert shown_time(hass, STARTED) == DETECTED_START
    assert hass.states.get(STARTED).attributes["manual"] is False
    assert shown_time(hass, EXPIRES) == DETECTED_START + G7_LIFETIME
    assert hass.states.get(EXPIRING_SOON).state == STATE_OFF


async def test_backfilled_signal_loss_is_no_sensor_change(
    hass: HomeAssistant,
    account: Account,
    changed_sensor: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A 45-minute loss whose readings the phone uploads late keeps the session."""
    # Readings from NOW + 4 min to NOW + 39 min arrive only at NOW + 47 min, after the
    # first one after the loss (NOW + 44 min) has shown the hole.
    account.add_readings(
        served(
            readings_until(NOW + timedelta(minutes=39), [90] * 8),
            at=NOW + timedelta(minutes=47),
        )
    )
    account.add_readings(served(readings_until(NOW + timedelta(hours=2, minutes=4), [95] * 17)))
    await advance(hass, freezer, timedelta(minutes=45))
    assert changed_sensor.runtime_data.data.newest.time == NOW + timedelta(minutes=44)
    await advance(hass, freezer, timedelta(hours=1, minutes=25))
    # Every reading of the loss arrived, and the start is still the old sensor's.
    held = changed_sensor.runtime_data.state.history.since(NOW)
    assert len(held) == 8 + 17
    assert shown_time(hass, STARTED) == DETECTED_START


async def test_sensor_change_seen_after_an_hour_of_readings(
    hass: HomeAssistant,
    account: Account,
    changed_sensor: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """No readings for 45 minutes, never filled: a new sensor, once an hour of readings followed."""
    account.add_readings(served(readings_until(NOW + timedelta(hours=2, minutes=4), [95] * 17)))
    await advance(hass, freezer, timedelta(minutes=44 + 55))
    assert shown_time(hass, STARTED) == DETECTED_START
    await advance(hass, freezer, timedelta(minutes=10))
    new_start = NOW + timedelta(minutes=44) - G7_WARM_UP
    assert shown_time(hass, STARTED) == new_start
    assert shown_time(hass, EXPIRES) == new_start + G7_LIFETIME


async def test_sensor_replaced_survives_a_restart(
    hass: HomeAssistant, init_integration: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The press sets the start to now, marks it as the user's, and is kept."""
    assert shown_time(hass, STARTED) is None
    assert shown_time(hass, EXPIRES) is None
    assert hass.states.get(EXPIRING_SOON).state == STATE_UNKNOWN
    await advance(hass, freezer, timedelta(minutes=7))
    pressed = NOW + timedelta(minutes=7)
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: REPLACED}, blocking=True
    )
    for _ in range(2):
        assert shown_time(hass, STARTED) == pressed
        assert hass.states.get(STARTED).attributes["manual"] is True
        assert shown_time(hass, EXPIRES) == pressed + G7_LIFETIME
        assert hass.states.get(EXPIRING_SOON).state == STATE_OFF
        await restart(hass, init_integration)


@pytest.mark.parametrize(
    ("expires_in", "before", "after"),
    [
        # Turns on (with the repair issue) 24 hours before expiry...
        (timedelta(hours=24, minutes=10), (STATE_OFF, False), (STATE_ON, True)),
        # ...and stays on at expiry, when the issue goes away.
        (timedelta(minutes=10), (STATE_ON, True), (STATE_ON, False)),
    ],
)
async def test_expiring_soon_and_the_repair_issue(
    hass: HomeAssistant,
    account: Account,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    expires_in: timedelta,
    before: tuple[str, bool],
    after: tuple[str, bool],
) -> None:
    """The binary sensor and the issue change exactly at their moments, without a poll."""
    expires = NOW + expires_in
    store_sensor_started(hass_storage, config_entry.entry_id, expires - G7_LIFETIME)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert shown_time(hass, EXPIRES) == expires

    await advance(hass, freezer, timedelta(minutes=9, seconds=59))
    assert hass.states.get(EXPIRING_SOON).state == before[0]
    assert (expiry_issue(hass, config_entry.entry_id) is not None) == before[1]
    await advance(hass, freezer, timedelta(seconds=2))
    assert hass.states.get(EXPIRING_SOON).state == after[0]
    issue = expiry_issue(hass, config_entry.entry_id)
    assert (issue is not None) == after[1]
    if issue is not None:
        # 12:10 UTC on Sunday 22 November is 04:10 in the tests' US/Pacific.
        assert issue.translation_placeholders == {
            "title": "jane.sharer",
            "expires": "2026-11-22 04:10",
        }


@pytest.mark.usefixtures("account")
async def test_a_day_away_is_no_sensor_change(
    hass: HomeAssistant, config_entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Home Assistant off for 30 hours, the same sensor throughout: no session made up.

    Not from the readings Share no longer holds, then or after a restart.
    """
    away = NOW - timedelta(hours=30)
    store_history(
        hass_storage,
        config_entry.entry_id,
        every_five_minutes(away - timedelta(days=5), away),
        away,
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert len(config_entry.runtime_data.state.history.unwatched) == 1
    assert hass.states.get(STARTED).state == STATE_UNKNOWN

    await restart(hass, config_entry)
    assert len(config_entry.runtime_data.state.history.unwatched) == 1
    assert hass.states.get(STARTED).state == STATE_UNKNOWN


async def test_report_and_session_stay_available_without_readings_from_share(
    hass: HomeAssistant,
    share: ShareSimulator,
    frozen_now: datetime,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Nothing on Share for 25 hours: the report and the session stay available.

    The current reading and the 24-hour figures do not; the report and the session come
    from the local history and the user's press.
    """
    share.state.add_account(
        username=USERNAME,
        email=EMAIL,
        phone=PHONE,
        password=PASSWORD,
        account_id=ACCOUNT_ID,
        readings=[],
    )
    last = frozen_now - timedelta(hours=25)
    store_history(
        hass_storage,
        config_entry.entry_id,
        every_five_minutes(last - timedelta(days=13), last),
        last,
    )
    store_sensor_started(hass_storage, config_entry.entry_id, frozen_now - timedelta(days=3))
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    assert hass.states.get(VALUE).state == STATE_UNAVAILABLE
    assert hass.states.get(TIME_IN_RANGE).state == STATE_UNAVAILABLE
    assert hass.states.get(f"sensor.{PREFIX}_report_time_in_range").state == "100.0"
    assert shown_time(hass, STARTED) == frozen_now - timedelta(days=3)
    assert shown_time(hass, EXPIRES) == frozen_now - timedelta(days=3) + G7_LIFETIME
    assert config_entry.runtime_data.state.history_store._private


@pytest.mark.parametrize("share_fails", [False, True])
async def test_expiry_issue_raised_at_start_up_whatever_share_does(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    share_fails: bool,
) -> None:
    """A sensor expiring in 12 h: the issue is there after a restart, also while Share fails."""
    store_sensor_started(
        hass_storage, config_entry.entry_id, NOW + timedelta(hours=12) - G7_LIFETIME
    )
    if share_fails:
        share.state.add_fault(Fault("html", endpoint=READ, status=502, times=None))
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.runtime_data.data.session is not None
    assert expiry_issue(hass, config_entry.entry_id) is not None
