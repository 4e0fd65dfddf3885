"""Readings stamped off Home Assistant's clock are shown as soon as unskewed ones.

Share and the phone keep one clock and Home Assistant another: seen from Home
Assistant, each reading is stamped `skew` seconds after it was taken (before it,
for a negative skew) and reaches Share 20 s after it was taken. The simulator's
clock runs `skew` seconds ahead of Home Assistant's: like Share, it serves nothing
stamped after its own now. (A phone set fast and a Share that served its stamps at
once would look the same to the integration.)
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
import statistics
import time
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest

from custom_components.dexcom_share.const import DOMAIN
from share_simulator import ShareSimulator
from share_simulator.model import READ

from .conftest import NOW, readings_until, served
from .helpers import account_entry, step

RUN = timedelta(hours=3)
UPLOAD = 20.0
"""Seconds after it was taken that Share serves each reading (`served`)."""
UNSKEWED_SLACK = 15.0
"""Seconds the median lag may exceed that of the same account without skew."""


@dataclass(frozen=True)
class Followed:
    """How an entry followed its account for a run."""

    median_lag: float
    """Seconds from Share serving a reading to the integration holding it."""
    reads: int


def share_clock(skew: float) -> Callable[[], float]:
    """The simulator's clock: Home Assistant's (frozen) one, `skew` seconds ahead."""
    return lambda: time.time() + skew


async def follow(
    hass: HomeAssistant,
    share: ShareSimulator,
    freezer: FrozenDateTimeFactory,
    skew: float,
    newest_age: timedelta,
) -> Followed:
    """Set up a new account's entry and follow it for three hours, from now.

    The account's newest reading was taken `newest_age` before the entry's first
    read. Readings Share serves in the last 10 minutes are not judged.
    """
    start = dt_util.utcnow()
    share.state.clock = share_clock(skew)
    reads_before = share.state.request_count(READ)
    username = f"skew{skew:+.0f}-{newest_age.seconds}@example.com"
    newest = start + timedelta(seconds=skew) + RUN - newest_age
    account, entry = account_entry(
        hass, share, username, served(readings_until(newest, [120] * (12 * 27)))
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    # When Home Assistant first held each reading as its newest, by the reading's stamp.
    held: dict[float, float] = {}
    end = start + RUN
    while (now := dt_util.utcnow()) < end:
        held.setdefault(entry.runtime_data.data.readings[0].time.timestamp(), now.timestamp())
        await step(hass, freezer, end)
    assert await hass.config_entries.async_unload(entry.entry_id)
    # Each reading was served UPLOAD s after it was taken: `skew` s before its stamp.
    judged_until = (end - timedelta(minutes=10)).timestamp()
    lags = [
        held[reading.time] - served_at
        for reading in account.readings
        if start.timestamp() < (served_at := reading.time + UPLOAD - skew) < judged_until
    ]
    assert len(lags) >= 33
    return Followed(statistics.median(lags), share.state.request_count(READ) - reads_before)


@pytest.mark.parametrize(
    "newest_age",
    [
        pytest.param(timedelta(minutes=1), id="found_before_its_stamp_at_setup"),
        pytest.param(timedelta(minutes=4), id="found_after_its_stamp_at_setup"),
    ],
)
@pytest.mark.parametrize("skew", [180, -400])
async def test_readings_stamped_off_are_shown_as_fast_as_unskewed_ones(
    hass: HomeAssistant,
    share: ShareSimulator,
    freezer: FrozenDateTimeFactory,
    skew: float,
    newest_age: timedelta,
) -> None:
    """Stamps 3 minutes ahead or 400 s behind: the median lag within 15 s of unskewed.

    Planned from the stamps as they are, readings were shown some 165 s (ahead) or
    184 s (behind) late. Stamped ahead, the newest reading at setup, taken a minute
    before, is found before its stamp; taken 4 minutes before, after it (and only a
    look before the stamps shows them ahead). The reads stay within a third more.
    """
    freezer.move_to(NOW)
    # Refreshes at a fixed offset within their second: the same polls on every run.
    with patch("homeassistant.helpers.update_coordinator.randint", return_value=450_000):
        assert await async_setup_component(hass, DOMAIN, {})
        unskewed = await follow(hass, share, freezer, 0, newest_age)
        skewed = await follow(hass, share, freezer, skew, newest_age)
    assert unskewed.median_lag <= 15
    assert skewed.median_lag <= unskewed.median_lag + UNSKEWED_SLACK
    assert skewed.reads <= unskewed.reads * 4 / 3
