"""Glucose units: the library's own spelling and factor are Home Assistant's."""

from homeassistant.const import UnitOfBloodGlucoseConcentration
from homeassistant.util.unit_conversion import BloodGlucoseConcentrationConverter
from hypothesis import given, strategies as st

from custom_components.dexcom_share.glucose.units import MG_DL, MMOL_L, UNITS, convert


def test_units_are_spelled_as_home_assistant_spells_them() -> None:
    """The entities' units and the library's compare equal, in the same order."""
    assert UNITS == (
        UnitOfBloodGlucoseConcentration.MILLIGRAMS_PER_DECILITER,
        UnitOfBloodGlucoseConcentration.MILLIMOLE_PER_LITER,
    )
    assert (MG_DL, MMOL_L) == UNITS


@given(
    value=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False) | st.integers(-1000, 1000),
    from_unit=st.sampled_from(UNITS),
    to_unit=st.sampled_from(UNITS),
)
def test_convert_is_home_assistants_conversion_to_the_bit(
    value: float, from_unit: str, to_unit: str
) -> None:
    """Moved off Home Assistant's converter, every value converts to the same float."""
    expected = BloodGlucoseConcentrationConverter.convert(value, from_unit, to_unit)
    assert convert(value, to_unit, from_unit) == expected
    assert type(convert(value, to_unit, from_unit)) is type(expected)
