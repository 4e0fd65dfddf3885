"""Sensors: the current reading and what it says, the 24-hour and report figures, the session."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, auto
from typing import Any, Final, override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, UnitOfBloodGlucoseConcentration
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .coordinator import DexcomShareConfigEntry, DexcomShareCoordinator
from .entity import DexcomShareAlertEntity, DexcomShareEntity
from .glucose.alerts import AlertKind
from .glucose.models import DailySummary, DataStatus, GlucoseRange, SensorLimit, Trend
from .glucose.report import GlucoseReport
from .glucose.session import SensorSession
from .glucose.snapshot import Snapshot

# Coordinator is used to centralize the data updates.
PARALLEL_UPDATES = 0

MG_DL: Final = UnitOfBloodGlucoseConcentration.MILLIGRAMS_PER_DECILITER
TREND_ARROWS: Final = {
    Trend.RISING_QUICKLY: "↑↑",
    Trend.RISING: "↑",
    Trend.RISING_SLIGHTLY: "↗",
    Trend.STEADY: "→",
    Trend.FALLING_SLIGHTLY: "↘",
    Trend.FALLING: "↓",
    Trend.FALLING_QUICKLY: "↓↓",
    Trend.NOT_COMPUTABLE: "?",
    Trend.RATE_OUT_OF_RANGE: "-",
}


def _daily(figure: Callable[[DailySummary], float]) -> Callable[[Snapshot], StateType]:
    return lambda snapshot: None if snapshot.daily is None else figure(snapshot.daily)


def _daily_readings(snapshot: Snapshot) -> dict[str, Any]:
    """How many readings of the last 24 hours a figure comes from, and how many from the fallback."""
    daily = snapshot.daily
    return (
        {} if daily is None else {"readings": daily.readings, "from_fallback": daily.from_fallback}
    )


def _report(figure: Callable[[GlucoseReport], float | None]) -> Callable[[Snapshot], StateType]:
    return lambda snapshot: figure(snapshot.report)


def _report_period(snapshot: Snapshot) -> dict[str, Any]:
    """Which readings a report figure comes from, so that it can be judged."""
    report = snapshot.report
    return {
        "days": report.days,
        "start": report.start,
        "end": report.end,
        "sufficient": report.sufficient,
        "readings": report.readings,
        "from_fallback": report.from_fallback,
    }


def _session(moment: Callable[[SensorSession], datetime]) -> Callable[[Snapshot], datetime | None]:
    return lambda snapshot: None if snapshot.session is None else moment(snapshot.session)


def _session_source(snapshot: Snapshot) -> dict[str, Any]:
    """Whether the start is the user's ("Sensor replaced") or found in the readings."""
    return {} if snapshot.session is None else {"manual": snapshot.session.manual}


def _trend_arrow(snapshot: Snapshot) -> dict[str, Any]:
    trend = snapshot.current.trend if snapshot.current else None
    return {"arrow": TREND_ARROWS[trend] if trend else None}


def _thresholds(snapshot: Snapshot) -> dict[str, Any]:
    """The thresholds (mg/dL) the range is judged by, for cards that draw the range."""
    thresholds = snapshot.options.thresholds
    return {
        "urgent_low": thresholds.urgent_low,
        "low": thresholds.low,
        "high": thresholds.high,
        "urgent_high": thresholds.urgent_high,
    }


class Needs(Enum):
    """What a sensor needs to be available."""

    CURRENT_READING = auto()
    """The reading and what is computed from it: never shown once 15 minutes old."""
    READING_IN_24_H = auto()
    """The reading time and the 24-hour figures, from Share's 24 hours."""
    NOTHING = auto()
    """The report and the sensor session: the local history and the user's button."""


@dataclass(frozen=True, kw_only=True)
class DexcomShareSensorEntityDescription(SensorEntityDescription):
    """A sensor computed from the readings held."""

    value_fn: Callable[[Snapshot], StateType | datetime]
    attributes_fn: Callable[[Snapshot], dict[str, Any]] | None = None
    unit_fn: Callable[[Snapshot], str] | None = None
    """The unit, when it follows the options (from the same snapshot as the value)."""
    needs: Needs = Needs.CURRENT_READING


