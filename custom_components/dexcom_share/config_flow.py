"""Config, reauthentication and options flows for Dexcom Share."""

from collections.abc import Mapping
from dataclasses import dataclass
import time
from typing import Any

from homeassistant.components.sensor import DOMAIN as SENSOR_DOMAIN, SensorDeviceClass
from homeassistant.config_entries import ConfigEntryState, ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio

from .const import (
    CONF_ALERTS_ON,
    CONF_ESCALATE_MINUTES,
    CONF_FALLBACK,
    CONF_HIGH_MINUTES,
    CONF_NO_DATA_MINUTES,
    CONF_RATE,
    CONF_REGION,
    CONF_REPEAT,
    CONF_REPORT_DAYS,
    CONF_SENSOR_TYPE,
    CONF_STALE_MINUTES,
    CONF_UNIT,
    DEFAULT_REGION,
    DEFAULT_UNIT,
    DOMAIN,
    LOGGER,
    MAX_STALE_MINUTES,
    MIN_STALE_MINUTES,
    REGIONS,
    THRESHOLD_KEYS,
)
from .coordinator import DexcomShareConfigEntry
from .glucose.alerts import (
    ALWAYS_ON,
    MAX_REPEAT_MINUTES,
    MIN_REPEAT_MINUTES,
    URGENT_LOW_MAX_SILENCE,
    AlertKind,
)
from .glucose.report import REPORT_DAYS
from .glucose.session import SensorType
from .glucose.share import (
    ShareAuthError,
    ShareClient,
    ShareConnectionError,
    ShareError,
    ShareLockedError,
    canonical_login,
)
from .glucose.units import UNITS
from .options import (
    ESCALATE_MINUTES,
    HIGH_MINUTES,
    NO_DATA_MINUTES,
    RATE,
    alert_settings,
    entered_thresholds,
    fallback_sensor,
    finite_number,
    glucose_unit,
    report_days,
    sensor_type,
    shown_thresholds,
    stale_after,
    thresholds,
)
from .storage import EntryState, async_entry_state

USERNAME_SELECTOR = TextSelector(
    TextSelectorConfig(type=TextSelectorType.TEXT, autocomplete="username")
)
PASSWORD_SELECTOR = TextSelector(
    TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="current-password")
)
REGION_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=list(REGIONS), translation_key=CONF_REGION, mode=SelectSelectorMode.LIST
    )
)
USER_SCHEMA = probatio.Schema(
    {
        probatio.Required(CONF_USERNAME): USERNAME_SELECTOR,
        probatio.Required(probatio.Secret(CONF_PASSWORD)): PASSWORD_SELECTOR,
        probatio.Required(CONF_REGION, default=DEFAULT_REGION): REGION_SELECTOR,
    }
)
REAUTH_SCHEMA = probatio.Schema(
    {probatio.Required(probatio.Secret(CONF_PASSWORD)): PASSWORD_SELECTOR}
)


