"""The shipped English translation is strings.json itself, fully resolved."""

import json
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "custom_components" / "dexcom_share"


def test_english_translation_matches_strings() -> None:
    """Home Assistant does not resolve [%key:...] for custom integrations at runtime."""
    strings = (PACKAGE / "strings.json").read_text()
    assert json.loads((PACKAGE / "translations" / "en.json").read_text()) == json.loads(strings)
    assert "[%key:" not in strings
