"""Time travel that lets every timer fire at its own moment, as real time would."""

from datetime import datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from homeassistant.util.async_ import get_scheduled_timer_handles
from pytest_homeassistant_custom_component.common import async_fire_time_changed_exact

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
