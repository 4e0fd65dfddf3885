"""The pacer shared by all entries: never more than 3 Share requests in one second."""

from collections import Counter
from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from hypothesis import given, settings, strategies as st
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.dexcom_share.const import CONF_REGION, DOMAIN
from custom_components.dexcom_share.coordinator import PACER
from custom_components.dexcom_share.schedule import SharePacer
from share_simulator import ShareSimulator
from share_simulator.model import READ

from .conftest import NOW, PASSWORD, readings_until
from .helpers import advance

START = datetime(2026, 11, 21, tzinfo=UTC)
ENTRIES = 20

asks = st.lists(
    st.tuples(
        st.integers(0, 7),  # entry
        st.floats(0, 3, allow_nan=False),  # seconds after the previous ask
        st.sampled_from((1, 3)),  # requests
        st.floats(0, 0.999),  # where in its booked second the entry comes back
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(asks)
def test_no_second_holds_more_than_three(steps: list[tuple[int, float, int, float]]) -> None:
    """Entries asking at any moments, coming back when told: at most 3 per second.

    Every entry held back is given a later second and is let through when it comes
    back within it, so none waits for ever.
    """
    pacer = SharePacer()
    sent: Counter[int] = Counter()
    now = START
    for entry, gap, requests, within in steps:
        now += timedelta(seconds=gap)
        later = pacer.admit(str(entry), now, requests)
        if later is not None:
            assert later > now
            assert later.timestamp() % 1 == 0
            back = later + timedelta(seconds=within)
            assert pacer.admit(str(entry), back, requests) is None
            sent[int(back.timestamp())] += requests
            now = max(now, back)
        else:
            sent[int(now.timestamp())] += requests
    assert max(sent.values(), default=0) <= 3


@given(st.integers(1, 3), st.integers(1, 5))
def test_release_gives_the_booked_second_back(requests: int, full: int) -> None:
    """An entry unloaded while held back leaves its second to others."""
    pacer = SharePacer()
    for index in range(full):
        pacer.admit(f"busy{index}", START, 3)
    booked = pacer.admit("gone", START, 3)
    assert booked == START + timedelta(seconds=full)
    pacer.release("gone")
    assert pacer.admit("next", START, requests) == booked


async def test_twenty_entries_starting_together_stay_within_three_a_second(
    hass: HomeAssistant, share: ShareSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """All entries set up at once log in and read one after another, 3 requests a second.

    Each shows its reading within a minute; later polls keep the limit too, and an
    entry held back unloads at once.
    """
    freezer.move_to(NOW)
    entries = []
    for index in range(ENTRIES):
        username = f"sharer{index}@example.com"
        share.state.add_account(
            username=username,
            password=PASSWORD,
            readings=readings_until(NOW - timedelta(minutes=1), [100 + index] * 12),
        )
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=username,
            unique_id=username,
            data={"username": username, "password": PASSWORD, CONF_REGION: "us"},
        )
        entry.add_to_hass(hass)
        entries.append(entry)
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done(wait_background_tasks=True)
    assert all(entry.state is ConfigEntryState.LOADED for entry in entries)
    await advance(hass, freezer, timedelta(minutes=1))
    assert share.state.request_count(READ) == ENTRIES
    assert all(entry.runtime_data.data.current is not None for entry in entries)
    await advance(hass, freezer, timedelta(minutes=10))
    per_second = Counter(int(logged.time) for logged in share.state.log)
    assert max(per_second.values()) <= 3
    assert share.state.request_count(READ) > ENTRIES

    # Fill the coming seconds, so that the next entry to poll is held back; unload it.
    pacer = hass.data[PACER]
    for second in range(120):
        pacer.admit(f"other{second}", NOW + timedelta(minutes=11, seconds=second), 3)
    reads = share.state.request_count(READ)
    await advance(hass, freezer, timedelta(minutes=1))
    assert share.state.request_count(READ) == reads
    for entry in entries:
        assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert all(entry.state is ConfigEntryState.NOT_LOADED for entry in entries)