def _report_percentage(
    key: str, figure: Callable[[GlucoseReport], float | None], *, enabled: bool = False
) -> DexcomShareSensorEntityDescription:
    """A share of the report period, to 0.1 %, with the period it covers."""
    return DexcomShareSensorEntityDescription(
        key=key,
        translation_key=key,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        needs=Needs.NOTHING,
        entity_registry_enabled_default=enabled,
        value_fn=_report(figure),
        attributes_fn=_report_period,
    )


SENSORS: Final = (
    DexcomShareSensorEntityDescription(
        key="glucose_value",
        translation_key="glucose_value",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda snapshot: snapshot.current.value if snapshot.current else None,
        device_class=SensorDeviceClass.BLOOD_GLUCOSE_CONCENTRATION,
        native_unit_of_measurement=MG_DL,
    ),
    DexcomShareSensorEntityDescription(
        key="glucose_trend",
        translation_key="glucose_trend",
        device_class=SensorDeviceClass.ENUM,
        options=[trend.value for trend in Trend],
        value_fn=lambda snapshot: snapshot.current.trend if snapshot.current else None,
        attributes_fn=_trend_arrow,
    ),
    DexcomShareSensorEntityDescription(
        key="sensor_limit",
        translation_key="sensor_limit",
        device_class=SensorDeviceClass.ENUM,
        options=[limit.value for limit in SensorLimit],
        value_fn=lambda snapshot: snapshot.sensor_limit,
    ),
    DexcomShareSensorEntityDescription(
        key="reading_time",
        translation_key="reading_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        needs=Needs.READING_IN_24_H,
        value_fn=lambda snapshot: snapshot.newest.time if snapshot.newest else None,
    ),
    DexcomShareSensorEntityDescription(
        key="glucose_delta",
        translation_key="glucose_delta",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda snapshot: snapshot.change,
        device_class=SensorDeviceClass.BLOOD_GLUCOSE_CONCENTRATION,
        native_unit_of_measurement=MG_DL,
    ),
    DexcomShareSensorEntityDescription(
        key="glucose_rate",
        translation_key="glucose_rate",
        entity_registry_enabled_default=False,
        value_fn=lambda snapshot: snapshot.rate,
        unit_fn=lambda snapshot: snapshot.rate_unit,
    ),
    DexcomShareSensorEntityDescription(
        key="glucose_range",
        translation_key="glucose_range",
        device_class=SensorDeviceClass.ENUM,
        options=[glucose_range.value for glucose_range in GlucoseRange],
        value_fn=lambda snapshot: snapshot.glucose_range,
        attributes_fn=_thresholds,
    ),
    DexcomShareSensorEntityDescription(
        key="predicted_glucose_15",
        translation_key="predicted_glucose_15",
        entity_registry_enabled_default=False,
        value_fn=lambda snapshot: snapshot.predicted_15,
        device_class=SensorDeviceClass.BLOOD_GLUCOSE_CONCENTRATION,
        native_unit_of_measurement=MG_DL,
    ),
    DexcomShareSensorEntityDescription(
        key="predicted_glucose_30",
        translation_key="predicted_glucose_30",
        entity_registry_enabled_default=False,
        value_fn=lambda snapshot: snapshot.predicted_30,
        device_class=SensorDeviceClass.BLOOD_GLUCOSE_CONCENTRATION,
        native_unit_of_measurement=MG_DL,
    ),
    DexcomShareSensorEntityDescription(
        key="time_in_range",
        translation_key="time_in_range",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        needs=Needs.READING_IN_24_H,
        value_fn=_daily(lambda daily: daily.time_in_range),
        attributes_fn=_daily_readings,
    ),
    DexcomShareSensorEntityDescription(
        key="time_below_range",
        translation_key="time_below_range",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=_daily(lambda daily: daily.time_below_range),
        attributes_fn=_daily_readings,
        needs=Needs.READING_IN_24_H,
        entity_registry_enabled_default=False,
    ),
    DexcomShareSensorEntityDescription(
        key="time_above_range",
        translation_key="time_above_range",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=_daily(lambda daily: daily.time_above_range),
        attributes_fn=_daily_readings,
        needs=Needs.READING_IN_24_H,
        entity_registry_enabled_default=False,
    ),
    DexcomShareSensorEntityDescription(
        key="average_glucose",
        translation_key="average_glucose",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_daily(lambda daily: daily.mean),
        attributes_fn=_daily_readings,
        device_class=SensorDeviceClass.BLOOD_GLUCOSE_CONCENTRATION,
        native_unit_of_measurement=MG_DL,
        needs=Needs.READING_IN_24_H,
        entity_registry_enabled_default=False,
    ),
    DexcomShareSensorEntityDescription(
        key="glucose_management_indicator",
        translation_key="glucose_management_indicator",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=_daily(lambda daily: daily.gmi),
        attributes_fn=_daily_readings,
        needs=Needs.READING_IN_24_H,
        entity_registry_enabled_default=False,
    ),
    DexcomShareSensorEntityDescription(
        key="coefficient_of_variation",
        translation_key="coefficient_of_variation",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=_daily(lambda daily: daily.cv),
        attributes_fn=_daily_readings,
        needs=Needs.READING_IN_24_H,
        entity_registry_enabled_default=False,
    ),
    # The report period's figures. Enabled: time in range (the consensus's main
    # target), time very low (its safety target), GMI (what clinics compare with the
    # lab HbA1c) and coverage (whether the others can be read at all).
    _report_percentage("report_time_very_low", lambda report: report.time_very_low, enabled=True),
    _report_percentage("report_time_low", lambda report: report.time_low),
    _report_percentage("report_time_in_range", lambda report: report.time_in_range, enabled=True),
    _report_percentage("report_time_high", lambda report: report.time_high),
    _report_percentage("report_time_very_high", lambda report: report.time_very_high),
    DexcomShareSensorEntityDescription(
        key="report_mean_glucose",
        translation_key="report_mean_glucose",
        state_class=SensorStateClass.MEASUREMENT,
        device_class=SensorDeviceClass.BLOOD_GLUCOSE_CONCENTRATION,
        native_unit_of_measurement=MG_DL,
        needs=Needs.NOTHING,
        entity_registry_enabled_default=False,
        value_fn=_report(lambda report: report.mean),
        attributes_fn=_report_period,
    ),
    DexcomShareSensorEntityDescription(
        key="report_standard_deviation",
        translation_key="report_standard_deviation",
        state_class=SensorStateClass.MEASUREMENT,
        device_class=SensorDeviceClass.BLOOD_GLUCOSE_CONCENTRATION,
        native_unit_of_measurement=MG_DL,
        needs=Needs.NOTHING,
        entity_registry_enabled_default=False,
        value_fn=_report(lambda report: report.sd),
        attributes_fn=_report_period,
    ),
    _report_percentage("report_coefficient_of_variation", lambda report: report.cv),
    _report_percentage(
        "report_glucose_management_indicator", lambda report: report.gmi, enabled=True
    ),
    _report_percentage("report_coverage", lambda report: report.coverage, enabled=True),
    DexcomShareSensorEntityDescription(
        key="sensor_started",
        translation_key="sensor_started",
        device_class=SensorDeviceClass.TIMESTAMP,
        needs=Needs.NOTHING,
        value_fn=_session(lambda session: session.start),
        attributes_fn=_session_source,
    ),
    DexcomShareSensorEntityDescription(
        key="sensor_expires",
        translation_key="sensor_expires",
        device_class=SensorDeviceClass.TIMESTAMP,
        needs=Needs.NOTHING,
        value_fn=_session(lambda session: session.expires),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: DexcomShareConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of one account."""
    async_add_entities(
        [
            *(DexcomShareSensor(entry.runtime_data, description) for description in SENSORS),
            DexcomShareActiveAlert(entry.runtime_data),
            DexcomShareDataStatus(entry.runtime_data),
        ]
    )


class DexcomShareSensor(DexcomShareEntity, SensorEntity):
    """A sensor that shows one figure of the coordinator's snapshot."""

    # The report's period moves with every reading: not worth a database row each time.
    _unrecorded_attributes = frozenset({"start", "end", "readings", "from_fallback"})
    entity_description: DexcomShareSensorEntityDescription

    def __init__(
        self,
        coordinator: DexcomShareCoordinator,
        description: DexcomShareSensorEntityDescription,
    ) -> None:
        """Create the sensor; glucose values start in the unit chosen in the options."""
        super().__init__(coordinator, description.key)
        self.entity_description = description
        if description.device_class is SensorDeviceClass.BLOOD_GLUCOSE_CONCENTRATION:
            self._attr_suggested_unit_of_measurement = coordinator.data.options.unit

    @property
    @override
    def available(self) -> bool:
        """Available while there is something current to show, even if a poll failed since.

        A reading older than 15 minutes is never shown as current; a failed poll does
        not hide one that still is.
        """
        snapshot = self.coordinator.data
        match self.entity_description.needs:
            case Needs.CURRENT_READING:
                return snapshot.current is not None
            case Needs.READING_IN_24_H:
                return snapshot.newest is not None
        return True

    @property
    @override
    def native_value(self) -> StateType | datetime:
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    @override
    def native_unit_of_measurement(self) -> str | None:
        if (unit_fn := self.entity_description.unit_fn) is not None:
            return unit_fn(self.coordinator.data)
        return super().native_unit_of_measurement

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any] | None:
        if (attributes_fn := self.entity_description.attributes_fn) is None:
            return None
        return attributes_fn(self.coordinator.data)


class DexcomShareDataStatus(DexcomShareEntity, SensorEntity):
    """Why the glucose value shows what it shows; always available, since it says why.

    Attributes: when the newest reading was taken (the time since it is what every
    card shows as "N minutes ago"; a count kept to the minute would cost the recorder
    1,440 rows a day), and the cause that keeps Share's readings from coming, also
    while the fallback sensor stands in.
    """

    _attr_translation_key = "data_status"
    _attr_device_class = SensorDeviceClass.ENUM

    def __init__(self, coordinator: DexcomShareCoordinator) -> None:
        """One per account, on its device."""
        super().__init__(coordinator, "data_status")
        self._attr_options = [status.value for status in DataStatus]

    @property
    @override
    def available(self) -> bool:
        return True

    @property
    @override
    def native_value(self) -> str:
        return self.coordinator.data.status.value

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any]:
        snapshot = self.coordinator.data
        newest = snapshot.newest
        problem = snapshot.share_problem
        return {
            "last_reading": newest.time.isoformat() if newest else None,
            "share_problem": problem.value if problem else None,
        }


