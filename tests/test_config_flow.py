"""The config, reauthentication and options flows, through pydexcom to the simulator."""

from datetime import datetime, timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.dexcom_share.const import CONF_REGION, CONF_UNIT, DOMAIN
from share_simulator import Account, Fault, ShareSimulator
from share_simulator.model import AUTHENTICATE

from .conftest import ACCOUNT_ID, EMAIL, NOW, PASSWORD, PHONE, USERNAME, readings_until
from .entities import VALUE
from .helpers import advance, finish_options, repair_issues


def user_input(
    username: str = USERNAME, password: str = PASSWORD, region: str = "us"
) -> dict[str, Any]:
    """What a person types into the form."""
    return {CONF_USERNAME: username, CONF_PASSWORD: password, CONF_REGION: region}


async def start_user_flow(hass: HomeAssistant) -> dict[str, Any]:
    """Open the user step and check it is a form."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    return result


@pytest.mark.parametrize("username", [USERNAME, EMAIL, PHONE, f"  {USERNAME.upper()} "])
async def test_user_flow_creates_entry(
    hass: HomeAssistant, account: Account, username: str
) -> None:
    """Username, email and phone all log in; the account ID becomes the unique ID."""
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(username=username)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == username.strip()
    assert result["data"] == user_input(username=username.strip())
    assert result["result"].unique_id == ACCOUNT_ID


async def test_share_without_readings_says_so_then_checks_again(
    hass: HomeAssistant, account: Account
) -> None:
    """Share off: the flow says so before adding; checking again after turning it on adds."""
    account.share_enabled = False
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input())
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "no_readings"
    assert result["menu_options"] == ["check_again", "add_anyway"]
    assert result["description_placeholders"] == {CONF_USERNAME: USERNAME}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "check_again"}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "no_readings"
    account.share_enabled = True
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "check_again"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == user_input()
    assert result["result"].unique_id == ACCOUNT_ID


async def test_share_without_readings_can_be_added_anyway(
    hass: HomeAssistant, account: Account
) -> None:
    """The user adds the account without readings; Data status says so once it is set up."""
    account.share_enabled = False
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input())
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "add_anyway"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == USERNAME
    await hass.async_block_till_done()
    assert hass.states.get("sensor.dexcom_jane_sharer_data_status").state == "no_readings"


async def test_account_id_login_skips_username_step(
    hass: HomeAssistant, share: ShareSimulator, account: Account
) -> None:
    """An account ID (a UUID) in the username field logs in by ID directly."""
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(username=ACCOUNT_ID)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == ACCOUNT_ID
    assert share.state.request_count(AUTHENTICATE) == 0


async def test_same_account_by_email_and_username_aborts(
    hass: HomeAssistant, account: Account, config_entry: MockConfigEntry
) -> None:
    """The account entered by username is recognised when entered again by email."""
    result = await start_user_flow(hass)
    with patch("custom_components.dexcom_share.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input(username=EMAIL)
        )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize(
    ("failing_input", "expected_error"),
    [
        (user_input(password="wrong"), "invalid_auth"),
        (user_input(region="ous"), "invalid_auth"),
        (user_input(username="follower@example.com"), "invalid_auth"),
    ],
)
async def test_invalid_auth_then_success(
    hass: HomeAssistant, account: Account, failing_input: dict[str, Any], expected_error: str
) -> None:
    """Wrong password, wrong region or someone else's login: invalid_auth, then a fix works."""
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], failing_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": expected_error}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input())
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    "fault",
    [
        Fault("html", status=502),
        Fault("empty", status=503),
        Fault("json_string"),
        Fault("malformed_json"),
        Fault("code", status=429, code="TooManyRequests", message="Rate limited"),
        Fault("object", endpoint="Publisher/ReadPublisherLatestGlucoseValues"),
        Fault("reset"),
    ],
    ids=lambda fault: fault.kind,
)
async def test_share_failure_then_success(
    hass: HomeAssistant, share: ShareSimulator, account: Account, fault: Fault
) -> None:
    """Server errors and garbage show cannot_connect; the next try succeeds."""
    share.state.add_fault(fault)
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input())
    assert result["errors"] == {"base": "cannot_connect"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input())
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_share_unreachable_then_success(
    hass: HomeAssistant, share: ShareSimulator, account: Account
) -> None:
    """Connection refused shows cannot_connect; once Share is back, the entry is made."""
    share.refuse_connections()
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input())
    assert result["errors"] == {"base": "cannot_connect"}
    share.accept_connections()
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input())
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_locked_account_then_success(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Share's lockout (its real 'Exceeed' spelling) shows account_locked until it ends."""
    account.locked_until = share.state.clock() + 15 * 60
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input())
    assert result["errors"] == {"base": "account_locked"}
    freezer.tick(timedelta(minutes=16))
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input())
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_unexpected_error_then_success(hass: HomeAssistant, account: Account) -> None:
    """A bug shows 'unknown' instead of crashing the flow.

    The simulator cannot make pydexcom raise an unexpected exception type, so this one
    test replaces the credential check.
    """
    result = await start_user_flow(hass)
    with patch(
        "custom_components.dexcom_share.config_flow._check_credentials",
        side_effect=RuntimeError("boom"),
    ):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input())
    assert result["errors"] == {"base": "unknown"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input())
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_reauth_with_new_password(
    hass: HomeAssistant, account: Account, init_integration: MockConfigEntry
) -> None:
    """A wrong new password is refused; the right one updates the entry in place."""
    account.password = "new password"
    result = await init_integration.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"][CONF_USERNAME] == USERNAME
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "still wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "new password"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert init_integration.data[CONF_PASSWORD] == "new password"
    assert init_integration.data[CONF_USERNAME] == USERNAME


