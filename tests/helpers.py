"""Time travel that lets every timer fire at its own moment, as real time would."""

from datetime import datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from homeassistant.util.async_ import get_scheduled_timer_handles
from pytest_homeassistant_custom_component.common import async_fire_time_changed


def next_timer(hass: HomeAssistant) -> datetime | None:
    """Wall-clock time of the earliest pending timer on Home Assistant's loop."""
    now = dt_util.utcnow()
    loop_now = hass.loop.time()
    whens = [
        handle.when() for handle in get_scheduled_timer_handles(hass.loop) if not handle.cancelled()
    ]
    return now + timedelta(seconds=min(whens) - loop_now) if whens else None


async def advance(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    """Move time forward by `delta`, stopping at every timer due on the way.

    Each stop fires the due timers and waits for the background tasks they start
    (the coordinator's refresh is one), so Share is asked at the planned moments and
    the frozen clock never runs ahead of the HTTP calls.
    """
    end = dt_util.utcnow() + delta
    while True:
        now = dt_util.utcnow()
        due = next_timer(hass)
        target = end if due is None else max(now, min(end, due))
        freezer.move_to(target)
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
        if target >= end:
            return
