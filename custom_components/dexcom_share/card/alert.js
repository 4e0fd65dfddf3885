// The most urgent active alert above a row, and the actions its buttons call.

import { escape, isAvailable } from "./format.js";
import { localize } from "./strings.js";

// What the card's Snooze button asks for, in minutes.
export const CARD_SNOOZE_MINUTES = 30;

/**
 * The most urgent active alert of a device, from its Active alert sensor: its name (the
 * integration's own translation), who is on it or until when it is snoozed, and the
 * Acknowledge and Snooze buttons; null when no alert is active.
 */
export function alertBanner(hass, stateObj, language) {
  if (!isAvailable(stateObj) || stateObj.state === "none") return null;
  const kind = stateObj.state;
  const detail = stateObj.attributes?.alerts?.[kind] || {};
  const name = hass.formatEntityState(stateObj);
  let note = "";
  if (detail.state === "acknowledged" && detail.by) {
    note = localize(language, "on_it", { by: detail.by });
  } else if (detail.state === "snoozed") {
    const until = stateObj.attributes?.snoozed_until?.[kind];
    const time = until
      ? new Date(until).toLocaleTimeString(language, { hour: "2-digit", minute: "2-digit" })
      : "";
    note = localize(language, "snoozed_until", { time });
  }
  const button = (action, text) =>
    `<button type="button" data-action="${action}" data-alert="${escape(kind)}">` +
    `${escape(text)}</button>`;
  const buttons =
    detail.state === "sounding" || detail.state === undefined
      ? button("acknowledge", localize(language, "acknowledge")) +
        button("snooze", localize(language, "snooze", { n: CARD_SNOOZE_MINUTES }))
      : "";
  return {
    spoken: note ? `${name}, ${note}` : name,
    html:
      `<div class="alert" data-alert="${escape(kind)}" role="alert">` +
      `<span class="alert-name">${escape(name)}</span>` +
      (note ? `<span class="alert-note">${escape(note)}</span>` : "") +
      (buttons ? `<span class="alert-buttons">${buttons}</span>` : "") +
      `</div>`,
  };
}

/** The action a banner's button calls: acknowledge, or snooze for CARD_SNOOZE_MINUTES. */
export function alertAction(entryId, action, alert) {
  const data = { config_entry_id: entryId, alert };
  if (action !== "snooze") return { service: "acknowledge_alert", data };
  return { service: "snooze_alert", data: { ...data, minutes: CARD_SNOOZE_MINUTES } };
}
