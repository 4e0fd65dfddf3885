"""Serve the dexcom-share-card and load it on every dashboard.

The card ships inside the integration, so it is always the version that matches the
entities it reads, and users add no dashboard resource by hand. It is a few ES modules
that import each other by relative URL, so the version is in the folder's path, not a
query string: `./series.js` imported from `/dexcom_share/card/<version>/…` resolves
under the same version, and every module is cached for a month per version.
"""

from collections.abc import Mapping
import hashlib
from pathlib import Path
from typing import Final

from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant

from .const import DOMAIN

CARD_DIR: Final = Path(__file__).parent / "card"
CARD_MODULE: Final = "dexcom-share-card.js"
"""The module dashboards load; it imports the others."""
CARD_PATH: Final = f"/{DOMAIN}/card"


def card_files() -> dict[str, bytes]:
    """Every file of the card by name (it reads the disk: run it in the executor)."""
    return {path.name: path.read_bytes() for path in CARD_DIR.iterdir() if path.is_file()}


def card_version(files: Mapping[str, bytes]) -> str:
    """A short hash of every file's name and code: it changes when any module does."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(hashlib.sha256(name.encode()).digest())
        digest.update(hashlib.sha256(files[name]).digest())
    return digest.hexdigest()[:12]


def card_folder_url(version: str) -> str:
    """Where the card's files are served for this version."""
    return f"{CARD_PATH}/{version}"


def card_module_url(version: str) -> str:
    """The URL browsers load the card from."""
    return f"{card_folder_url(version)}/{CARD_MODULE}"


async def async_register_card(hass: HomeAssistant) -> None:
    """Serve the card's folder and add its module to the frontend, once per run.

    Without the frontend (a headless install, the test harness) there are no
    dashboards to load it in, so nothing is registered.
    """
    if "frontend" not in hass.config.components:
        return
    version = card_version(await hass.async_add_executor_job(card_files))
    await hass.http.async_register_static_paths(
        [StaticPathConfig(card_folder_url(version), str(CARD_DIR), cache_headers=True)]
    )
    add_extra_js_url(hass, card_module_url(version))
