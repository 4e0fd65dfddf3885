"""The consensus glucose bands (Battelino et al., Diabetes Care 2019), in mg/dL.

Very low < 54 ≤ low < 70 ≤ in range ≤ 180 < high ≤ 250 < very high. Readings are
whole numbers, so "54-69" and "181-250" leave no gaps.
"""

from typing import Final

VERY_LOW_BELOW: Final = 54
LOW_BELOW: Final = 70
HIGH_ABOVE: Final = 180
VERY_HIGH_ABOVE: Final = 250
BANDS: Final = 5


def band_index(value: int) -> int:
    """0 very low, 1 low, 2 in range, 3 high, 4 very high (LOW counts as very low)."""
    if value < VERY_LOW_BELOW:
        return 0
    if value < LOW_BELOW:
        return 1
    if value <= HIGH_ABOVE:
        return 2
    if value <= VERY_HIGH_ABOVE:
        return 3
    return 4
