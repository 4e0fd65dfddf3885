"""The pydexcom internals glucose/share.py relies on, checked so that an upgrade fails here first.

glucose/share.py overrides pydexcom's `_post` and calls `_get_session` and
`_get_glucose_readings` directly; it reads `_session`, `_base_url` and `account_id` and
pydexcom's constants. If a new pydexcom renames or reshapes any of these, this file
fails in CI instead of the integration failing at a user's.
"""

import inspect
from typing import Any

from pydexcom import Dexcom, Region
import pydexcom.const
from pydexcom.errors import ArgumentError, ArgumentErrorEnum
import pytest
import requests

from share_simulator import Account, ShareSimulator

from .conftest import ACCOUNT_ID, PASSWORD, USERNAME


def parameters(function: Any) -> list[tuple[str, Any]]:
    """Names and defaults of a function's parameters, without `self`."""
    return [
        (name, parameter.default)
        for name, parameter in inspect.signature(function).parameters.items()
        if name != "self"
    ]


def test_method_signatures() -> None:
    """The methods overridden or called keep their names, parameters and defaults."""
    empty = inspect.Parameter.empty
    assert parameters(Dexcom._post) == [("endpoint", empty), ("params", None), ("json", None)]
    assert parameters(Dexcom._get_session) == []
    assert parameters(Dexcom._get_glucose_readings) == [("minutes", 1440), ("max_count", 288)]
    assert parameters(Dexcom.__init__) == [
        ("password", empty),
        ("account_id", None),
        ("username", None),
        ("region", Region.US),
    ]


def test_constants() -> None:
    """The constants used: limits, headers, trend names and the region table."""
    assert pydexcom.const.MAX_MINUTES == 1440
    assert pydexcom.const.MAX_MAX_COUNT == 288
    assert pydexcom.const.HEADERS == {"Accept-Encoding": "application/json"}
    assert list(pydexcom.const.DEXCOM_TREND_DIRECTIONS.items()) == [
        ("None", 0),
        ("DoubleUp", 1),
        ("SingleUp", 2),
        ("FortyFiveUp", 3),
        ("Flat", 4),
        ("FortyFiveDown", 5),
        ("SingleDown", 6),
        ("DoubleDown", 7),
        ("NotComputable", 8),
        ("RateOutOfRange", 9),
    ]
    assert {region.value for region in Region} == {"us", "ous", "jp"}
    assert set(pydexcom.const.DEXCOM_BASE_URLS) == set(Region)
    assert {ArgumentErrorEnum.USERNAME_INVALID, ArgumentErrorEnum.PASSWORD_INVALID} <= set(
        ArgumentErrorEnum
    )
    assert issubclass(ArgumentError, Exception)


def test_a_login_goes_through_post_and_sets_the_attributes_used(
    share: ShareSimulator, account: Account
) -> None:
    """A pydexcom login sends every request through `_post` and keeps these attributes."""
    endpoints: list[str] = []

    class Recording(Dexcom):
        def _post(
            self,
            endpoint: str,
            params: dict[str, Any] | None = None,
            json: dict[str, Any] | None = None,
        ) -> Any:
            endpoints.append(endpoint)
            return super()._post(endpoint, params, json)

    dexcom = Recording(password=PASSWORD, username=USERNAME, region=Region.US)
    assert endpoints == [
        pydexcom.const.DEXCOM_AUTHENTICATE_ENDPOINT,
        pydexcom.const.DEXCOM_LOGIN_ID_ENDPOINT,
    ]
    assert isinstance(dexcom._session, requests.Session)
    assert dexcom._base_url == pydexcom.const.DEXCOM_BASE_URLS[Region.US]
    assert str(dexcom.account_id) == ACCOUNT_ID
    records = dexcom._get_glucose_readings(10, 2)
    assert endpoints[-1] == pydexcom.const.DEXCOM_GLUCOSE_READINGS_ENDPOINT
    assert isinstance(records, list)
    assert {"DT", "Value", "Trend"} <= set(records[0])
    dexcom._get_session()
    assert endpoints[-1] == pydexcom.const.DEXCOM_LOGIN_ID_ENDPOINT


def test_all_zero_account_id_is_refused_by_an_argument_error(share: ShareSimulator) -> None:
    """glucose/share.py relies on pydexcom refusing the all-zeros ID with an ArgumentError."""
    with pytest.raises(ArgumentError):
        Dexcom(password=PASSWORD, account_id=pydexcom.const.DEFAULT_UUID)
