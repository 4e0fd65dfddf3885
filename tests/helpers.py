"""Test helpers: time travel (every timer at its own moment, or in whole seconds), forms, stored readings."""

from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigFlowResult as FlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import event, issue_registry as ir
from homeassistant.util import dt as dt_util
from homeassistant.util.async_ import get_scheduled_timer_handles
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_fire_time_changed_exact,
)

from custom_components.dexcom_share.const import CONF_REGION, DOMAIN
from custom_components.dexcom_share.glucose.history import ReadingHistory
from custom_components.dexcom_share.glucose.models import GlucoseReading, Trend
from custom_components.dexcom_share.storage import EntryState, async_entry_state
from share_simulator import Account, Reading, ShareSimulator

from .conftest import NOW, PASSWORD, readings_until

TICK = timedelta(milliseconds=1)


def next_timer(hass: HomeAssistant) -> datetime | None:
    """Wall-clock time of the earliest pending timer on Home Assistant's loop."""
    loop_now = hass.loop.time()
    whens = [
        handle.when() for handle in get_scheduled_timer_handles(hass.loop) if not handle.cancelled()
    ]
    return dt_util.utcnow() + timedelta(seconds=min(whens) - loop_now) if whens else None


async def step(hass: HomeAssistant, freezer: FrozenDateTimeFactory, until: datetime) -> None:
    """Jump to the next pending timer (or to `until`, if sooner), fire it and wait.

    Waiting includes the background tasks the timers start (the coordinator's
    refresh is one), so the frozen clock never runs ahead of the HTTP calls.
    """
    due = next_timer(hass)
    # A millisecond past the timer, so that float rounding can never leave it unfired.
    target = until if due is None else max(dt_util.utcnow(), min(until, due + TICK))
    freezer.move_to(target)
    # Exact: the clock the entities read and the one the timers see must agree.
    async_fire_time_changed_exact(hass, target)
    await hass.async_block_till_done(wait_background_tasks=True)


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    """Move time forward by `delta`, stopping at every timer due on the way."""
    end = dt_util.utcnow() + delta
    while dt_util.utcnow() < end:
        await step(hass, freezer, end)


async def step_whole_second(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, until: datetime
) -> None:
    """Jump to the next whole second at which a timer fires (or to `until`) and wait.

    Fires as Home Assistant's own `async_fire_time_changed` does: every timer due
    within half a second of the whole second given, so a timer runs up to a second
    after its moment (rarely at it), as on a busy event loop. Seconds in which no
    timer fires are skipped: the same as stepping through each of them.
    """
    now = dt_util.utcnow()
    second = now.replace(microsecond=0) + timedelta(seconds=1)
    if (due := next_timer(hass)) is not None:
        firing = due.replace(microsecond=0)
        if due.microsecond > event.RANDOM_MICROSECOND_MAX:
            firing += timedelta(seconds=1)
        second = max(second, firing)
    second = min(second, until)
    freezer.move_to(second)
    async_fire_time_changed(hass, second)
    await hass.async_block_till_done(wait_background_tasks=True)


async def advance_by_seconds(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    """Move time forward by `delta` in whole seconds (`step_whole_second`)."""
    end = dt_util.utcnow() + delta
    while dt_util.utcnow() < end:
        await step_whole_second(hass, freezer, end)


def form_defaults(result: FlowResult) -> dict[str, Any]:
    """What a form shows before the user changes anything (fields without a default left out)."""
    return {
        marker.schema: marker.default()
        for marker in result["data_schema"].schema
        if callable(marker.default)
    }


async def finish_options(hass: HomeAssistant, result: FlowResult) -> FlowResult:
    """Answer the alerts step, if the flow has come to it, with what it shows."""
    if result["type"] is FlowResultType.FORM and result["step_id"] == "alerts":
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], form_defaults(result)
        )
    await hass.async_block_till_done()
    return result


async def stored_days(hass: HomeAssistant, entry_id: str, days: int) -> EntryState:
    """The entry's state, its history holding `days` days of readings up to a minute ago."""
    stored = readings_until(NOW - timedelta(minutes=1), [120] * (days * 288))
    state = await async_entry_state(hass, entry_id)
    state.history, _ = ReadingHistory().merged(
        [
            GlucoseReading(datetime.fromtimestamp(r.time, UTC), int(r.value), Trend.STEADY)
            for r in stored
        ],
        NOW - timedelta(minutes=1),
    )
    return state


def account_entry(
    hass: HomeAssistant, share: ShareSimulator, username: str, readings: list[Reading]
) -> tuple[Account, MockConfigEntry]:
    """A new Share account with `readings` and its entry, added but not set up."""
    account = share.state.add_account(username=username, password=PASSWORD, readings=readings)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=username,
        unique_id=account.account_id,
        data={"username": username, "password": PASSWORD, CONF_REGION: "us"},
    )
    entry.add_to_hass(hass)
    return account, entry


def repair_issues(hass: HomeAssistant) -> set[str]:
    """The translation keys of this integration's open repair issues."""
    return {
        issue.translation_key or issue_id
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN
    }


async def restart(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload, forget everything in memory, set up again (a Home Assistant restart)."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    for key in [key for key in hass.data if str(key).startswith(DOMAIN)]:
        del hass.data[key]
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


async def set_options(
    hass: HomeAssistant, entry: MockConfigEntry, first: dict[str, Any], second: dict[str, Any]
) -> dict[str, Any]:
    """Both option steps; `second` overrides the thresholds shown."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], first)
    if result["type"] is not FlowResultType.FORM or result["step_id"] != "thresholds":
        return result
    shown = {marker.schema: marker.default() for marker in result["data_schema"].schema}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**shown, **second}
    )
    return await finish_options(hass, result)
