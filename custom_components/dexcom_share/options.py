"""The entry's options, read with their defaults and checked.

Options arrive through the options flow, which refuses bad numbers, but also from
older versions or hand-edited storage; whatever is stored, reading them never fails
and never yields a number that would break a poll or a timer.
"""

from collections.abc import Mapping
from datetime import timedelta
import math
from typing import Any, Final

from .const import (
    CONF_ALERTS_ON,
    CONF_ESCALATE_MINUTES,
    CONF_FALLBACK,
    CONF_HIGH_MINUTES,
    CONF_NO_DATA_MINUTES,
    CONF_RATE,
    CONF_REPEAT,
    CONF_REPORT_DAYS,
    CONF_SENSOR_TYPE,
    CONF_STALE_MINUTES,
    CONF_UNIT,
    DEFAULT_STALE_MINUTES,
    DEFAULT_UNIT,
    MAX_STALE_MINUTES,
    MIN_STALE_MINUTES,
    THRESHOLD_KEYS,
)
from .glucose.alerts import (
    DEFAULT_ESCALATE_MINUTES,
    DEFAULT_HIGH_MINUTES,
    DEFAULT_NO_DATA_MINUTES,
    DEFAULT_ON,
    DEFAULT_RATE,
    MAX_REPEAT_MINUTES,
    MIN_REPEAT_MINUTES,
    AlertKind,
    AlertSettings,
    kinds,
)
from .glucose.models import Thresholds
from .glucose.report import DEFAULT_REPORT_DAYS, REPORT_DAYS
from .glucose.session import DEFAULT_SENSOR_TYPE, SensorType
from .glucose.snapshot import DisplayOptions
from .glucose.units import UNITS, convert


def finite_number(value: Any) -> float | None:
    """`value` as a finite float, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def glucose_unit(options: Mapping[str, Any]) -> str:
    """The unit glucose is shown in."""
    unit = options.get(CONF_UNIT)
    return str(unit) if unit in UNITS else str(DEFAULT_UNIT)


def stale_after(options: Mapping[str, Any]) -> timedelta:
    """How long without a new reading before "Data stale" turns on."""
    minutes = finite_number(options.get(CONF_STALE_MINUTES))
    if minutes is None:
        minutes = DEFAULT_STALE_MINUTES
    return timedelta(minutes=min(MAX_STALE_MINUTES, max(MIN_STALE_MINUTES, minutes)))


def thresholds(options: Mapping[str, Any]) -> Thresholds:
    """The user's thresholds in mg/dL; the defaults unless all four are usable and in order."""
    default = Thresholds()
    values = [finite_number(options.get(key, getattr(default, key))) for key in THRESHOLD_KEYS]
    numbers = [value for value in values if value is not None]
    if len(numbers) != len(THRESHOLD_KEYS) or numbers != sorted(set(numbers)):
        return default
    return Thresholds(*numbers)


def sensor_type(options: Mapping[str, Any]) -> SensorType:
    """The sensor model worn, which sets its lifetime and warm-up."""
    chosen = options.get(CONF_SENSOR_TYPE)
    return SensorType(chosen) if chosen in set(SensorType) else DEFAULT_SENSOR_TYPE


def fallback_sensor(options: Mapping[str, Any]) -> str | None:
    """The fallback glucose sensor's entity ID, if one is chosen."""
    entity_id = options.get(CONF_FALLBACK)
    return entity_id if isinstance(entity_id, str) and entity_id.startswith("sensor.") else None


def report_days(options: Mapping[str, Any]) -> int:
    """The report's period in days."""
    days = options.get(CONF_REPORT_DAYS)
    if isinstance(days, str) and days.isdigit():
        days = int(days)
    return days if days in REPORT_DAYS else DEFAULT_REPORT_DAYS


# The alert options' ranges: (least, most, default) in minutes, or mg/dL per minute.
HIGH_MINUTES: Final = (0, 240, DEFAULT_HIGH_MINUTES)
NO_DATA_MINUTES: Final = (10, 240, DEFAULT_NO_DATA_MINUTES)
ESCALATE_MINUTES: Final = (5, 120, DEFAULT_ESCALATE_MINUTES)
RATE: Final = (1.0, 5.0, DEFAULT_RATE)


def bounded(options: Mapping[str, Any], key: str, limits: tuple[float, float, float]) -> float:
    """An option's number, within its limits; the default when it is not a number."""
    least, most, default = limits
    value = finite_number(options.get(key))
    return default if value is None else min(most, max(least, value))


def alert_settings(options: Mapping[str, Any]) -> AlertSettings:
    """The alerts as chosen, checked; thresholds in mg/dL, so a unit switch changes nothing."""
    chosen = options.get(CONF_ALERTS_ON)
    default = AlertSettings()
    repeat_limits = (MIN_REPEAT_MINUTES, MAX_REPEAT_MINUTES)
    return AlertSettings(
        thresholds=thresholds(options),
        enabled=kinds(chosen) if isinstance(chosen, list) else DEFAULT_ON,
        repeat={
            kind: timedelta(
                minutes=bounded(
                    options,
                    CONF_REPEAT.format(kind),
                    (*repeat_limits, default.repeat[kind].total_seconds() / 60),
                )
            )
            for kind in AlertKind
        },
        high_for=timedelta(minutes=bounded(options, CONF_HIGH_MINUTES, HIGH_MINUTES)),
        no_data_after=timedelta(minutes=bounded(options, CONF_NO_DATA_MINUTES, NO_DATA_MINUTES)),
        rate=bounded(options, CONF_RATE, RATE),
        escalate_after=timedelta(minutes=bounded(options, CONF_ESCALATE_MINUTES, ESCALATE_MINUTES)),
    )


def display_options(options: Mapping[str, Any]) -> DisplayOptions:
    """Everything a snapshot is computed with."""
    return DisplayOptions(
        unit=glucose_unit(options),
        stale_after=stale_after(options),
        thresholds=thresholds(options),
        sensor_type=sensor_type(options),
        report_days=report_days(options),
    )


def shown_thresholds(current: Thresholds, unit: str) -> dict[str, float]:
    """The thresholds as the options form shows them, rounded in `unit`."""
    mmol = unit != DEFAULT_UNIT
    return {
        key: round(convert(getattr(current, key), unit), 1 if mmol else 0) for key in THRESHOLD_KEYS
    }


def entered_thresholds(
    entered: Mapping[str, float], current: Thresholds, unit: str
) -> dict[str, float]:
    """The mg/dL values to store for what the form returned.

    A value left as shown keeps its exact mg/dL value, so that switching units back
    and forth never drifts the thresholds by rounding; a changed one is converted.
    """
    shown = shown_thresholds(current, unit)
    return {
        key: getattr(current, key)
        if value == shown[key]
        else round(convert(value, DEFAULT_UNIT, unit), 1)
        for key, value in entered.items()
    }
