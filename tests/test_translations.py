"""The shipped English translation is strings.json itself, fully resolved."""

import json
from pathlib import Path
import re

PACKAGE = Path(__file__).parent.parent / "custom_components" / "dexcom_share"


def test_english_translation_matches_strings() -> None:
    """Home Assistant does not resolve [%key:...] for custom integrations at runtime."""
    strings = (PACKAGE / "strings.json").read_text()
    assert json.loads((PACKAGE / "translations" / "en.json").read_text()) == json.loads(strings)
    assert "[%key:" not in strings


def _paths(tree: object, prefix: str = "") -> dict[str, str]:
    if isinstance(tree, dict):
        paths: dict[str, str] = {}
        for key, value in tree.items():
            paths |= _paths(value, f"{prefix}/{key}")
        return paths
    return {prefix: str(tree)}


def test_every_translation_is_complete() -> None:
    """Every language has every key of the English file, with the same placeholders."""
    english = _paths(json.loads((PACKAGE / "translations" / "en.json").read_text()))
    languages = sorted(p.stem for p in (PACKAGE / "translations").glob("*.json"))
    assert languages == ["de", "en", "es", "fr", "ja", "nl"]
    for language in languages:
        translated = _paths(json.loads((PACKAGE / "translations" / f"{language}.json").read_text()))
        assert translated.keys() == english.keys(), language
        for path, text in english.items():
            assert re.findall(r"{\w+}", translated[path]) == re.findall(r"{\w+}", text), path
