"""The pacer shared by all entries: at most 3 Share requests a second, and everyone reads.

Home Assistant runs a refresh a little after its moment (its own test helper fires
timers only at whole seconds, up to a second late), early when a plan is recomputed,
or never (an entry that stopped polling). Whatever the timing, no second holds more
than 3 requests and every entry that comes back is let through within a bound.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import heapq
import itertools
import math
import random
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from hypothesis import example, given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.dexcom_share.const import DOMAIN
from custom_components.dexcom_share.coordinator import HELD_BACK_LIMIT
from custom_components.dexcom_share.diagnostics import async_get_config_entry_diagnostics
from custom_components.dexcom_share.glucose.const import STALE_AFTER
from custom_components.dexcom_share.glucose.pacer import PACER_GRACE, SharePacer
from custom_components.dexcom_share.storage import domain_data
from share_simulator import Fault, ShareSimulator
from share_simulator.model import READ, LoggedRequest

from .conftest import NOW, readings_until, served
from .helpers import account_entry, advance, advance_by_seconds, step_whole_second

START = datetime(2026, 11, 21, tzinfo=UTC)
ENTRIES = 20
MAX_LATE = 2.0
"""Seconds a refresh comes back after the moment it aimed at, at most, in the property."""


def at(seconds: float) -> datetime:
    """`seconds` after START."""
    return START + timedelta(seconds=seconds)


def test_an_entry_late_for_its_second_keeps_its_place() -> None:
    """The issue's livelock: late entries used to book again behind each other, forever.

    Two first reads (3 requests each) in one second: the second entry is handed the
    next second, comes back a second late, behind a third entry that asked in the
    meantime; it still goes first.
    """
    pacer = SharePacer()
    assert pacer.admit("a", at(0.1), 3) is None
    assert pacer.admit("b", at(0.2), 3) == at(1)
    assert pacer.admit("c", at(1.1), 3) == at(2)
    # "b" comes back in second 2, a second late: it goes, and "c" waits one more.
    assert pacer.admit("b", at(2.65), 3) is None
    assert pacer.admit("c", at(2.7), 3) == at(3)
    assert pacer.admit("c", at(3.65), 3) is None


def test_entries_always_a_second_late_all_read() -> None:
    """Every refresh one second after the second it was handed: one entry a second."""
    pacer = SharePacer()
    handed = {f"e{index}": pacer.admit(f"e{index}", at(0.1), 3) for index in range(10)}
    assert handed["e0"] is None
    admitted = {"e0": 0.1}
    now = 0.1
    while len(admitted) < 10:
        now += 1
        for entry, second in sorted(handed.items(), key=lambda item: str(item[1])):
            if entry in admitted or second is None or second > at(now):
                continue
            handed[entry] = pacer.admit(entry, at(now), 3)
            if handed[entry] is None:
                admitted[entry] = now
    assert max(admitted.values()) <= 10 + 1


def test_an_entry_that_never_comes_back_holds_nobody_for_long() -> None:
    """A held-back entry that stopped polling gives its place up after the grace."""
    pacer = SharePacer()
    assert pacer.admit("busy", at(0), 3) is None
    assert pacer.admit("gone", at(0), 3) == at(1)
    waited = 0
    while pacer.admit("next", at(1 + waited), 3) is not None:
        waited += 1
    assert waited == PACER_GRACE + 1


def test_release_gives_the_place_back() -> None:
    """An entry unloaded while held back leaves its second to others."""
    pacer = SharePacer()
    assert pacer.admit("busy", at(0), 3) is None
    assert pacer.admit("gone", at(0), 3) == at(1)
    assert pacer.admit("next", at(0), 3) == at(2)
    pacer.release("gone")
    assert pacer.admit("next", at(1), 3) is None


def test_requests_sent_without_asking_are_counted() -> None:
    """A read held back too long goes anyway: its requests still count for the others."""
    pacer = SharePacer()
    assert pacer.admit("late", at(0), 3) is None
    assert pacer.admit("held", at(0), 3) == at(1)
    pacer.charge("held", at(1.2), 3)
    assert pacer.admit("next", at(1.5), 1) == at(2)


def test_a_clock_set_back_does_not_hold_anyone() -> None:
    """Seconds counted before the clock went back an hour block nothing after it."""
    pacer = SharePacer()
    for index in range(5):
        pacer.admit(f"e{index}", at(3600), 3)
    # Everyone still in line keeps their place, from the new now.
    assert pacer.admit("e1", at(1), 3) is None
    assert pacer.admit("e2", at(1.5), 3) == at(2)
    assert pacer.admit("e2", at(2), 3) is None


@dataclass
class SimulatedEntry:
    """One entry's behaviour: what it asks for and when it comes back."""

    first_ask: float
    requests: int
    expires: bool
    """Its session expires on this read: it asks again at once, for the login."""
    vanishes_after: int | None
    """After this many times held back, it stops polling (None: never)."""
    late: float
    """Seconds its refreshes come back after their moment (a busy loop: the same each time)."""


