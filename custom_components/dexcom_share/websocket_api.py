"""The card's one source: readings with the unit and thresholds to draw them in.

`dexcom_share/readings` answers for one entry (or the entry of one of its entities)
with what the coordinator publishes, already in the user's unit, so the card never
converts or guesses a unit, keeps no thresholds of its own and copies no constant.

Request: `{"type": "dexcom_share/readings", "entity_id": …}` or `"config_entry_id": …`
(one of the two), and `"minutes"` (1 to 90 days; 60 if left out). Result:
`config_entry_id`; `unit` (the options' unit) and `precision` (its decimals); the
options' `thresholds` (`urgent_low`, `low`, `high`, `urgent_high`) and the least `axis`
(`min`, `max`) in that unit; `gap`, the seconds between two readings beyond which the
line breaks; and `readings`, `[unix_seconds, value]` pairs, oldest first. Errors:
`not_found` (no such entry, or not a Dexcom Share entity) and `not_loaded`.
"""

from dataclasses import asdict
from datetime import timedelta
from typing import Any, Final

from homeassistant.components import websocket_api
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_CONFIG_ENTRY_ID, ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, entity_registry as er
from homeassistant.helpers.json import json_bytes
from homeassistant.util import dt as dt_util
import probatio

from .const import DOMAIN
from .coordinator import DexcomShareConfigEntry
from .glucose.const import STALE_AFTER
from .glucose.history import ReadingHistory
from .glucose.snapshot import DisplayOptions
from .glucose.units import MG_DL, MMOL_L, convert
from .services import ATTR_MINUTES, INLINE_READINGS, MAX_MINUTES, held_readings

COMMAND: Final = f"{DOMAIN}/readings"
ERR_NOT_LOADED: Final = "not_loaded"
PRECISION: Final = {MG_DL: 0, MMOL_L: 1}
"""Decimals of a glucose figure in each unit, as the glucose value is shown."""
AXIS_MG_DL: Final = (40, 250)
"""The least the graph's axis spans (Dexcom's charts start at 40): rows compare at a glance."""


def _in_unit(value: float, unit: str) -> float:
    """A mg/dL figure in `unit`, to the decimals the glucose value shows."""
    shown = round(convert(value, unit), PRECISION[unit])
    return shown if PRECISION[unit] else int(shown)


def _answer(msg_id: int, entry_id: str, options: DisplayOptions, history: ReadingHistory) -> bytes:
    """The serialised result: in the executor when the window is long."""
    unit = options.unit
    result = {
        ATTR_CONFIG_ENTRY_ID: entry_id,
        "unit": unit,
        "precision": PRECISION[unit],
        "thresholds": {
            name: _in_unit(value, unit) for name, value in asdict(options.thresholds).items()
        },
        "axis": {"min": _in_unit(AXIS_MG_DL[0], unit), "max": _in_unit(AXIS_MG_DL[1], unit)},
        "gap": int(STALE_AFTER.total_seconds()),
        "readings": [
            (int(reading.time.timestamp()), _in_unit(reading.value, unit)) for reading in history
        ],
    }
    return json_bytes(websocket_api.result_message(msg_id, result))


def _entry(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> DexcomShareConfigEntry | None:
    """The loaded entry the message names (itself or through an entity); else an error sent."""
    entry_id = msg.get(ATTR_CONFIG_ENTRY_ID)
    if entry_id is None:
        entity = er.async_get(hass).async_get(msg[ATTR_ENTITY_ID])
        if entity is None or entity.platform != DOMAIN or entity.config_entry_id is None:
            connection.send_error(
                msg["id"],
                websocket_api.ERR_NOT_FOUND,
                f"{msg[ATTR_ENTITY_ID]} is not a Dexcom Share entity",
            )
            return None
        entry_id = entity.config_entry_id
    entry: DexcomShareConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        connection.send_error(
            msg["id"],
            websocket_api.ERR_NOT_FOUND,
            f"No Dexcom Share entry with ID {entry_id}",
            translation_key="entry_not_found",
            translation_domain=DOMAIN,
            translation_placeholders={"entry_id": entry_id},
        )
        return None
    if entry.state is not ConfigEntryState.LOADED:
        connection.send_error(
            msg["id"],
            ERR_NOT_LOADED,
            f"The Dexcom Share entry {entry.title} is not loaded",
            translation_key="entry_not_loaded",
            translation_domain=DOMAIN,
            translation_placeholders={"title": entry.title},
        )
        return None
    return entry


@websocket_api.websocket_command(
    probatio.All(
        probatio.Schema(
            {
                probatio.Required("type"): COMMAND,
                probatio.Exclusive(ATTR_CONFIG_ENTRY_ID, "entry"): cv.string,
                probatio.Exclusive(ATTR_ENTITY_ID, "entry"): cv.entity_id,
                probatio.Optional(ATTR_MINUTES, default=60): probatio.All(
                    int, probatio.Range(min=1, max=MAX_MINUTES)
                ),
            }
        ),
        cv.has_at_least_one_key(ATTR_CONFIG_ENTRY_ID, ATTR_ENTITY_ID),
    )
)
@websocket_api.async_response
async def ws_readings(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """The readings of the last `minutes`, oldest first, with their unit and thresholds."""
    if (entry := _entry(hass, connection, msg)) is None:
        return
    options = entry.runtime_data.data.options
    history = held_readings(entry, dt_util.utcnow() - timedelta(minutes=msg[ATTR_MINUTES]))
    if len(history) > INLINE_READINGS:
        answer = await hass.async_add_executor_job(
            _answer, msg["id"], entry.entry_id, options, history
        )
    else:
        answer = _answer(msg["id"], entry.entry_id, options, history)
    connection.send_message(answer)


def async_register_commands(hass: HomeAssistant) -> None:
    """Register the card's command (once, not per entry)."""
    websocket_api.async_register_command(hass, ws_readings)
