"""Fixtures: a Share simulator on 127.0.0.1 that pydexcom is pointed at, and entries."""

import asyncio
from collections.abc import AsyncGenerator, Callable, Generator, Iterable
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
import random
import shutil
from typing import Any
from unittest.mock import PropertyMock, patch

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation import DOMAIN as AUTOMATION_DOMAIN
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME, Platform
from homeassistant.core import HomeAssistant
from pydexcom import Region
import pydexcom.const
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.dexcom_share.const import CONF_REGION, DOMAIN, PLATFORMS
from custom_components.dexcom_share.glucose import share as share_module
from custom_components.dexcom_share.glucose.planner import PollPlanner
from share_simulator import Account, Reading, ShareSimulator
from share_simulator.model import Response

BLUEPRINTS = Path(__file__).parent.parent / "blueprints" / "automation" / "dexcom_share"
NOW = datetime.fromisoformat("2026-11-21T12:00:00+00:00")
USERNAME = "jane.sharer"
EMAIL = "jane@example.com"
PHONE = "+14155550123"
PASSWORD = "correct horse battery staple"
ACCOUNT_ID = "6f1b2a7e-3c4d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load the integration from custom_components in every test."""


@pytest.fixture(autouse=True)
def seeded_jitter() -> Generator[None]:
    """The poll planner's jitter, seeded so that every run plans the same polls."""
    restore = PollPlanner.from_dict.__func__  # type: ignore[attr-defined]

    def seeded(
        cls: type[PollPlanner], stored: Any, tuning: Any = None, rng: Any = None
    ) -> PollPlanner:
        return restore(cls, stored, tuning, random.Random(20261121))

    with patch.object(PollPlanner, "from_dict", classmethod(seeded)):
        yield


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in Home Assistant's format (syrupy's own fixture would win otherwise)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def frozen_now(freezer: FrozenDateTimeFactory) -> datetime:
    """Freeze time at NOW; the simulator's clock follows it."""
    freezer.move_to(NOW)
    return NOW


def readings_until(
    end: datetime,
    values: Iterable[int],
    trends: Iterable[str] | None = None,
    period: timedelta = timedelta(minutes=5),
) -> list[Reading]:
    """Readings ending at `end` (the last value), one per period, served at once."""
    values = list(values)
    trend_list = list(trends) if trends is not None else ["Flat"] * len(values)
    first = end - period * (len(values) - 1)
    return [
        Reading(time=(first + period * index).timestamp(), value=value, trend=trend)
        for index, (value, trend) in enumerate(zip(values, trend_list, strict=True))
    ]


def served(
    readings: Iterable[Reading], at: datetime | None = None, delay: float = 20
) -> list[Reading]:
    """The readings, served `delay` seconds after they were taken, or all at `at` (a backfill)."""
    return [
        replace(reading, available_at=at.timestamp() if at else reading.time + delay)
        for reading in readings
    ]


@pytest.fixture
def share(socket_enabled: None, monkeypatch: pytest.MonkeyPatch) -> Generator[ShareSimulator]:
    """A running simulator that pydexcom's region table points at."""
    simulator = ShareSimulator().start()
    for region in Region:
        monkeypatch.setitem(
            pydexcom.const.DEXCOM_BASE_URLS, region, simulator.base_url(region.value)
        )
    yield simulator
    simulator.stop()


@pytest.fixture
async def websession() -> AsyncGenerator[aiohttp.ClientSession]:
    """An aiohttp session for Share clients outside Home Assistant, closed after the test."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def hung_requests_time_out(
    share: ShareSimulator, freezer: FrozenDateTimeFactory
) -> Callable[[], AbstractContextManager[object]]:
    """While entered, a request Share holds times out: the frozen clock moves past it.

    The Share client's deadlines run on the event loop's clock, which a frozen test
    clock stops, so a hung request would wait for the simulator to let it go. Each
    hang moves the clock by the read timeout and a second (aiohttp rounds timeouts
    of 5 s or more up to the next whole second).
    """
    loop = asyncio.get_running_loop()
    handle = share.state.handle

    def timing_out(region: str, endpoint: str, params: dict[str, Any], body: Any) -> Response:
        response = handle(region, endpoint, params, body)
        if response.action == "hang":
            loop.call_soon_threadsafe(freezer.tick, share_module.REQUEST_TIMEOUT[1] + 1)
        return response

    return lambda: patch.object(share.state, "handle", timing_out)


@pytest.fixture
def account(share: ShareSimulator, frozen_now: datetime) -> Account:
    """The sharer's account: 24 hours of steady readings, the newest one minute old."""
    return share.state.add_account(
        username=USERNAME,
        email=EMAIL,
        phone=PHONE,
        password=PASSWORD,
        account_id=ACCOUNT_ID,
        readings=readings_until(
            frozen_now - timedelta(minutes=1),
            [100 + (index % 12) for index in range(288)],
        ),
    )


@pytest.fixture
def arriving(account: Account) -> Account:
    """Two more hours of readings every 5 minutes in phase with the history, 20 s late."""
    account.add_readings(served(readings_until(NOW + timedelta(minutes=119), [130] * 24)))
    return account


@pytest.fixture
async def blueprints(hass: HomeAssistant, tmp_path: Path) -> AsyncGenerator[None]:
    """The blueprints installed in a fresh configuration folder.

    The automations are turned off at the end: their 5-minute re-check is a timer.
    """
    shutil.copytree(BLUEPRINTS, tmp_path / "blueprints" / "automation" / "dexcom_share")
    hass.config.config_dir = str(tmp_path)
    yield
    if hass.services.has_service(AUTOMATION_DOMAIN, "turn_off"):
        await hass.services.async_call(
            AUTOMATION_DOMAIN, "turn_off", {"entity_id": "all"}, blocking=True
        )


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create every entity enabled, including those disabled by default."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
def platforms() -> list[Platform]:
    """The platforms to set up; tests that snapshot one platform narrow it."""
    return PLATFORMS


@pytest.fixture
def entry_data() -> dict[str, Any]:
    """What the config flow stores for the account."""
    return {CONF_USERNAME: USERNAME, CONF_PASSWORD: PASSWORD, CONF_REGION: "us"}


@pytest.fixture
def config_entry(hass: HomeAssistant, entry_data: dict[str, Any]) -> MockConfigEntry:
    """A config entry for the account, added to Home Assistant."""
    entry = MockConfigEntry(domain=DOMAIN, title=USERNAME, unique_id=ACCOUNT_ID, data=entry_data)
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
async def init_integration(
    hass: HomeAssistant,
    account: Account,
    config_entry: MockConfigEntry,
    platforms: list[Platform],
) -> MockConfigEntry:
    """The integration set up against the simulator."""
    with patch("custom_components.dexcom_share.PLATFORMS", platforms):
        assert await hass.config_entries.async_setup(config_entry.entry_id)
        await hass.async_block_till_done()
    return config_entry
