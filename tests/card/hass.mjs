// A stand-in for the frontend's `hass` object: registries, states and the formatters the
// card calls, enough for the card's modules (no DOM, no Home Assistant).

import { ROLES } from "../../custom_components/dexcom_share/card/registry.js";

export const NOW = Date.parse("2026-11-21T12:00:00Z");
export const MINUTE = 60000;

const WORDS = {
  in_range: "In range",
  high: "High",
  steady: "Steady",
  share_unreachable: "Share unreachable",
  current: "Current",
  urgent_low: "Urgent low",
};

/** A state object as Home Assistant hands it over. */
export function state(value, attributes = {}, lastUpdated = "2026-11-21T11:59:00Z") {
  return { state: String(value), attributes, last_updated: lastUpdated };
}

/**
 * `hass` with one device per entry of `devices` (`{id: {name, entry, states: {role: state}}}`);
 * states whose role is missing have no entity.
 */
export function fakeHass(devices, language = "en") {
  const hass = {
    language,
    locale: { language },
    devices: {},
    entities: {},
    states: {},
    formatEntityState: (stateObj) => WORDS[stateObj.state] ?? stateObj.state,
    formatEntityStateToParts: (stateObj) => [
      { type: "value", value: stateObj.state },
      { type: "literal", value: " " },
      { type: "unit", value: stateObj.attributes.unit_of_measurement ?? "" },
    ],
  };
  for (const [id, device] of Object.entries(devices)) {
    hass.devices[id] = { name: device.name, primary_config_entry: device.entry ?? null };
    for (const [role, stateObj] of Object.entries(device.states ?? {})) {
      const entityId = `sensor.${id}_${ROLES[role]}`;
      hass.entities[entityId] = {
        entity_id: entityId,
        device_id: id,
        platform: "dexcom_share",
        translation_key: ROLES[role],
      };
      if (stateObj) hass.states[entityId] = stateObj;
    }
  }
  return hass;
}

/** A live device: 120 mg/dL, steady, +2, in range, read a minute before NOW. */
export function liveStates(overrides = {}) {
  return {
    value: state(120, { unit_of_measurement: "mg/dL" }),
    trend: state("steady", { arrow: "→" }),
    delta: state(2, { unit_of_measurement: "mg/dL" }),
    range: state("in_range", { low: 70, high: 180 }),
    time: state(new Date(NOW - MINUTE).toISOString()),
    status: state("current"),
    alert: state("none"),
    ...overrides,
  };
}

/** A `dexcom_share/readings` answer: one reading every 5 minutes up to NOW - 1 min. */
export function answer(values, overrides = {}) {
  const newest = (NOW - MINUTE) / 1000;
  return {
    config_entry_id: "entry",
    unit: "mg/dL",
    precision: 0,
    thresholds: { urgent_low: 55, low: 70, high: 180, urgent_high: 250 },
    axis: { min: 40, max: 250 },
    gap: 900,
    readings: values.map((value, index) => [newest - (values.length - 1 - index) * 300, value]),
    ...overrides,
  };
}
