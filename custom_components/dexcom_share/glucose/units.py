"""Glucose units, spelled and converted as Home Assistant does."""

from typing import Final

MG_DL: Final = "mg/dL"
MMOL_L: Final = "mmol/L"
UNITS: Final = (MG_DL, MMOL_L)
_PER_MMOL_L: Final = {MG_DL: 180.16 / 10, MMOL_L: 1.0}
"""A unit's amount in one mmol/L: glucose's molar mass over 10, Home Assistant's factor."""


def convert(value: float, to_unit: str, from_unit: str = MG_DL) -> float:
    """A glucose value (or a change of one) in another unit."""
    if from_unit == to_unit:
        return value
    return value / _PER_MMOL_L[from_unit] * _PER_MMOL_L[to_unit]
