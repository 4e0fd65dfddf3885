"""The integration's data types, shared by the Share client, the coordinator and the entities."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Trend(StrEnum):
    """Share's trend arrows, in Home Assistant's words."""

    RISING_QUICKLY = "rising_quickly"
    RISING = "rising"
    RISING_SLIGHTLY = "rising_slightly"
    STEADY = "steady"
    FALLING_SLIGHTLY = "falling_slightly"
    FALLING = "falling"
    FALLING_QUICKLY = "falling_quickly"
    NOT_COMPUTABLE = "not_computable"
    RATE_OUT_OF_RANGE = "rate_out_of_range"


@dataclass(frozen=True, slots=True)
class GlucoseReading:
    """One CGM reading: when it was taken, mg/dL as Share sends it, and the arrow."""

    time: datetime
    value: int
    trend: Trend | None
