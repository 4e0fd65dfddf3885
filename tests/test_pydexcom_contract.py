"""What glucose/share.py takes from pydexcom, checked so that an upgrade fails here first.

glucose/share.py sends pydexcom's requests itself, on Home Assistant's aiohttp session,
and uses only pydexcom's public parts: its constants, `Region` and the texts of its
argument errors. If a new pydexcom changes any of them, or logs in or reads
differently, this file fails in CI instead of the integration failing at a user's.
pydexcom itself runs here synchronously (it blocks the loop for a moment; the
simulator answers from its own thread).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any
from unittest.mock import patch

import aiohttp
from pydexcom import Dexcom, Region
import pydexcom.const
from pydexcom.errors import ArgumentError, ArgumentErrorEnum
import pytest

from custom_components.dexcom_share.glucose.share import (
    ShareAuthError,
    ShareClient,
    ShareDataError,
    ShareSessionExpiredError,
)
from share_simulator import Account, Fault, ShareSimulator
from share_simulator.model import AUTHENTICATE, LOGIN_BY_ID, Response

from .conftest import ACCOUNT_ID, PASSWORD, USERNAME

type Sent = list[tuple[str, str, dict[str, Any], Any]]


def test_constants() -> None:
    """The constants used: limits, headers, IDs, endpoints, trend names and region tables."""
    assert pydexcom.const.MAX_MINUTES == 1440
    assert pydexcom.const.MAX_MAX_COUNT == 288
    assert pydexcom.const.HEADERS == {"Accept-Encoding": "application/json"}
    assert pydexcom.const.DEFAULT_UUID == "00000000-0000-0000-0000-000000000000"
    assert pydexcom.const.DEXCOM_AUTHENTICATE_ENDPOINT == AUTHENTICATE
    assert pydexcom.const.DEXCOM_LOGIN_ID_ENDPOINT == LOGIN_BY_ID
    assert (
        pydexcom.const.DEXCOM_GLUCOSE_READINGS_ENDPOINT
        == "Publisher/ReadPublisherLatestGlucoseValues"
    )
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
    assert set(pydexcom.const.DEXCOM_APPLICATION_IDS) == set(Region)
    assert {
        ArgumentErrorEnum.USERNAME_INVALID,
        ArgumentErrorEnum.PASSWORD_INVALID,
        ArgumentErrorEnum.ACCOUNT_ID_INVALID,
        ArgumentErrorEnum.ACCOUNT_ID_DEFAULT,
        ArgumentErrorEnum.SESSION_ID_INVALID,
        ArgumentErrorEnum.SESSION_ID_DEFAULT,
    } <= set(ArgumentErrorEnum)


@contextmanager
def recording(share: ShareSimulator) -> Iterator[Sent]:
    """Every request the simulator answers: region, endpoint, query and JSON body."""
    sent: Sent = []
    handle = share.state.handle

    def recorded(region: str, endpoint: str, params: dict[str, Any], body: Any) -> Response:
        sent.append((region, endpoint, dict(params), body))
        return handle(region, endpoint, params, body)

    with patch.object(share.state, "handle", recorded):
        yield sent


def without_sessions(sent: Sent) -> Sent:
    """The requests with session IDs (new at each login) replaced by a placeholder."""
    return [
        (region, endpoint, {**params, "sessionId": "*"} if "sessionId" in params else params, body)
        for region, endpoint, params, body in sent
    ]


def pydexcom_for(login: str, password: str = PASSWORD) -> Dexcom:
    """A pydexcom client as glucose/share.py made one, in Japan (its own application ID)."""
    is_id = login in (pydexcom.const.DEFAULT_UUID, ACCOUNT_ID)
    return Dexcom(
        password=password,
        account_id=login if is_id else None,
        username=None if is_id else login,
        region=Region.JP,
    )


@pytest.mark.parametrize("login", [USERNAME, ACCOUNT_ID])
async def test_our_requests_are_pydexcoms(
    share: ShareSimulator, account: Account, websession: aiohttp.ClientSession, login: str
) -> None:
    """Login, read, and the read after an expired session send what pydexcom sends.

    pydexcom retries a read whose session expired within the same call; ours ends
    that read and logs in at the next one: the same requests, in the same order.
    """
    account.region = "jp"
    with recording(share) as theirs:
        dexcom = pydexcom_for(login)
        dexcom.get_glucose_readings(minutes=10, max_count=2)
        share.state.expire_sessions()
        dexcom.get_glucose_readings(minutes=10, max_count=2)
    with recording(share) as ours:
        share_client = ShareClient(websession, login, PASSWORD, "jp")
        await share_client.login()
        await share_client.read(minutes=10, max_count=2)
        share.state.expire_sessions()
        with pytest.raises(ShareSessionExpiredError):
            await share_client.read(minutes=10, max_count=2)
        await share_client.read(minutes=10, max_count=2)
    assert without_sessions(ours) == without_sessions(theirs)
    assert [endpoint for _, endpoint, _, _ in ours][-3:] == [
        pydexcom.const.DEXCOM_GLUCOSE_READINGS_ENDPOINT,
        LOGIN_BY_ID,
        pydexcom.const.DEXCOM_GLUCOSE_READINGS_ENDPOINT,
    ]


@pytest.mark.parametrize(
    ("login", "password", "fault", "enum", "error"),
    [
        (USERNAME, "", None, ArgumentErrorEnum.PASSWORD_INVALID, ShareAuthError),
        ("", PASSWORD, None, ArgumentErrorEnum.USERNAME_INVALID, ShareAuthError),
        (
            pydexcom.const.DEFAULT_UUID,
            PASSWORD,
            None,
            ArgumentErrorEnum.ACCOUNT_ID_DEFAULT,
            ShareDataError,
        ),
        (
            USERNAME,
            PASSWORD,
            Fault("zero_uuid", endpoint=AUTHENTICATE),
            ArgumentErrorEnum.ACCOUNT_ID_DEFAULT,
            ShareDataError,
        ),
        (
            USERNAME,
            PASSWORD,
            Fault("zero_uuid", endpoint=LOGIN_BY_ID),
            ArgumentErrorEnum.SESSION_ID_DEFAULT,
            ShareDataError,
        ),
        (
            USERNAME,
            PASSWORD,
            Fault("code", endpoint=AUTHENTICATE, status=200, code="not an ID"),
            ArgumentErrorEnum.ACCOUNT_ID_INVALID,
            ShareDataError,
        ),
    ],
    ids=[
        "empty password",
        "empty username",
        "all-zeros account ID",
        "all-zeros from Authenticate",
        "all-zeros session",
        "account ID not a string",
    ],
)
async def test_argument_checks_have_pydexcoms_outcomes(
    share: ShareSimulator,
    account: Account,
    websession: aiohttp.ClientSession,
    login: str,
    password: str,
    fault: Fault | None,
    enum: ArgumentErrorEnum,
    error: type[Exception],
) -> None:
    """Where pydexcom refuses with an ArgumentError, ours refuses as it did, as many requests in."""
    account.region = "jp"

    def arm() -> None:
        if fault is not None:
            share.state.add_fault(replace(fault))

    arm()
    with pytest.raises(ArgumentError) as refused:
        pydexcom_for(login, password)
    assert refused.value.enum is enum
    sent = share.state.request_count()
    share.state.reset_log()
    arm()
    with pytest.raises(error, match=enum.value):
        await ShareClient(websession, login, password, "jp").login()
    assert share.state.request_count() == sent
