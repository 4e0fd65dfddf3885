// The card's options: their defaults, their check, and the visual editor's form.

import { DOMAIN } from "./registry.js";

export const MAX_HOURS = 24;
export const DEFAULTS = {
  hours_to_show: 3,
  show_name: true,
  show_trend: true,
  show_delta: true,
  show_age: true,
  show_graph: true,
};
export const PARTS = ["show_name", "show_trend", "show_delta", "show_age", "show_graph"];

/** Check a card configuration; throws for the card editor and the error card. */
export function checkConfig(config) {
  if (!config || typeof config !== "object") throw new Error("Invalid configuration");
  const devices = config.devices ?? [];
  if (!Array.isArray(devices) || devices.some((d) => typeof d !== "string")) {
    throw new Error("devices must be a list of device IDs");
  }
  const hours = config.hours_to_show ?? DEFAULTS.hours_to_show;
  if (!Number.isInteger(hours) || hours < 1 || hours > MAX_HOURS) {
    throw new Error(`hours_to_show must be a whole number from 1 to ${MAX_HOURS}`);
  }
  for (const part of PARTS) {
    if (part in config && typeof config[part] !== "boolean") {
      throw new Error(`${part} must be true or false`);
    }
  }
  if ("title" in config && typeof config.title !== "string") {
    throw new Error("title must be text");
  }
  return { ...DEFAULTS, ...config, devices };
}

/** The editor's form: title, this integration's devices, hours in the graph, the parts. */
export const EDITOR_SCHEMA = [
  { name: "title", selector: { text: {} } },
  {
    name: "devices",
    selector: { device: { multiple: true, filter: { integration: DOMAIN } } },
  },
  {
    name: "hours_to_show",
    selector: {
      number: { min: 1, max: MAX_HOURS, step: 1, mode: "slider", unit_of_measurement: "h" },
    },
  },
  {
    type: "grid",
    name: "",
    schema: PARTS.map((name) => ({ name, selector: { boolean: {} } })),
  },
];

/** What the editor's form shows for a configuration: every option, defaults filled in. */
export function editorData(config) {
  return { ...DEFAULTS, devices: [], ...config };
}

/** The form's value as a configuration that keeps only what differs from the defaults. */
export function editedConfig(type, value) {
  const config = { type };
  for (const [key, item] of Object.entries(value)) {
    if (key === "type" || item === DEFAULTS[key] || item === "" || item === undefined) continue;
    if (key === "devices" && (!Array.isArray(item) || !item.length)) continue;
    config[key] = item;
  }
  return config;
}
