// One device's row: its markup, state and spoken summary, from Home Assistant's states
// and the integration's readings.

import { alertBanner } from "./alert.js";
import { ageText, escape, isAvailable, signOf, stateParts, statusWords } from "./format.js";
import { graphHtml } from "./graph.js";
import { deviceEntities, deviceName } from "./registry.js";
import { localize } from "./strings.js";

/**
 * A device's row at `now` (ms): `html` inside the row, `banner` above it (its alert),
 * `state` (live, stale or missing), `range` (the Glucose range) and `label` (all of it
 * in words). `source` is the device's `dexcom_share/readings` answer, or null.
 */
export function rowView(hass, config, deviceId, source, language, now) {
  const name = deviceName(hass, deviceId);
  const entities = deviceEntities(hass, deviceId);
  const states = Object.fromEntries(
    Object.entries(entities).map(([role, entityId]) => [role, hass.states[entityId]])
  );
  if (!states.value) {
    const text = localize(language, "device_missing");
    return {
      state: "missing",
      range: "",
      label: text,
      html: `<div class="head"><span class="name">${escape(text)}</span></div>`,
      banner: "",
    };
  }
  const live = isAvailable(states.value);
  const readingTime = isAvailable(states.time) ? Date.parse(states.time.state) : null;
  const age = readingTime === null ? null : ageText(now - readingTime, language, !live);
  const status = states.status
    ? statusWords(states.status, hass.formatEntityState(states.status))
    : "";
  const spoken = [name];
  const head = [];
  if (config.show_name) head.push(`<span class="name">${escape(name)}</span>`);
  let reading;
  let meta = "";
  let rangeKey = "";
  if (live) {
    const { value, unit } = stateParts(hass, states.value);
    spoken.push(`${value} ${unit}`);
    reading =
      `<span class="value">${escape(value)}</span>` + `<span class="unit">${escape(unit)}</span>`;
    const arrow = states.trend?.attributes.arrow;
    if (config.show_trend && isAvailable(states.trend) && arrow) {
      const trendName = hass.formatEntityState(states.trend);
      reading += `<span class="arrow" title="${escape(trendName)}">${escape(arrow)}</span>`;
      spoken.push(trendName);
    }
    if (isAvailable(states.range)) {
      rangeKey = states.range.state;
      const rangeName = hass.formatEntityState(states.range);
      head.push(`<span class="range">${escape(rangeName)}</span>`);
      spoken.push(rangeName);
    }
    const metaParts = [];
    if (config.show_delta && isAvailable(states.delta)) {
      const delta = stateParts(hass, states.delta);
      const text = `${signOf(Number(states.delta.state))}${delta.value} ${delta.unit}`;
      metaParts.push(`<span class="delta">${escape(text)}</span>`);
      spoken.push(`${localize(language, "change")} ${text}`);
    }
    if (config.show_age && age) {
      metaParts.push(`<span class="age">${escape(age)}</span>`);
      spoken.push(age);
    }
    if (status) {
      metaParts.push(`<span class="status">${escape(status)}</span>`);
      spoken.push(status);
    }
    meta = metaParts.join("");
  } else {
    const text = age ?? localize(language, "no_data");
    reading = `<span class="stale-text age">${escape(text)}</span>`;
    spoken.push(text);
    if (status) {
      meta = `<span class="status">${escape(status)}</span>`;
      spoken.push(status);
    }
  }
  const banner = alertBanner(hass, states.alert, language);
  if (banner) spoken.push(banner.spoken);
  const html =
    (head.length ? `<div class="head">${head.join("")}</div>` : "") +
    `<div class="reading">${reading}</div>` +
    (meta ? `<div class="meta">${meta}</div>` : "") +
    (config.show_graph ? graphHtml(source, config.hours_to_show, now, language) : "");
  return {
    state: live ? "live" : "stale",
    range: rangeKey,
    label: spoken.join(", "),
    html,
    banner: banner ? banner.html : "",
  };
}
