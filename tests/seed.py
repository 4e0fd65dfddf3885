"""What an entry had stored before Home Assistant started: its history and learned state."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from custom_components.dexcom_share.const import DOMAIN
from custom_components.dexcom_share.glucose.history import ReadingHistory
from custom_components.dexcom_share.glucose.models import GlucoseReading

FIVE = timedelta(minutes=5)


def every_five_minutes(start: datetime, end: datetime) -> list[GlucoseReading]:
    """Readings of 120 mg/dL from `start` up to and including `end`, every 5 minutes."""
    count = int((end - start) / FIVE) + 1
    return [GlucoseReading(start + FIVE * index, 120, None) for index in range(count)]


def _stored(key: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "minor_version": 1, "key": key, "data": data}


def store_history(
    hass_storage: dict[str, Any],
    entry_id: str,
    readings: Iterable[GlucoseReading],
    now: datetime,
) -> ReadingHistory:
    """Store these readings as the entry's local history (as a restart would find them)."""
    history, _ = ReadingHistory().merged(readings, now)
    key = f"{DOMAIN}.{entry_id}.history"
    hass_storage[key] = _stored(key, history.to_dict())
    return history


def store_sensor_started(hass_storage: dict[str, Any], entry_id: str, started: datetime) -> None:
    """Store a "Sensor replaced" press at `started`."""
    key = f"{DOMAIN}.{entry_id}"
    hass_storage[key] = _stored(key, {"sensor_started": started.timestamp()})


def store_planner(hass_storage: dict[str, Any], entry_id: str, planner: dict[str, Any]) -> None:
    """Store the poll planner's state (`PollPlanner.to_dict`, or something damaged)."""
    key = f"{DOMAIN}.{entry_id}"
    hass_storage[key] = _stored(key, {"planner": planner})
