"""The glucose profile picture: a PNG served by Home Assistant, and when it is drawn again."""

from datetime import datetime, timedelta
import io
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.image import async_get_image
from homeassistant.core import HomeAssistant
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.dexcom_share import image
from custom_components.dexcom_share.glucose.agp import HEIGHT, WIDTH
from share_simulator import Account, Fault, ShareSimulator

from .conftest import NOW, readings_until
from .entities import PREFIX
from .helpers import advance, finish_options

PROFILE = f"image.{PREFIX}_glucose_profile"
INIT_STEP = {"unit_of_measurement": "mg/dL", "stale_minutes": 15, "sensor_type": "g7"}


async def fetch_png(hass: HomeAssistant) -> bytes:
    """The picture as Home Assistant serves it (its image proxy calls the same)."""
    served = await async_get_image(hass, PROFILE)
    assert served.content_type == "image/png"
    return served.content


def drawn_at(hass: HomeAssistant) -> datetime:
    return datetime.fromisoformat(hass.states.get(PROFILE).state)


async def set_options(hass: HomeAssistant, entry: MockConfigEntry, **changes: Any) -> None:
    """Both option steps; `changes` override the first step's answers or the thresholds."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    first = {"report_days": "14", **INIT_STEP}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {key: changes.get(key, value) for key, value in first.items()}
    )
    shown = {marker.schema: marker.default() for marker in result["data_schema"].schema}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {key: changes.get(key, value) for key, value in shown.items()}
    )
    await finish_options(hass, result)


@pytest.fixture
def drawings() -> Any:
    """Every call of the drawing function, which still draws."""
    with patch.object(image, "draw_profile", wraps=image.draw_profile) as spy:
        yield spy


async def test_png(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
) -> None:
    """A 1000 x 700 PNG of the readings held, drawn at setup."""
    assert drawn_at(hass) == NOW
    picture = Image.open(io.BytesIO(await fetch_png(hass)))
    assert picture.format == "PNG"
    assert picture.size == (WIDTH, HEIGHT) == (1000, 700)


async def test_drawn_at_most_hourly(
    hass: HomeAssistant,
    account: Account,
    drawings: Any,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """New readings every 5 minutes, one drawing an hour; the picture served meanwhile."""
    first = await fetch_png(hass)
    account.add_readings(
        readings_until(NOW + timedelta(hours=2, minutes=4), [150 + n % 30 for n in range(25)])
    )
    await advance(hass, freezer, timedelta(minutes=59))
    assert drawings.call_count == 1
    assert drawn_at(hass) == NOW
    assert await fetch_png(hass) == first

    await advance(hass, freezer, timedelta(minutes=6))
    assert drawings.call_count == 2
    redrawn = drawn_at(hass)
    assert NOW + timedelta(hours=1) <= redrawn <= NOW + timedelta(minutes=65)
    assert await fetch_png(hass) != first
    # The history it drew holds the readings that arrived since.
    snapshot = drawings.call_args.args[0]
    history = snapshot.history
    assert snapshot.at == redrawn
    assert snapshot.newest is not None
    assert history.times[-1] == int(snapshot.newest.time.timestamp())
    assert history.times[-1] >= int((NOW + timedelta(minutes=59)).timestamp())


@pytest.mark.parametrize(
    ("changes", "unit", "days"),
    [
        ({"unit_of_measurement": "mmol/L"}, "mmol/L", 14),
        ({"report_days": "7"}, "mg/dL", 7),
    ],
)
async def test_drawn_again_when_the_options_change(
    hass: HomeAssistant,
    drawings: Any,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    changes: dict[str, str],
    unit: str,
    days: int,
) -> None:
    """A new unit or period is drawn at once, however recent the last drawing."""
    await advance(hass, freezer, timedelta(minutes=3))
    await set_options(hass, init_integration, **changes)
    assert drawings.call_count == 2
    snapshot = drawings.call_args.args[0]
    assert (snapshot.options.unit, snapshot.options.report_days) == (unit, days)
    assert drawn_at(hass) == NOW + timedelta(minutes=3)


async def test_not_drawn_again_for_what_it_does_not_show(
    hass: HomeAssistant, drawings: Any, init_integration: MockConfigEntry
) -> None:
    """The picture uses the consensus's bands, not the user's thresholds or stale time."""
    await set_options(hass, init_integration, low=75, stale_minutes=30, sensor_type="g6")
    assert init_integration.options["low"] == 75
    assert drawings.call_count == 1


async def test_available_while_share_fails(
    hass: HomeAssistant,
    share: ShareSimulator,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The picture comes from the local history, so Share's outage does not hide it."""
    share.state.add_fault(Fault("html", status=502, times=None))
    await advance(hass, freezer, timedelta(minutes=30))
    assert drawn_at(hass) == NOW
    assert await fetch_png(hass)


async def test_a_failed_drawing_is_tried_again_in_an_hour(
    hass: HomeAssistant,
    account: Account,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A drawing that raises is logged once and tried at the next hour, not every poll.

    Our own drawing function is patched to fail: neither Share nor the simulator can
    make Pillow fail.
    """
    with patch.object(image, "draw_profile", side_effect=ValueError("broken")) as failing:
        assert await hass.config_entries.async_setup(config_entry.entry_id)
        await hass.async_block_till_done()
        account.add_readings(readings_until(NOW + timedelta(minutes=54), [120] * 11))
        await advance(hass, freezer, timedelta(minutes=55))
        assert failing.call_count == 1
        assert caplog.text.count("Could not draw the glucose profile") == 1
        assert hass.states.get(PROFILE).state == "unknown"
        account.add_readings(readings_until(NOW + timedelta(minutes=119), [120] * 13))
        await advance(hass, freezer, timedelta(minutes=10))
        assert failing.call_count == 2
        errors = [r for r in caplog.records if r.levelname == "ERROR"]
        assert len(errors) == 1
        assert errors[0].exc_info is not None
    await advance(hass, freezer, timedelta(minutes=60))
    assert drawn_at(hass) >= NOW + timedelta(hours=2)