def _without_password(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Form values to show again: never send a password back to the browser."""
    if values is None:
        return None
    return {key: value for key, value in values.items() if key != CONF_PASSWORD}


@dataclass(frozen=True, slots=True)
class LoginCheck:
    """What checking a login found: the account ID, or the form errors to show."""

    account_id: str | None
    errors: dict[str, str]
    has_readings: bool = False
    """Share holds at least one reading of the last 24 hours."""


async def _check_credentials(client: ShareClient) -> tuple[str, bool]:
    """Log in and read once, as setup will: the account ID, and whether it has readings."""
    account_id = await client.login()
    return account_id, await client.newest_reading() is not None


async def _validate(
    hass: HomeAssistant, data: Mapping[str, Any], state: EntryState | None = None
) -> LoginCheck:
    """Log in and read once; what that found.

    For an existing entry (`state`), nothing is sent while Share asked to wait or a
    lockout pause runs, and what Share answers is remembered as for the entry's own
    polls. The login was typed by the user, so it is tried even if rejected before.
    """
    if state is not None and state.not_before > time.time():
        return LoginCheck(None, {"base": "share_asked_to_wait"})
    guard = state.guard if state is not None else None
    client = ShareClient(
        async_get_clientsession(hass),
        data[CONF_USERNAME],
        data[CONF_PASSWORD],
        data[CONF_REGION],
        guard,
        typed=True,
    )
    try:
        account_id, has_readings = await _check_credentials(client)
    except ShareAuthError:
        return LoginCheck(None, {"base": "invalid_auth"})
    except ShareLockedError:
        return LoginCheck(None, {"base": "account_locked"})
    except ShareError as err:
        if state is not None and isinstance(err, ShareConnectionError) and err.retry_after:
            state.not_before = time.time() + err.retry_after
        return LoginCheck(None, {"base": "cannot_connect"})
    except Exception:  # noqa: BLE001 - the flow must show an error, not crash
        LOGGER.exception("Unexpected error while checking the Share login")
        return LoginCheck(None, {"base": "unknown"})
    finally:
        if state is not None:
            state.schedule_save(at_once=True)
    return LoginCheck(account_id, {}, has_readings)


class DexcomShareConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a Dexcom Share account."""

    VERSION = 1

    def __init__(self) -> None:
        """Nothing checked yet."""
        self._login: dict[str, Any] = {}
        """The login checked, kept while the user decides on an account without readings."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the sharer's Dexcom login and region."""
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input[CONF_USERNAME] = canonical_login(user_input[CONF_USERNAME])
            if self._configured(user_input[CONF_USERNAME], user_input[CONF_REGION]):
                # The same login again: sending it could only extend a lockout.
                return self.async_abort(reason="already_configured")
            check = await _validate(self.hass, user_input)
            errors = check.errors
            if check.account_id is not None:
                await self.async_set_unique_id(check.account_id)
                self._abort_if_unique_id_configured()
                self._login = user_input
                if not check.has_readings:
                    return await self.async_step_no_readings()
                return await self.async_step_add_anyway()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                USER_SCHEMA, _without_password(user_input)
            ),
            errors=errors,
        )

    async def async_step_no_readings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Share accepted the login but holds no reading: say why, before adding it."""
        return self.async_show_menu(
            step_id="no_readings",
            menu_options=["check_again", "add_anyway"],
            description_placeholders={CONF_USERNAME: self._login[CONF_USERNAME]},
        )

    async def async_step_check_again(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Log in and read again, after the user turned Share on or checked the sensor."""
        return await self.async_step_user(dict(self._login))

    async def async_step_add_anyway(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Create the entry (Data status says "No readings on Share" until some arrive)."""
        return self.async_create_entry(title=self._login[CONF_USERNAME], data=self._login)

    def _configured(
        self, login: str, region: str, other_than: DexcomShareConfigEntry | None = None
    ) -> bool:
        """Whether another entry already uses this login (any letter case) or account ID."""
        return any(
            entry.unique_id == login
            or (
                entry.data[CONF_USERNAME].casefold() == login.casefold()
                and entry.data[CONF_REGION] == region
            )
            for entry in self._async_current_entries(include_ignore=False)
            if entry is not other_than
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Share rejected the stored password."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the new password of the same account."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            result, errors = await self._update_same_account(entry, user_input)
            if result is not None:
                return result
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=REAUTH_SCHEMA,
            description_placeholders={CONF_USERNAME: entry.data[CONF_USERNAME]},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the login or region of the same Dexcom account in place."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input[CONF_USERNAME] = canonical_login(user_input[CONF_USERNAME])
            result, errors = await self._update_same_account(entry, user_input)
            if result is not None:
                return result
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                USER_SCHEMA, _without_password(user_input or entry.data)
            ),
            errors=errors,
        )

    async def _update_same_account(
        self, entry: DexcomShareConfigEntry, updates: dict[str, Any]
    ) -> tuple[ConfigFlowResult | None, dict[str, str]]:
        """Check the changed login; save it and reload if it is still the same account.

        Returns the flow's end, or the form errors to show.
        """
        data = {**entry.data, **updates}
        if self._configured(data[CONF_USERNAME], data[CONF_REGION], other_than=entry):
            # Another entry's login: sending it could extend that entry's lockout.
            return self.async_abort(reason="already_configured"), {}
        state = await async_entry_state(self.hass, entry.entry_id)
        check = await _validate(self.hass, data, state)
        if check.account_id is None:
            return None, check.errors
        await self.async_set_unique_id(check.account_id)
        self._abort_if_unique_id_mismatch(reason="wrong_account")
        return self.async_update_reload_and_abort(entry, data_updates=updates), {}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: DexcomShareConfigEntry) -> OptionsFlow:
        """The glucose unit option."""
        return DexcomShareOptionsFlow()


def apply_glucose_unit(hass: HomeAssistant, entry: DexcomShareConfigEntry, unit: str) -> None:
    """Show every glucose entity of the entry in `unit`, through HA's own conversion.

    This is the same setting as the unit in each entity's settings dialog, so the
    two agree, and history and statistics stay in one consistent unit class.
    """
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if entity.original_device_class != SensorDeviceClass.BLOOD_GLUCOSE_CONCENTRATION:
            continue
        options = dict(entity.options.get(SENSOR_DOMAIN, {}))
        if options.get(CONF_UNIT) != unit:
            options[CONF_UNIT] = unit
            registry.async_update_entity_options(entity.entity_id, SENSOR_DOMAIN, options)


def _not_glucose_readings(hass: HomeAssistant, entry: DexcomShareConfigEntry) -> set[str]:
    """The integration's entities that may not stand in as the fallback (not offered).

    The account's own (it would stand in for itself) and other accounts' glucose
    figures that are no reading (average, prediction, report): only another account's
    glucose value is a reading.
    """
    return {
        entity.entity_id
        for entity in er.async_get(hass).entities.values()
        if entity.platform == DOMAIN
        and (
            entity.config_entry_id == entry.entry_id
            or not str(entity.unique_id).endswith("_glucose_value")
        )
    }


class DexcomShareOptionsFlow(OptionsFlow):
    """Unit, "Data stale" time, then the thresholds in the chosen unit."""

    def __init__(self) -> None:
        """Hold the first step's answers for the second."""
        self._options: dict[str, Any] = {}

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the unit and when the data counts as stale."""
        options = self.config_entry.options
        errors: dict[str, str] = {}
        not_readings = _not_glucose_readings(self.hass, self.config_entry)
        if user_input is not None:
            if finite_number(user_input[CONF_STALE_MINUTES]) is None:
                errors[CONF_STALE_MINUTES] = "not_a_number"
            else:
                # A fallback cleared in the form is absent from it: drop the stored one.
                self._options = {
                    **{key: value for key, value in options.items() if key != CONF_FALLBACK},
                    **user_input,
                    CONF_REPORT_DAYS: report_days(user_input),
                }
                return await self.async_step_thresholds()
        schema = probatio.Schema(
            {
                probatio.Required(CONF_UNIT, default=glucose_unit(options)): SelectSelector(
                    SelectSelectorConfig(options=[str(unit) for unit in UNITS])
                ),
                probatio.Required(
                    CONF_STALE_MINUTES,
                    default=round(stale_after(options).total_seconds() / 60),
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_STALE_MINUTES,
                        max=MAX_STALE_MINUTES,
                        step=1,
                        mode=NumberSelectorMode.BOX,
                        unit_of_measurement="min",
                    )
                ),
                probatio.Required(CONF_SENSOR_TYPE, default=str(sensor_type(options))): (
                    SelectSelector(
                        SelectSelectorConfig(
                            options=[str(kind) for kind in SensorType],
                            translation_key=CONF_SENSOR_TYPE,
                            mode=SelectSelectorMode.DROPDOWN,
                        )
                    )
                ),
                probatio.Required(CONF_REPORT_DAYS, default=str(report_days(options))): (
                    SelectSelector(
                        SelectSelectorConfig(
                            options=[str(days) for days in REPORT_DAYS],
                            translation_key=CONF_REPORT_DAYS,
                            mode=SelectSelectorMode.DROPDOWN,
                        )
                    )
                ),
                probatio.Optional(CONF_FALLBACK): EntitySelector(
                    EntitySelectorConfig(
                        domain=SENSOR_DOMAIN,
                        device_class=SensorDeviceClass.BLOOD_GLUCOSE_CONCENTRATION,
                        exclude_entities=sorted(not_readings),
                    )
                ),
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                schema, user_input or {CONF_FALLBACK: fallback_sensor(options)}
            ),
            errors=errors,
        )

    async def async_step_thresholds(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Set the four thresholds in the chosen unit; they are stored in mg/dL.

        A value left as shown keeps its exact mg/dL value, so that switching units back
        and forth does not drift the thresholds by rounding, and the order is checked on
        those mg/dL values (55 and 56 mg/dL both show as 3.1 mmol/L).
        """
        unit = glucose_unit(self._options)
        current = thresholds(self._options)
        errors: dict[str, str] = {}
        if user_input is not None:
            entered = {key: finite_number(user_input[key]) for key in THRESHOLD_KEYS}
            errors = {key: "not_a_number" for key, value in entered.items() if value is None}
            stored = entered_thresholds(
                {key: value for key, value in entered.items() if value is not None}, current, unit
            )
            values = list(stored.values())
            if not errors and values != sorted(set(values)):
                errors["base"] = "thresholds_order"
            if not errors:
                self._options.update(stored)
                return await self.async_step_alerts()
        mmol = unit != DEFAULT_UNIT
        shown = shown_thresholds(current, unit)
        selector = NumberSelector(
            NumberSelectorConfig(
                min=2.2 if mmol else 40,
                max=22.2 if mmol else 400,
                step=0.1 if mmol else 1,
                mode=NumberSelectorMode.BOX,
                unit_of_measurement=unit,
            )
        )
        schema = probatio.Schema(
            {probatio.Required(key, default=shown[key]): selector for key in THRESHOLD_KEYS}
        )
        return self.async_show_form(
            step_id="thresholds",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
        )

    async def async_step_alerts(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Which alerts are on, how often they repeat, and their minutes and rate."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if not set(user_input[CONF_ALERTS_ON]) >= ALWAYS_ON:
                errors[CONF_ALERTS_ON] = "urgent_low_always_on"
            else:
                self._options.update(user_input)
                return self._save()
        current = alert_settings(self._options)

        def minutes(least: float, most: float) -> NumberSelector:
            return NumberSelector(
                NumberSelectorConfig(
                    min=least,
                    max=most,
                    step=1,
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement="min",
                )
            )

        fields: dict[Any, Any] = {
            probatio.Required(
                CONF_ALERTS_ON, default=[str(kind) for kind in AlertKind if current.is_on(kind)]
            ): SelectSelector(
                SelectSelectorConfig(
                    options=[str(kind) for kind in AlertKind],
                    multiple=True,
                    translation_key="alert_kind",
                    mode=SelectSelectorMode.LIST,
                )
            ),
            probatio.Required(
                CONF_HIGH_MINUTES, default=round(current.high_for.total_seconds() / 60)
            ): minutes(*HIGH_MINUTES[:2]),
            probatio.Required(
                CONF_NO_DATA_MINUTES, default=round(current.no_data_after.total_seconds() / 60)
            ): minutes(*NO_DATA_MINUTES[:2]),
            probatio.Required(CONF_RATE, default=current.rate): NumberSelector(
                NumberSelectorConfig(
                    min=RATE[0],
                    max=RATE[1],
                    step=0.5,
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement=f"{DEFAULT_UNIT}/min",
                )
            ),
            probatio.Required(
                CONF_ESCALATE_MINUTES, default=round(current.escalate_after.total_seconds() / 60)
            ): minutes(*ESCALATE_MINUTES[:2]),
        }
        for kind in AlertKind:
            urgent = kind is AlertKind.URGENT_LOW
            limit = URGENT_LOW_MAX_SILENCE.total_seconds() / 60 if urgent else MAX_REPEAT_MINUTES
            fields[
                probatio.Required(
                    CONF_REPEAT.format(kind),
                    default=round(current.repeat_every(kind).total_seconds() / 60),
                )
            ] = minutes(MIN_REPEAT_MINUTES, limit)
        return self.async_show_form(
            step_id="alerts",
            data_schema=self.add_suggested_values_to_schema(probatio.Schema(fields), user_input),
            errors=errors,
        )

    def _save(self) -> ConfigFlowResult:
        """Store the options, convert the glucose entities, and refresh every state.

        The options are stored here rather than by the flow's result so that the
        entities can be refreshed at once, without an update listener or a reload.
        """
        entry = self.config_entry
        apply_glucose_unit(self.hass, entry, glucose_unit(self._options))
        self.hass.config_entries.async_update_entry(entry, options=self._options)
        if entry.state is ConfigEntryState.LOADED:
            entry.runtime_data.options_changed()
        return self.async_create_entry(data=self._options)
