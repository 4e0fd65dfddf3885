"""The actions: `get_readings`, and acknowledging and snoozing alerts."""

from datetime import datetime, timedelta
from typing import Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_CONFIG_ENTRY_ID, UnitOfBloodGlucoseConcentration
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType
import probatio

from .const import DOMAIN
from .coordinator import DexcomShareConfigEntry
from .glucose.alerts import MAX_SNOOZE_MINUTES, AlertError, AlertKind
from .glucose.history import ReadingHistory
from .glucose.units import convert

SERVICE_GET_READINGS: Final = "get_readings"
SERVICE_ACKNOWLEDGE: Final = "acknowledge_alert"
SERVICE_SNOOZE: Final = "snooze_alert"
SERVICE_CANCEL_SNOOZE: Final = "cancel_snooze"
ATTR_ALERT: Final = "alert"
ATTR_BY: Final = "by"
MMOL_L: Final = UnitOfBloodGlucoseConcentration.MILLIMOLE_PER_LITER
# The local history holds 90 days.
MAX_MINUTES: Final = 90 * 24 * 60
# Up to a day of readings costs the event loop less than a millisecond; more is built
# in the executor (90 days are 25,920 readings).
INLINE_READINGS: Final = 288
ATTR_MINUTES: Final = "minutes"
GET_READINGS_SCHEMA: Final = probatio.Schema(
    {
        probatio.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        probatio.Optional(ATTR_MINUTES, default=60): probatio.All(
            probatio.Coerce(int), probatio.Range(min=1, max=MAX_MINUTES)
        ),
    }
)


ALERT_SCHEMA: Final = probatio.Schema(
    {
        probatio.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        probatio.Optional(ATTR_ALERT): cv.string,
        probatio.Optional(ATTR_BY): cv.string,
    }
)
SNOOZE_SCHEMA: Final = ALERT_SCHEMA.extend(
    {
        probatio.Required(ATTR_ALERT): cv.string,
        probatio.Required(ATTR_MINUTES): probatio.All(
            probatio.Coerce(int), probatio.Range(min=1, max=MAX_SNOOZE_MINUTES)
        ),
    }
)


def _loaded_entry(hass: HomeAssistant, entry_id: str) -> DexcomShareConfigEntry:
    entry: DexcomShareConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"title": entry.title},
        )
    return entry


def held_readings(entry: DexcomShareConfigEntry, since: datetime) -> ReadingHistory:
    """The readings taken at or after `since`, oldest first, as the coordinator published them.

    The one place the action and the card's websocket command read the history from.
    """
    return entry.runtime_data.data.history.since(since)


def _readings_response(history: ReadingHistory) -> list[JsonValueType]:
    """The action's readings, newest first: in the executor when the window is long."""
    return [
        {
            "time": reading.time.isoformat(),
            "value_mg_dl": reading.value,
            "value_mmol_l": round(convert(reading.value, MMOL_L), 1),
            "trend": reading.trend,
        }
        for reading in reversed(history)
    ]


async def _get_readings(call: ServiceCall) -> ServiceResponse:
    entry = _loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    since = dt_util.utcnow() - timedelta(minutes=call.data[ATTR_MINUTES])
    history = held_readings(entry, since)
    if len(history) > INLINE_READINGS:
        readings = await call.hass.async_add_executor_job(_readings_response, history)
    else:
        readings = _readings_response(history)
    return {"readings": readings}


def _kind(call: ServiceCall) -> AlertKind | None:
    """The alert kind named in the call, or None when it names none."""
    name = call.data.get(ATTR_ALERT)
    return None if name is None else _kind_named(name)


def _kind_named(name: str) -> AlertKind:
    """The alert kind of that name; unknown names are refused."""
    if name not in set(AlertKind):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_alert",
            translation_placeholders={"alert": str(name)},
        )
    return AlertKind(name)


async def _by(call: ServiceCall) -> str:
    """Who acted: the name given (a user's ID stands for their name), else the caller's.

    A blueprint answering a phone's notification button passes the ID of the user
    the phone belongs to, so the others are told that person's name.
    """
    given = call.data.get(ATTR_BY)
    user_id = given or call.context.user_id
    if user_id and (user := await call.hass.auth.async_get_user(user_id)) and user.name:
        return user.name
    return str(given) if given else "Home Assistant"


def _refused(err: AlertError) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=err.key,
        translation_placeholders={"alert": str(err.kind or "")},
    )


async def _acknowledge(call: ServiceCall) -> None:
    entry = _loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    kind, by = _kind(call), await _by(call)
    try:
        entry.runtime_data.acknowledge_alert(kind, by)
    except AlertError as err:
        raise _refused(err) from err


async def _snooze(call: ServiceCall) -> None:
    entry = _loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    kind, by = _kind_named(call.data[ATTR_ALERT]), await _by(call)
    entry.runtime_data.snooze_alert(kind, call.data[ATTR_MINUTES], by)


async def _cancel_snooze(call: ServiceCall) -> None:
    entry = _loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    entry.runtime_data.cancel_snooze(_kind(call))


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions (once, not per entry)."""
    for name, handler, schema in (
        (SERVICE_ACKNOWLEDGE, _acknowledge, ALERT_SCHEMA),
        (SERVICE_SNOOZE, _snooze, SNOOZE_SCHEMA),
        (SERVICE_CANCEL_SNOOZE, _cancel_snooze, ALERT_SCHEMA),
    ):
        hass.services.async_register(DOMAIN, name, handler, schema=schema)
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_READINGS,
        _get_readings,
        schema=GET_READINGS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