async def test_reauth_with_another_account_aborts(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
) -> None:
    """Reauthentication must not switch the entry to a different Dexcom account."""
    share.state.add_account(username="someone.else", password="other")
    hass.config_entries.async_update_entry(
        init_integration, data={**init_integration.data, CONF_USERNAME: "someone.else"}
    )
    result = await init_integration.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PASSWORD: "other"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert init_integration.data[CONF_PASSWORD] == PASSWORD


async def set_options(
    hass: HomeAssistant, entry: MockConfigEntry, first: dict[str, Any]
) -> dict[str, Any]:
    """Go through both option steps, leaving the thresholds as the form shows them."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(result["flow_id"], first)
    assert result["step_id"] == "thresholds"
    shown = {marker.schema: marker.default() for marker in result["data_schema"].schema}
    result = await hass.config_entries.options.async_configure(result["flow_id"], shown)
    assert result["step_id"] == "alerts"
    return await finish_options(hass, result)


async def test_options_switch_glucose_unit(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, init_integration: MockConfigEntry
) -> None:
    """The unit option converts the glucose entities through Home Assistant, and back."""
    assert hass.states.get(VALUE).state == "111"
    for unit, state in (("mmol/L", "6.2"), ("mmol/L", "6.2"), ("mg/dL", "111"), ("mmol/L", "6.2")):
        result = await set_options(hass, init_integration, {CONF_UNIT: unit, "stale_minutes": 15})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert init_integration.options[CONF_UNIT] == unit
        value = hass.states.get(VALUE)
        assert value.attributes["unit_of_measurement"] == unit
        assert round(float(value.state), 1) == float(state)
        options = entity_registry.async_get(VALUE).options["sensor"]
        assert options[CONF_UNIT] == unit
        assert options["suggested_display_precision"] == (1 if unit == "mmol/L" else 0)
    # Thresholds left as shown keep their exact mg/dL values through unit changes.
    assert [
        init_integration.options[key] for key in ("urgent_low", "low", "high", "urgent_high")
    ] == [55, 70, 180, 250]


@pytest.mark.parametrize(
    ("unit", "entered", "stored"),
    [
        ("mg/dL", [60, 80, 160, 220], [60, 80, 160, 220]),
        ("mmol/L", [3.0, 4.0, 9.0, 12.0], [54.0, 72.1, 162.1, 216.2]),
    ],
)
async def test_thresholds_in_the_users_unit(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    unit: str,
    entered: list[float],
    stored: list[float],
) -> None:
    """Thresholds are entered in the chosen unit and stored in mg/dL; order is checked."""
    keys = ("urgent_low", "low", "high", "urgent_high")
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_UNIT: unit, "stale_minutes": 20}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], dict(zip(keys, reversed(entered), strict=True))
    )
    assert result["errors"] == {"base": "thresholds_order"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], dict(zip(keys, entered, strict=True))
    )
    result = await finish_options(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert [init_integration.options[key] for key in keys] == stored
    assert init_integration.options["stale_minutes"] == 20
    assert hass.states.get("sensor.dexcom_jane_sharer_glucose_range").state == "in_range"


async def test_reconfigure_changes_login_in_place(
    hass: HomeAssistant, account: Account, init_integration: MockConfigEntry
) -> None:
    """Switch to the email login and back: same entry, errors shown, then saved."""
    result = await init_integration.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(username=EMAIL, region="ous")
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(username=f" {EMAIL} ")
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert init_integration.data == user_input(username=EMAIL)
    assert init_integration.unique_id == ACCOUNT_ID
    assert init_integration.title == USERNAME


async def test_reconfigure_to_another_account_aborts(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
) -> None:
    """Reconfiguring must not turn the entry into someone else's account."""
    share.state.add_account(username="someone.else", password="other")
    result = await init_integration.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input(username="someone.else", password="other")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert init_integration.data[CONF_USERNAME] == USERNAME