entries = st.lists(
    st.builds(
        SimulatedEntry,
        first_ask=st.one_of(st.just(0.0), st.floats(0, 10)),
        requests=st.sampled_from((1, 2, 3)),
        expires=st.booleans(),
        vanishes_after=st.one_of(st.none(), st.integers(0, 3)),
        late=st.floats(-0.5, MAX_LATE),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(
    entries,
    st.floats(0.05, 0.5),
    st.randoms(use_true_random=False),
)
# The livelock: first reads together, every refresh in the second after its own.
@example([SimulatedEntry(0.0, 3, False, None, 0.9)] * 3, 0.45, random.Random(0))
@example([SimulatedEntry(0.0, 3, False, None, 0.7)] * 20, 0.31, random.Random(0))
def test_every_entry_reads_and_no_second_holds_more_than_three(
    simulated: list[SimulatedEntry], offset: float, rng: random.Random
) -> None:
    """Entries coming back early, late or never: at most 3 a second; all others read.

    Each comes back at its handed second plus Home Assistant's sub-second offset, and
    from half a second early to `MAX_LATE` late. An entry whose session expired asks
    again at once for its login and read (2 requests). An entry that keeps coming back
    goes through within the line's own length in seconds, each entry ahead counting
    for once its lateness, plus the grace of those that vanished.
    """
    pacer = SharePacer()
    sent: Counter[int] = Counter()
    # (when it asks, entry, asking for the login after an expired session, times held back)
    queue = [(entry.first_ask, index, False, 0) for index, entry in enumerate(simulated)]
    heapq.heapify(queue)
    admitted: dict[int, float] = {}
    vanished = sum(1 for entry in simulated if entry.vanishes_after is not None)
    bound = max(e.first_ask for e in simulated) + (len(simulated) + 1) * (MAX_LATE + 2.1)
    bound += vanished * (PACER_GRACE + 1)
    while queue and queue[0][0] <= bound:
        now, index, relogin, deferrals = heapq.heappop(queue)
        entry = simulated[index]
        requests = 2 if relogin else entry.requests
        later = pacer.admit(str(index), at(now), requests)
        if later is None:
            # The second of the moment as Home Assistant's clock gives it (microseconds).
            sent[math.floor(at(now).timestamp())] += requests
            if entry.expires and not relogin:
                heapq.heappush(queue, (now, index, True, deferrals))
            else:
                admitted[index] = now
            continue
        assert later > at(now)
        assert later.timestamp() % 1 == 0
        if entry.vanishes_after is not None and deferrals >= entry.vanishes_after:
            continue
        jitter = rng.uniform(-0.1, 0.1)
        back = (later - START).total_seconds() + offset + entry.late + jitter
        # A refresh comes back after the one before it, however early for its second.
        heapq.heappush(queue, (max(now + 0.05, back), index, relogin, deferrals + 1))
    assert max(sent.values(), default=0) <= 3
    for index, entry in enumerate(simulated):
        if entry.vanishes_after is None:
            assert index in admitted
            assert admitted[index] <= bound


def add_entries(hass: HomeAssistant, share: ShareSimulator, count: int) -> list[MockConfigEntry]:
    """`count` accounts whose sensors read every 5 minutes, each with its own entry.

    Each entry's unique ID is its account's ID.
    """
    return [
        account_entry(
            hass,
            share,
            f"sharer{index}@example.com",
            served(
                readings_until(
                    NOW + timedelta(hours=4) - timedelta(seconds=13 * index),
                    [100 + index] * (12 * 28),
                )
            ),
        )[1]
        for index in range(count)
    ]


def reads_per_account(share: ShareSimulator) -> dict[str, list[float]]:
    """When each account was read, from the simulator's log."""
    with share.state.lock:
        owners = {key: session.account_id for key, session in share.state.sessions.items()}
        log: list[LoggedRequest] = list(share.state.log)
    reads: dict[str, list[float]] = {}
    for logged in log:
        if logged.endpoint == READ:
            session = next(v for k, v in logged.params.items() if k.lower() == "sessionid")
            reads.setdefault(owners[session], []).append(logged.time)
    return reads


# Two hours of 20 entries in whole seconds take some 45 s of CPU: the per-test guard
# against hangs is raised for it (a slow machine is no failure of the pacer).
@pytest.mark.timeout(240)
@pytest.mark.parametrize(("count", "offset_us"), [(3, 450_000), (3, 310_000), (ENTRIES, 450_000)])
async def test_entries_keep_reading_when_every_refresh_runs_late(
    hass: HomeAssistant,
    share: ShareSimulator,
    freezer: FrozenDateTimeFactory,
    count: int,
    offset_us: int,
) -> None:
    """Time in whole seconds (as Home Assistant's helper fires timers), a late offset.

    Every entry reads within 60 s of setup and keeps reading: no read more than the
    reading period and `HELD_BACK_LIMIT` after the one before, and every reading
    shown; never more than 3 requests in a second.
    """
    freezer.move_to(NOW)
    entries = add_entries(hass, share, count)
    with patch("homeassistant.helpers.update_coordinator.randint", return_value=offset_us):
        assert await async_setup_component(hass, DOMAIN, {})
        await hass.async_block_till_done(wait_background_tasks=True)
    await advance_by_seconds(hass, freezer, timedelta(seconds=60))
    assert all(entry.runtime_data.data.readings for entry in entries)
    await advance_by_seconds(hass, freezer, timedelta(hours=2))
    reads = reads_per_account(share)
    assert len(reads) == count
    slack = (timedelta(minutes=5) + HELD_BACK_LIMIT).total_seconds()
    for times in reads.values():
        assert times[0] <= NOW.timestamp() + 60
        assert max(b - a for a, b in itertools.pairwise(times)) <= slack
        assert times[-1] >= NOW.timestamp() + 2 * 3600 - slack
    # Every reading Share had two minutes before the end is shown.
    before = (dt_util.utcnow() - timedelta(minutes=2)).timestamp()
    for entry in entries:
        account = share.state.accounts[str(entry.unique_id)]
        available = max(r.time for r in account.readings if r.visible_from <= before)
        assert entry.runtime_data.data.readings[0].time.timestamp() >= available
        assert entry.runtime_data.errors["held_back"] == 0
    per_second = Counter(int(logged.time) for logged in share.state.log)
    assert max(per_second.values()) <= 3


async def test_an_entry_held_back_too_long_reads_anyway(
    hass: HomeAssistant,
    share: ShareSimulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A pacer that never lets the entry through: it reads after the limit, and says so."""
    freezer.move_to(NOW)
    (entry,) = add_entries(hass, share, 1)
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done(wait_background_tasks=True)
    assert share.state.request_count(READ) == 1
    pacer = domain_data(hass).pacer
    with patch.object(pacer, "admit", side_effect=lambda _, now, __: now + timedelta(seconds=1)):
        await advance(hass, freezer, timedelta(minutes=10))
    assert entry.runtime_data.errors["held_back"] >= 1
    assert "held back" in caplog.text
    # At most one read planned + the limit apart, while the pacer refused them all.
    reads = reads_per_account(share)
    (times,) = reads.values()
    slack = (timedelta(minutes=5) + HELD_BACK_LIMIT + timedelta(seconds=5)).total_seconds()
    assert max(b - a for a, b in itertools.pairwise(times)) <= slack
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["errors"]["held_back"]["count"] == entry.runtime_data.errors["held_back"]


async def test_twenty_entries_starting_together_stay_within_three_a_second(
    hass: HomeAssistant, share: ShareSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """All entries set up at once log in and read one after another, 3 requests a second.

    Each shows its reading within a minute; later polls keep the limit too, and an
    entry held back unloads at once.
    """
    freezer.move_to(NOW)
    entries = add_entries(hass, share, ENTRIES)
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done(wait_background_tasks=True)
    assert all(entry.state is ConfigEntryState.LOADED for entry in entries)
    await advance(hass, freezer, timedelta(minutes=1))
    assert len(reads_per_account(share)) == ENTRIES
    assert all(entry.runtime_data.data.current is not None for entry in entries)
    await advance(hass, freezer, timedelta(minutes=10))
    per_second = Counter(int(logged.time) for logged in share.state.log)
    assert max(per_second.values()) <= 3
    assert share.state.request_count(READ) > ENTRIES

    # Fill the coming seconds, so that the next entry to poll is held back; unload it.
    pacer = domain_data(hass).pacer
    now = NOW + timedelta(minutes=11)
    for second in range(40):
        pacer.admit(f"other{second}", now, 3)
    reads = share.state.request_count(READ)
    await advance(hass, freezer, timedelta(seconds=30))
    assert share.state.request_count(READ) == reads
    for entry in entries:
        assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert all(entry.state is ConfigEntryState.NOT_LOADED for entry in entries)


@pytest.mark.timeout(240)
async def test_a_restart_into_429s_leaves_no_current_value_unavailable(
    hass: HomeAssistant, share: ShareSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """20 entries restart while Share answers 429 with Retry-After 30 s (issue 26).

    In whole seconds, for 40 minutes after the restart: no glucose value of any entry
    is unavailable while the newest reading its coordinator published is under 15
    minutes old, and every entry shows a current value again.
    """
    freezer.move_to(NOW)
    entries = add_entries(hass, share, ENTRIES)
    with patch("homeassistant.helpers.update_coordinator.randint", return_value=450_000):
        assert await async_setup_component(hass, DOMAIN, {})
        await hass.async_block_till_done(wait_background_tasks=True)
        await advance_by_seconds(hass, freezer, timedelta(minutes=10))
        for entry in entries:
            assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        domain_data(hass).pacer = SharePacer()
        share.state.expire_sessions()
        await advance_by_seconds(hass, freezer, timedelta(minutes=3))
        share.state.add_fault(Fault("empty", status=429, retry_after="30", times=80))
        for entry in entries:
            assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
        registry = er.async_get(hass)
        values = {
            entry.entry_id: next(
                item.entity_id
                for item in er.async_entries_for_config_entry(registry, entry.entry_id)
                if str(item.unique_id).endswith("_glucose_value")
            )
            for entry in entries
        }
        end = dt_util.utcnow() + timedelta(minutes=40)
        wrongly_unavailable = []
        while dt_util.utcnow() < end:
            await step_whole_second(hass, freezer, end)
            now = dt_util.utcnow()
            for entry in entries:
                newest = entry.runtime_data.data.newest
                state = hass.states.get(values[entry.entry_id])
                assert state is not None
                if newest and now - newest.time < STALE_AFTER and state.state == "unavailable":
                    wrongly_unavailable.append((now, entry.title))
    assert not share.state.faults, "the 429s were all served"
    assert not wrongly_unavailable, wrongly_unavailable[:5]
    assert all(hass.states.get(value).state != "unavailable" for value in values.values())
