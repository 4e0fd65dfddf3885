"""The dashboard card: served by the integration and loaded as a frontend module."""

from datetime import datetime, timedelta
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

from custom_components.dexcom_share.frontend import (
    CARD_DIR,
    CARD_MODULE,
    CARD_PATH,
    card_files,
    card_module_url,
    card_version,
)
from share_simulator import ShareSimulator

from .conftest import readings_until
from .helpers import account_entry

# The card's own imports: `import … from "./name.js";`, possibly over several lines.
IMPORT = re.compile(r"^import\s[^;]*?from\s+\"([^\"]+)\";", re.MULTILINE)


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
    return [url for url in hass.data[DATA_EXTRA_MODULE_URL].urls if url.startswith(CARD_PATH)]


def card_modules() -> dict[str, str]:
    """The card's JavaScript modules by name."""
    return {path.name: path.read_text() for path in sorted(CARD_DIR.glob("*.js"))}


@pytest.mark.usefixtures("frontend")
async def test_card_is_a_frontend_module_with_a_content_version(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The module's path carries a hash of every card file, so browsers reload on updates."""
    assert init_integration.state is ConfigEntryState.LOADED
    (url,) = card_urls(hass)
    match = re.fullmatch(rf"{CARD_PATH}/([0-9a-f]{{12}})/{re.escape(CARD_MODULE)}", url)
    assert match is not None, url
    assert match[1] == card_version(card_files())


@pytest.mark.usefixtures("frontend")
async def test_every_card_file_is_served_under_the_version(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """Dashboards load the card before anyone logs in; each module is cached per version.

    A module's relative imports resolve beside it, under the same version.
    """
    client = await hass_client_no_auth()
    (url,) = card_urls(hass)
    folder = url.removesuffix(CARD_MODULE)
    for name, code in card_modules().items():
        response = await client.get(folder + name)
        assert response.status == HTTPStatus.OK, name
        assert await response.text() == code
        assert "javascript" in response.headers["Content-Type"]
        assert "max-age" in response.headers["Cache-Control"]
    stale = await client.get(f"{CARD_PATH}/000000000000/{CARD_MODULE}")
    assert stale.status == HTTPStatus.NOT_FOUND


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


FILES = st.dictionaries(st.sampled_from(["a.js", "b.js", "c.js"]), st.binary(max_size=8))


@given(first=FILES, second=FILES)
def test_version_follows_every_file(first: dict[str, bytes], second: dict[str, bytes]) -> None:
    """The same files give the same URL; any changed, added or removed file a new one."""
    assert card_version(first) == card_version(dict(reversed(first.items())))
    assert card_module_url(card_version(first)).endswith(f"/{CARD_MODULE}")
    assert (card_version(first) == card_version(second)) == (first == second)


def test_version_tells_a_renamed_file() -> None:
    """Moving code from one module to another changes the version too."""
    assert card_version({"a.js": b"x"}) != card_version({"b.js": b"x"})
    assert card_version({"a.js": b"xy"}) != card_version({"a.jsx": b"y"})


def test_card_imports_only_its_own_modules() -> None:
    """The card is self-contained: relative imports of files beside it, nothing fetched."""
    modules = card_modules()
    assert CARD_MODULE in modules
    for name, code in modules.items():
        for target in IMPORT.findall(code):
            assert target.startswith("./"), f"{name} imports {target}"
            assert target.removeprefix("./") in modules, f"{name} imports {target}"
        assert "import(" not in code, name
        assert "fetch(" not in code, name
        assert "<script" not in code, name
        assert "localStorage" not in code, name
    entry = modules[CARD_MODULE]
    assert "customElements.define(CARD_TYPE, DexcomShareCard)" in entry
    assert 'const CARD_TYPE = "dexcom-share-card"' in entry