async def test_options_of_an_entry_that_is_not_loaded(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """Options can be set while the entry is not running (e.g. Share was down at start)."""
    result = await set_options(hass, config_entry, {CONF_UNIT: "mmol/L", "stale_minutes": 10})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert config_entry.options[CONF_UNIT] == "mmol/L"
    assert config_entry.options["stale_minutes"] == 10


async def login_flow(
    hass: HomeAssistant, login: str, password: str = PASSWORD, entry: MockConfigEntry | None = None
) -> dict[str, Any]:
    """Add an entry (or reconfigure `entry`) with this login, region US."""
    context = (
        {"source": SOURCE_USER}
        if entry is None
        else {"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    result = await hass.config_entries.flow.async_init(DOMAIN, context=context)
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_USERNAME: login, CONF_PASSWORD: password, CONF_REGION: "us"}
    )


@pytest.mark.parametrize(
    "spelling",
    [
        ACCOUNT_ID.upper(),
        ACCOUNT_ID.replace("-", ""),
        "{" + ACCOUNT_ID + "}",
        f"urn:uuid:{ACCOUNT_ID}",
        f"  {ACCOUNT_ID.upper()} ",
    ],
)
async def test_account_id_in_any_spelling(
    hass: HomeAssistant, account: Account, spelling: str
) -> None:
    """An account ID logs in as the canonical UUID; another spelling is the same entry."""
    result = await login_flow(hass, spelling)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_USERNAME] == ACCOUNT_ID
    assert result["result"].unique_id == ACCOUNT_ID
    await hass.async_block_till_done()

    result = await login_flow(hass, ACCOUNT_ID.upper())
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"

    entry = hass.config_entries.async_entries(DOMAIN)[0]
    result = await login_flow(hass, spelling, entry=entry)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_a_username_with_four_dashes_is_not_an_account_id(
    hass: HomeAssistant, share: ShareSimulator, frozen_now: datetime
) -> None:
    """Only a real UUID logs in by account ID."""
    share.state.add_account(
        username="anne-marie-de-la-cruz@example.com",
        password=PASSWORD,
        readings=readings_until(NOW - timedelta(minutes=1), [100]),
    )
    result = await login_flow(hass, "anne-marie-de-la-cruz@example.com")
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_adding_a_paused_account_again_sends_no_login(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """While the entry waits out a lockout, "Add integration" with its login sends nothing."""
    share.state.expire_sessions()
    account.locked_until = share.state.clock() + 3600
    await advance(hass, freezer, timedelta(minutes=5))
    assert repair_issues(hass) == {"account_locked"}
    logins = share.state.login_count()
    for login in (USERNAME, USERNAME.upper(), f" {USERNAME} "):
        result = await login_flow(hass, login)
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "already_configured"
    assert share.state.login_count() == logins


async def test_reconfigure_to_another_entrys_login_sends_nothing(
    hass: HomeAssistant,
    share: ShareSimulator,
    account: Account,
    init_integration: MockConfigEntry,
) -> None:
    """Another entry's login is refused before a login could extend that entry's lockout."""
    other = MockConfigEntry(
        domain=DOMAIN,
        title="alex",
        unique_id="0b7f0a1e-1111-4222-8333-944455556666",
        data={CONF_USERNAME: "alex", CONF_PASSWORD: "x", CONF_REGION: "us"},
    )
    other.add_to_hass(hass)
    logins = share.state.login_count()
    result = await login_flow(hass, "ALEX", "x", entry=init_integration)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert share.state.login_count() == logins
