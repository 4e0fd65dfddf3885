"""Hourly glucose statistics imported with their true timestamps, so restarts leave no hole.

The recorder compiles the glucose sensor's own statistics only from states it saw; a
restart or an outage leaves a hole there. This external statistic,
`dexcom_share:glucose_<entry id>`, is computed from the readings Share holds (up to
24 hours back), so it is filled in after the fact. Importing an hour again replaces it,
so repeated imports are harmless.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
import statistics
from typing import Final

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import async_add_external_statistics
from homeassistant.const import UnitOfBloodGlucoseConcentration
from homeassistant.core import HomeAssistant
from homeassistant.util.unit_conversion import BloodGlucoseConcentrationConverter

from .const import DOMAIN
from .glucose.models import GlucoseReading

HOUR: Final = timedelta(hours=1)


def statistic_id(entry_id: str) -> str:
    """The external statistic of one entry."""
    return f"{DOMAIN}:glucose_{entry_id.lower()}"


def _hour(time: datetime) -> datetime:
    return time.replace(minute=0, second=0, microsecond=0)


class StatisticsImporter:
    """Imports complete hours, once the readings of an hour may have changed."""

    def __init__(self, hass: HomeAssistant, entry_id: str, name: str) -> None:
        """Describe the statistic; nothing is imported until `readings_added`."""
        self._hass = hass
        self._metadata = StatisticMetaData(
            mean_type=StatisticMeanType.ARITHMETIC,
            has_sum=False,
            name=name,
            source=DOMAIN,
            statistic_id=statistic_id(entry_id),
            unit_class=BloodGlucoseConcentrationConverter.UNIT_CLASS,
            unit_of_measurement=UnitOfBloodGlucoseConcentration.MILLIGRAMS_PER_DECILITER,
        )
        self._pending: set[datetime] = set()

    def readings_added(
        self,
        readings: tuple[GlucoseReading, ...],
        added: Iterable[GlucoseReading],
        now: datetime,
    ) -> None:
        """Import every complete hour that `added` touched (all of them on first load).

        `readings` are all readings held, newest first. The oldest hour held is partial
        (Share's 24 hours start inside it) and is never imported.
        """
        if not readings or "recorder" not in self._hass.config.components:
            return
        first_complete = _hour(readings[-1].time) + HOUR
        self._pending.update(_hour(reading.time) for reading in added)
        due = sorted(
            hour for hour in self._pending if hour + HOUR <= now and hour >= first_complete
        )
        self._pending = {hour for hour in self._pending if hour + HOUR > now}
        by_hour: dict[datetime, list[int]] = defaultdict(list)
        for reading in readings:
            by_hour[_hour(reading.time)].append(reading.value)
        rows = [
            StatisticData(
                start=hour,
                mean=statistics.fmean(by_hour[hour]),
                min=min(by_hour[hour]),
                max=max(by_hour[hour]),
            )
            for hour in due
            if by_hour[hour]
        ]
        if rows:
            async_add_external_statistics(self._hass, self._metadata, rows)
