"""The dashboard card: served by the integration and loaded as a frontend module."""

from datetime import datetime, timedelta
import hashlib
from http import HTTPStatus
from pathlib import Path
import re

from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from hypothesis import given, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.dexcom_share.frontend import CARD_FILE, CARD_URL, card_module_url
from share_simulator import ShareSimulator

from .conftest import readings_until
from .helpers import account_entry

CARD_PREFIX = f"{CARD_URL}?v="


@pytest.fixture
async def frontend(hass: HomeAssistant, tmp_path: Path) -> None:
    """The real frontend integration, its static files taken from an empty folder.

    `development_repo` is the frontend's own option for serving a local build, so the
    frontend package itself (a large download the tests do not need) stays out.
    """
    (tmp_path / "hass_frontend").mkdir()
    assert await async_setup_component(
        hass, "frontend", {"frontend": {"development_repo": str(tmp_path)}}
    )


def card_urls(hass: HomeAssistant) -> list[str]:
    """The frontend's extra module URLs that load the card."""
    return [url for url in hass.data[DATA_EXTRA_MODULE_URL].urls if url.startswith(CARD_URL)]


@pytest.mark.usefixtures("frontend")
async def test_card_is_a_frontend_module_with_a_content_version(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The module URL carries a hash of the card's code, so browsers reload it on updates."""
    assert init_integration.state is ConfigEntryState.LOADED
    digest = hashlib.sha256(CARD_FILE.read_bytes()).hexdigest()
    (url,) = card_urls(hass)
    version = url.removeprefix(CARD_PREFIX)
    assert re.fullmatch(r"[0-9a-f]{12}", version)
    assert digest.startswith(version)


@pytest.mark.usefixtures("frontend")
async def test_card_is_served_from_the_integration(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """Dashboards load the card before anyone logs in; it is cached under its version."""
    client = await hass_client_no_auth()
    (url,) = card_urls(hass)
    response = await client.get(url)
    assert response.status == HTTPStatus.OK
    assert await response.read() == CARD_FILE.read_bytes()
    assert "javascript" in response.headers["Content-Type"]
    assert "max-age" in response.headers["Cache-Control"]


@pytest.mark.usefixtures("frontend")
async def test_card_registered_once_for_all_entries(
    hass: HomeAssistant,
    share: ShareSimulator,
    frozen_now: datetime,
    init_integration: MockConfigEntry,
) -> None:
    """A second account adds no second module (async_setup runs once per start)."""
    _, second = account_entry(
        hass, share, "alex", readings_until(frozen_now - timedelta(minutes=2), [120, 124, 127])
    )
    assert await hass.config_entries.async_setup(second.entry_id)
    await hass.async_block_till_done()
    assert second.state is ConfigEntryState.LOADED
    assert len(card_urls(hass)) == 1


async def test_no_frontend_no_card(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Without the frontend (headless, the test harness) setup works and registers nothing."""
    assert init_integration.state is ConfigEntryState.LOADED
    assert "frontend" not in hass.config.components
    assert DATA_EXTRA_MODULE_URL not in hass.data


@given(first=st.binary(), second=st.binary())
def test_module_url_follows_the_code(first: bytes, second: bytes) -> None:
    """The same code gives the same URL; changed code gives a new one."""
    assert card_module_url(first) == card_module_url(first)
    assert card_module_url(first).startswith(CARD_PREFIX)
    assert (card_module_url(first) == card_module_url(second)) == (first == second)


def test_card_fetches_nothing_at_run_time() -> None:
    """The card is self-contained: no imports, no fetches, no scripts from elsewhere."""
    code = CARD_FILE.read_text()
    assert not re.search(r"^\s*import\s", code, re.MULTILINE)
    assert "import(" not in code
    assert "fetch(" not in code
    assert "<script" not in code
    assert "customElements.define(CARD_TYPE, DexcomShareCard)" in code
    assert 'const CARD_TYPE = "dexcom-share-card"' in code
