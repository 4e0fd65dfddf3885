"""Diagnostics: how the account is being polled, with every credential redacted."""

import time
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .const import CONF_REGION
from .coordinator import DexcomShareConfigEntry

# The title is what the user typed as the username; the unique ID is the account ID.
TO_REDACT = {CONF_USERNAME, CONF_PASSWORD, "title", "unique_id"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: DexcomShareConfigEntry
) -> dict[str, Any]:
    """Schedule state, recent errors, request latencies and reading freshness."""
    coordinator = entry.runtime_data
    guard = coordinator.state.guard
    now = dt_util.utcnow()
    snapshot = coordinator.data
    newest = snapshot.newest if snapshot else None
    return {
        "entry": async_redact_data(
            {
                "title": entry.title,
                "unique_id": entry.unique_id,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            TO_REDACT,
        ),
        "region": entry.data[CONF_REGION],
        "schedule": {
            **coordinator.planner.diagnostics(),
            "next_poll_in_s": round(coordinator.update_interval.total_seconds())
            if coordinator.update_interval
            else None,
            "consecutive_errors": coordinator.planner.consecutive_errors,
            "last_update_success": coordinator.last_update_success,
        },
        "errors": {
            kind: {"count": count, "last": coordinator.last_error[kind].isoformat()}
            for kind, count in coordinator.errors.items()
        },
        "requests": coordinator.client.stats.as_dict(),
        "share_clock_ahead_s": coordinator.client.stats.clock_offset,
        "logins": {
            "failed": guard.failed_logins,
            "lockouts_in_a_row": guard.lockouts,
            "paused_for_s": max(0, round(guard.paused_until - time.time())),
            "password_rejections_in_a_row": guard.most_rejections,
        },
        "share_asked_to_wait_s": max(0, round(coordinator.state.not_before - time.time())),
        # Kinds and states only: who acknowledged or snoozed (people's names) stays out.
        "alerts": {
            "active": [str(kind) for kind in coordinator.alerts.active()],
            "snoozed": sorted(
                str(kind)
                for kind, state in coordinator.alerts.states.items()
                if state.silenced(now) and state.acknowledged_by is None
            ),
            "acknowledged": sorted(
                str(kind)
                for kind, state in coordinator.alerts.states.items()
                if state.acknowledged_by is not None
            ),
        },
        "readings": {
            "count": len(snapshot.readings) if snapshot else 0,
            "newest_age_s": round((now - newest.time).total_seconds()) if newest else None,
            "status": snapshot.status.value if snapshot else None,
            "stored": len(snapshot.history) if snapshot else 0,
            "stored_from_fallback": snapshot.history.from_fallback if snapshot else 0,
        },
    }
