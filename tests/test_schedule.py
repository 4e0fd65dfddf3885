"""The poll planner on its own: deterministic schedules for each situation."""

from datetime import UTC, datetime, timedelta
import random

import pytest

from custom_components.dexcom_share.schedule import (
    READING_PERIOD,
    PollPlanner,
    PollTuning,
    ReadWindow,
    read_window,
)

T = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
NO_JITTER = PollTuning(jitter=0.0)


def seconds(delta: timedelta) -> float:
    return delta.total_seconds()


def planner(tuning: PollTuning = NO_JITTER) -> PollPlanner:
    return PollPlanner(tuning, random.Random(0))


def polls_until_found(plan: PollPlanner, newest: datetime, upload_delay: float) -> list[float]:
    """Poll as planned until the reading due after `newest` is found.

    It is uploaded `upload_delay` s after it is due; returns the poll times, in
    seconds after it was due.
    """
    due = newest + READING_PERIOD
    now = newest + timedelta(seconds=1)
    times = []
    while True:
        now = plan.next_poll(newest, now)
        times.append(seconds(now - due))
        found = now >= due + timedelta(seconds=upload_delay)
        plan.observe(newest, due if found else newest, now)
        if found:
            return times


def test_on_time_upload_is_read_at_the_learned_delay() -> None:
    """The first poll goes out when the reading is due plus the learned delay."""
    plan = planner()
    assert polls_until_found(plan, T, upload_delay=20) == [25]


def test_late_upload_is_chased_on_a_growing_ladder() -> None:
    """A missed first poll is retried after 10 s, then every 60 s, then 120 s."""
    plan = planner()
    assert polls_until_found(plan, T, upload_delay=200) == [25, 35, 95, 155, 275]


def test_upload_delay_is_learned_from_what_the_account_shows() -> None:
    """An account that always uploads after 60 s soon gets its first poll near 60 s."""
    plan = planner()
    newest = T
    for _ in range(60):
        polls_until_found(plan, newest, upload_delay=60)
        newest += READING_PERIOD
    assert 55 <= plan.upload_delay <= 65
    assert polls_until_found(plan, newest, upload_delay=60)[-1] <= 70


def test_learned_delay_settles_where_the_first_poll_misses_the_chosen_share() -> None:
    """With delays spread 8-35 s the first poll misses about 30 % of readings."""
    plan = planner()
    rng = random.Random(1)
    newest = T
    first_poll_misses = 0
    for index in range(2000):
        polls = polls_until_found(plan, newest, upload_delay=rng.uniform(8, 35))
        newest += READING_PERIOD
        if index >= 500:
            first_poll_misses += len(polls) > 1
    assert first_poll_misses / 1500 == pytest.approx(0.3, abs=0.05)


def test_backlog_after_signal_loss_falls_back_to_one_poll_per_period() -> None:
    """After 20 min without a reading, polls are aligned to the sensor's 5-min phase."""
    plan = planner()
    now = T + timedelta(minutes=20)
    polls = []
    for _ in range(4):
        now = plan.next_poll(T, now)
        polls.append(seconds(now - T))
        plan.observe(T, T, now)
    assert polls == [1225, 1525, 1825, 2125]


def test_no_data_on_share_polls_every_five_minutes() -> None:
    """An account with no readings at all is asked once per 5 minutes."""
    assert planner().next_poll(None, T) == T + timedelta(minutes=5)


def test_share_down_backs_off_with_jitter_and_honours_retry_after() -> None:
    """30 s doubling to 5 min, each wait 50-100 % of that; Retry-After wins when longer."""
    plan = PollPlanner(PollTuning(), random.Random(3))
    waits = [seconds(plan.after_error(T, None) - T) for _ in range(7)]
    ceilings = [30, 60, 120, 240, 300, 300, 300]
    assert all(c / 2 <= w <= c for w, c in zip(waits, ceilings, strict=True))
    assert 901 <= seconds(plan.after_error(T, 900) - T) <= 904
    plan.observe(T, T, T)
    assert plan.consecutive_errors == 0
    assert seconds(plan.after_error(T, None) - T) <= 30


def test_restart_mid_gap_picks_up_the_ladder_where_it_stands() -> None:
    """After a restart 2 minutes into a late upload, the next ladder step is used."""
    plan = planner()
    now = T + READING_PERIOD + timedelta(minutes=2)
    assert seconds(plan.next_poll(T, now) - T - READING_PERIOD) == 155


def test_manual_refresh_does_not_move_the_plan() -> None:
    """A refresh out of turn finds nothing; the next poll is still the planned one."""
    plan = planner()
    planned = plan.next_poll(T, T + timedelta(seconds=30))
    manual = T + timedelta(minutes=2)
    plan.observe(T, T, manual)
    assert plan.next_poll(T, manual) == planned
    assert plan.upload_delay == NO_JITTER.initial_upload_delay


def test_many_accounts_are_spread_by_jitter() -> None:
    """Accounts whose readings are due together do not all poll in the same second."""
    polls = {
        PollPlanner(rng=random.Random(seed)).next_poll(T, T + timedelta(seconds=1)).second
        for seed in range(50)
    }
    assert len(polls) >= 3
    assert min(polls) >= 25


def test_polls_are_never_closer_than_five_seconds() -> None:
    """Even when the plan is already due, the next read waits the minimum spacing."""
    now = T + READING_PERIOD + timedelta(seconds=25)
    assert planner().next_poll(T, now) - now >= timedelta(seconds=5)


@pytest.mark.parametrize(
    ("age", "window"),
    [
        (None, ReadWindow(1440, 288)),
        (timedelta(minutes=5, seconds=25), ReadWindow(16, 5)),
        (timedelta(hours=3), ReadWindow(190, 39)),
        (timedelta(hours=30), ReadWindow(1440, 288)),
        (timedelta(minutes=-1), ReadWindow(10, 3)),
    ],
)
def test_read_window_covers_the_gap(age: timedelta | None, window: ReadWindow) -> None:
    """Start-up reads 24 h; later reads the gap plus 10 minutes, within Share's limits."""
    newest = None if age is None else T - age
    assert read_window(newest, T) == window