NO_ALERT: Final = "none"


class DexcomShareActiveAlert(DexcomShareAlertEntity, SensorEntity):
    """The most urgent active alert, or `none`; each kind's state as attributes."""

    _attr_translation_key = "active_alert"
    _attr_device_class = SensorDeviceClass.ENUM

    def __init__(self, coordinator: DexcomShareCoordinator) -> None:
        """One per account, on its device."""
        super().__init__(coordinator, "active_alert")
        self._attr_options = [NO_ALERT, *(str(kind) for kind in AlertKind)]

    @property
    @override
    def native_value(self) -> str:
        active = self.coordinator.alerts.active()
        return str(active[0]) if active else NO_ALERT

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any]:
        """Per active kind: sounding, acknowledged or snoozed, by whom, since and until."""
        engine = self.coordinator.alerts
        now = dt_util.utcnow()
        alerts: dict[str, Any] = {}
        for kind in AlertKind:
            state = engine.states[kind]
            if not state.active:
                continue
            by: str | None = None
            if state.acknowledged_by is not None:
                status, by = "acknowledged", state.acknowledged_by
            elif state.silenced(now):
                status, by = "snoozed", state.snoozed_by
            else:
                status = "sounding"
            alerts[str(kind)] = {
                "state": status,
                "since": state.raised_at.isoformat() if state.raised_at else None,
                "by": by,
            }
        snoozed = {
            str(kind): state.snoozed_until.isoformat()
            for kind, state in engine.states.items()
            if state.snoozed_until is not None and state.snoozed_until > now
        }
        return {"alerts": alerts, "snoozed_until": snoozed}
