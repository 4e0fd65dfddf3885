"""Serve the dexcom-share-card and load it on every dashboard.

The card ships inside the integration, so it is always the version that matches the
entities it reads, and users add no dashboard resource by hand.
"""

import hashlib
from pathlib import Path
from typing import Final

from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant

from .const import DOMAIN

CARD_FILE: Final = Path(__file__).parent / "card" / "dexcom-share-card.js"
CARD_URL: Final = f"/{DOMAIN}/{CARD_FILE.name}"


def card_version(card: bytes) -> str:
    """A short hash of the card's code: the URL changes exactly when the code does."""
    return hashlib.sha256(card).hexdigest()[:12]


def card_module_url(card: bytes) -> str:
    """The versioned URL browsers load the card from (cached for a month per version)."""
    return f"{CARD_URL}?v={card_version(card)}"


async def async_register_card(hass: HomeAssistant) -> None:
    """Serve the card and add it as a frontend module, once per Home Assistant run.

    Without the frontend (a headless install, the test harness) there are no
    dashboards to load it in, so nothing is registered.
    """
    if "frontend" not in hass.config.components:
        return
    card = await hass.async_add_executor_job(CARD_FILE.read_bytes)
    await hass.http.async_register_static_paths(
        [StaticPathConfig(CARD_URL, str(CARD_FILE), cache_headers=True)]
    )
    add_extra_js_url(hass, card_module_url(card))
