"""The entry's options, read with their defaults."""

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from .analysis import Thresholds
from .const import (
    CONF_HIGH,
    CONF_LOW,
    CONF_STALE_MINUTES,
    CONF_UNIT,
    CONF_URGENT_HIGH,
    CONF_URGENT_LOW,
    DEFAULT_STALE_MINUTES,
    DEFAULT_UNIT,
)


def glucose_unit(options: Mapping[str, Any]) -> str:
    """The unit glucose is shown in."""
    return str(options.get(CONF_UNIT, DEFAULT_UNIT))


def stale_after(options: Mapping[str, Any]) -> timedelta:
    """How long without a new reading before "Data stale" turns on."""
    return timedelta(minutes=options.get(CONF_STALE_MINUTES, DEFAULT_STALE_MINUTES))


def thresholds(options: Mapping[str, Any]) -> Thresholds:
    """The user's thresholds, stored in mg/dL."""
    default = Thresholds()
    return Thresholds(
        urgent_low=options.get(CONF_URGENT_LOW, default.urgent_low),
        low=options.get(CONF_LOW, default.low),
        high=options.get(CONF_HIGH, default.high),
        urgent_high=options.get(CONF_URGENT_HIGH, default.urgent_high),
    )
