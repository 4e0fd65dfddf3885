"""The `dexcom_share.get_readings` action: the readings held, newest first."""

from datetime import timedelta
from typing import Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_CONFIG_ENTRY_ID, UnitOfBloodGlucoseConcentration
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType
import probatio

from .analysis import convert
from .const import DOMAIN
from .coordinator import DexcomShareConfigEntry

SERVICE_GET_READINGS: Final = "get_readings"
MMOL_L: Final = UnitOfBloodGlucoseConcentration.MILLIMOLE_PER_LITER
# The local history holds 90 days.
MAX_MINUTES: Final = 90 * 24 * 60
ATTR_MINUTES: Final = "minutes"
GET_READINGS_SCHEMA: Final = probatio.Schema(
    {
        probatio.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        probatio.Optional(ATTR_MINUTES, default=60): probatio.All(
            probatio.Coerce(int), probatio.Range(min=1, max=MAX_MINUTES)
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


async def _get_readings(call: ServiceCall) -> ServiceResponse:
    entry = _loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    since = dt_util.utcnow() - timedelta(minutes=call.data[ATTR_MINUTES])
    history = entry.runtime_data.state.history.since(since)
    readings: list[JsonValueType] = [
        {
            "time": reading.time.isoformat(),
            "value_mg_dl": reading.value,
            "value_mmol_l": round(convert(reading.value, MMOL_L), 1),
            "trend": reading.trend,
        }
        for reading in reversed(history)
    ]
    return {"readings": readings}


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions (once, not per entry)."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_READINGS,
        _get_readings,
        schema=GET_READINGS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
