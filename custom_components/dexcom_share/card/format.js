// Text for a row: escaping, availability, ages, causes and numbers in the user's words.

import { localize } from "./strings.js";

// Data status says nothing the value or its age does not already say in these states.
const QUIET_STATUSES = new Set(["current", "waiting", "stale"]);

/** Text made safe to put into markup. */
export function escape(text) {
  return String(text).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]
  );
}

/** Whether an entity's state shows something (it exists and is neither unavailable nor unknown). */
export function isAvailable(stateObj) {
  return Boolean(stateObj) && !["unavailable", "unknown"].includes(stateObj.state);
}

/** "+" before a rise and "±" before no change; a fall brings its own minus sign. */
export function signOf(change) {
  if (change > 0) return "+";
  return change === 0 ? "±" : "";
}

/** "3 min ago" for a live reading; "No data for 25 min" once the value is unavailable. */
export function ageText(ageMs, language, stale) {
  if (!Number.isFinite(ageMs)) return stale ? localize(language, "no_data") : "";
  const minutes = Math.max(0, Math.floor(ageMs / 60000));
  // Unavailable with a fresh reading: the entry is reloading, not short of data.
  if (minutes < 1 && stale) return localize(language, "no_data");
  const number = new Intl.NumberFormat(language || "en");
  if (minutes >= 120) {
    const key = stale ? "no_data_for_hours" : "ago_hours";
    return localize(language, key, { n: number.format(Math.floor(minutes / 60)) });
  }
  if (minutes < 1 && !stale) return localize(language, "just_now");
  const key = stale ? "no_data_for_minutes" : "ago_minutes";
  return localize(language, key, { n: number.format(minutes) });
}

/**
 * Data status in the user's words (`formatted`, Home Assistant's translation of the
 * state) when it says why: Share unreachable, a login rejected, a reading delayed, the
 * fallback sensor on show. Empty when the value and its age say it all.
 */
export function statusWords(statusState, formatted) {
  if (!isAvailable(statusState) || QUIET_STATUSES.has(statusState.state)) return "";
  return formatted;
}

/** A state split into its number and unit, with the entity's display precision. */
export function stateParts(hass, stateObj) {
  const parts = hass.formatEntityStateToParts(stateObj);
  return {
    value: parts
      .filter((p) => p.type !== "unit")
      .map((p) => p.value)
      .join("")
      .trim(),
    unit: parts
      .filter((p) => p.type === "unit")
      .map((p) => p.value)
      .join(""),
  };
}

/** Numbers in the user's language with exactly `precision` decimals. */
export function numberFormat(language, precision) {
  return new Intl.NumberFormat(language || "en", {
    minimumFractionDigits: precision,
    maximumFractionDigits: precision,
  });
}
