"""Hourly statistics imported from Share's readings: no hole after an outage, idempotent."""

from datetime import datetime, timedelta
import statistics as stats
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder, get_instance
from homeassistant.components.recorder.history import get_significant_states
from homeassistant.components.recorder.statistics import (
    list_statistic_ids,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.dexcom_share.statistics import statistic_id
from share_simulator import Account, ShareSimulator

from .conftest import NOW, readings_until
from .entities import PREFIX
from .helpers import advance


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder must start before Home Assistant loads custom integrations."""


async def hourly(hass: HomeAssistant, entry: MockConfigEntry) -> dict[datetime, dict[str, Any]]:
    """The imported hours, by start."""
    await async_wait_recording_done(hass)
    sid = statistic_id(entry.entry_id)
    rows = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        NOW - timedelta(days=2),
        None,
        {sid},
        "hour",
        None,
        {"mean", "min", "max"},
    )
    return {datetime.fromtimestamp(row["start"], NOW.tzinfo): row for row in rows.get(sid, [])}


def expected(account: Account, hour: datetime) -> dict[str, float]:
    values = [
        r.value
        for r in account.readings
        if hour.timestamp() <= r.time < (hour + timedelta(hours=1)).timestamp()
    ]
    return {"mean": stats.fmean(values), "min": min(values), "max": max(values)}


async def test_history_imported_with_true_timestamps(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Start-up imports Share's complete hours; an outage is filled in afterwards."""
    rows = await hourly(hass, init_integration)
    # 24 hours held; the oldest hour is partial and left out.
    assert len(rows) == 23
    assert min(rows) == NOW - timedelta(hours=23)
    assert max(rows) == NOW - timedelta(hours=1)
    hour = NOW - timedelta(hours=5)
    assert {key: rows[hour][key] for key in ("mean", "min", "max")} == expected(account, hour)

    # Readings keep coming while Share is unreachable for 3 hours.
    # Every 5 minutes in phase with the history, from NOW + 4 min to NOW + 234 min.
    account.add_readings(readings_until(NOW + timedelta(minutes=234), range(151, 198)))
    share.refuse_connections()
    await advance(hass, freezer, timedelta(hours=3))
    share.accept_connections()
    await advance(hass, freezer, timedelta(minutes=15))
    rows = await hourly(hass, init_integration)
    for hour in (NOW, NOW + timedelta(hours=1), NOW + timedelta(hours=2)):
        assert {key: rows[hour][key] for key in ("mean", "min", "max")} == expected(account, hour)


async def test_reimport_is_idempotent(
    hass: HomeAssistant,
    account: Account,
    init_integration: MockConfigEntry,
) -> None:
    """A restart imports the same hours again without duplicating or changing them."""
    before = await hourly(hass, init_integration)
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    after = await hourly(hass, init_integration)
    assert after == before


async def test_removing_the_entry_removes_its_statistic(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The external statistic, named after the login, goes with the entry."""

    async def statistic_ids() -> set[str]:
        await async_wait_recording_done(hass)
        listed = await get_instance(hass).async_add_executor_job(list_statistic_ids, hass)
        return {row["statistic_id"] for row in listed}

    assert statistic_id(init_integration.entry_id) in await statistic_ids()
    assert await hass.config_entries.async_remove(init_integration.entry_id)
    await hass.async_block_till_done()
    assert statistic_id(init_integration.entry_id) not in await statistic_ids()


async def test_report_period_attributes_are_not_recorded(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The report's start, end and reading count move with every reading: not recorded."""
    entity_id = f"sensor.{PREFIX}_report_time_in_range"
    assert {"start", "end", "readings"} <= hass.states.get(entity_id).attributes.keys()
    await async_wait_recording_done(hass)
    recorded = await get_instance(hass).async_add_executor_job(
        get_significant_states, hass, NOW - timedelta(hours=1), None, [entity_id]
    )
    attributes = recorded[entity_id][-1].attributes
    assert attributes["days"] == 14
    assert not {"start", "end", "readings"} & attributes.keys()
