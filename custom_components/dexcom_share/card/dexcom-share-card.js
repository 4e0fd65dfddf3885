// dexcom-share-card: glucose at a glance for one or several Dexcom Share devices.
//
// A plain web component with no build step and nothing fetched at run time: the
// integration serves this file and loads it on every dashboard. Entities are found
// through the entity registry (device and translation key), never by entity ID text.

const CARD_TYPE = "dexcom-share-card";
const EDITOR_TYPE = "dexcom-share-card-editor";
const DOMAIN = "dexcom_share";
const ROLES = {
  value: "glucose_value",
  trend: "glucose_trend",
  delta: "glucose_delta",
  range: "glucose_range",
  time: "reading_time",
  alert: "active_alert",
  status: "data_status",
};
// Data status says nothing the value or its age does not already say in these states.
const QUIET_STATUSES = new Set(["current", "waiting", "stale"]);
// What the card's Snooze button asks for, in minutes.
const CARD_SNOOZE_MINUTES = 30;
// Home Assistant's own conversion factor (glucose molar mass / 10).
const MG_DL_PER_MMOL_L = 18.01559;
// The two units never overlap: Dexcom reports 39–401 mg/dL, i.e. 2.2–22.3 mmol/L.
const SMALLEST_MG_DL = 30;
const DEFAULT_LOW_MG_DL = 70;
const DEFAULT_HIGH_MG_DL = 180;
// The graph spans at least this much (Dexcom's own charts start at 40), so that rows of a
// family view compare at a glance; values beyond it widen it.
const GRAPH_FLOOR_MG_DL = 40;
const GRAPH_CEILING_MG_DL = 250;
const READING_PERIOD_MS = 5 * 60 * 1000;
// The integration makes a value unavailable once its reading is 15 minutes old.
const CURRENT_FOR_MS = 15 * 60 * 1000;
const TICK_MS = 5000;
const HISTORY_REFRESH_MS = 15 * 60 * 1000;
const MAX_HOURS = 24;
const DEFAULTS = {
  hours_to_show: 3,
  show_name: true,
  show_trend: true,
  show_delta: true,
  show_age: true,
  show_graph: true,
};
const PARTS = ["show_name", "show_trend", "show_delta", "show_age", "show_graph"];
const RANGE_COLORS = {
  urgent_low: "var(--error-color, #db4437)",
  low: "var(--orange-color, #ff9800)",
  in_range: "var(--success-color, #43a047)",
  high: "var(--amber-color, #ffc107)",
  urgent_high: "var(--deep-orange-color, #ff6f22)",
};

export const STRINGS = {
  en: {
    acknowledge: "Acknowledge",
    snooze: "Snooze {n} min",
    snoozed_until: "snoozed until {time}",
    on_it: "{by} is on it",
    ago_minutes: "{n} min ago",
    ago_hours: "{n} h ago",
    just_now: "just now",
    no_data_for_minutes: "No data for {n} min",
    no_data_for_hours: "No data for {n} h",
    no_data: "No data",
    change: "change",
    graph: "Glucose over the last {hours} h, from {min} to {max} {unit}; target range {low}–{high}",
    graph_empty: "No glucose history in the last {hours} h",
    no_devices: "No Dexcom Share device found. Add the Dexcom Share integration first.",
    device_missing: "Dexcom Share device not found",
    title: "Title",
    devices: "Devices",
    devices_helper: "Leave empty to show every Dexcom Share device.",
    hours_to_show: "Hours in the graph",
    show_name: "Name",
    show_trend: "Trend arrow",
    show_delta: "Change",
    show_age: "Reading age",
    show_graph: "Graph",
  },
  de: {
    acknowledge: "Bestätigen",
    snooze: "{n} Min. stummschalten",
    snoozed_until: "stummgeschaltet bis {time}",
    on_it: "{by} kümmert sich",
    ago_minutes: "vor {n} Min.",
    ago_hours: "vor {n} Std.",
    just_now: "gerade eben",
    no_data_for_minutes: "Seit {n} Min. keine Daten",
    no_data_for_hours: "Seit {n} Std. keine Daten",
    no_data: "Keine Daten",
    change: "Änderung",
    graph: "Glukose der letzten {hours} Std., von {min} bis {max} {unit}; Zielbereich {low}–{high}",
    graph_empty: "Kein Glukoseverlauf in den letzten {hours} Std.",
    no_devices: "Kein Dexcom-Share-Gerät gefunden. Richte zuerst die Integration Dexcom Share ein.",
    device_missing: "Dexcom-Share-Gerät nicht gefunden",
    title: "Titel",
    devices: "Geräte",
    devices_helper: "Leer lassen, um alle Dexcom-Share-Geräte zu zeigen.",
    hours_to_show: "Stunden im Diagramm",
    show_name: "Name",
    show_trend: "Trendpfeil",
    show_delta: "Änderung",
    show_age: "Alter der Messung",
    show_graph: "Diagramm",
  },
  fr: {
    acknowledge: "Acquitter",
    snooze: "Pause {n} min",
    snoozed_until: "en pause jusqu’à {time}",
    on_it: "{by} s’en occupe",
    ago_minutes: "il y a {n} min",
    ago_hours: "il y a {n} h",
    just_now: "à l’instant",
    no_data_for_minutes: "Aucune donnée depuis {n} min",
    no_data_for_hours: "Aucune donnée depuis {n} h",
    no_data: "Aucune donnée",
    change: "variation",
    graph: "Glycémie des {hours} dernières heures, de {min} à {max} {unit} ; plage cible {low}–{high}",
    graph_empty: "Aucun historique de glycémie sur les {hours} dernières heures",
    no_devices: "Aucun appareil Dexcom Share trouvé. Ajoutez d’abord l’intégration Dexcom Share.",
    device_missing: "Appareil Dexcom Share introuvable",
    title: "Titre",
    devices: "Appareils",
    devices_helper: "Laisser vide pour afficher tous les appareils Dexcom Share.",
    hours_to_show: "Heures dans le graphique",
    show_name: "Nom",
    show_trend: "Flèche de tendance",
    show_delta: "Variation",
    show_age: "Âge de la mesure",
    show_graph: "Graphique",
  },
  es: {
    acknowledge: "Confirmar",
    snooze: "Posponer {n} min",
    snoozed_until: "pospuesta hasta las {time}",
    on_it: "{by} se encarga",
    ago_minutes: "hace {n} min",
    ago_hours: "hace {n} h",
    just_now: "ahora mismo",
    no_data_for_minutes: "Sin datos desde hace {n} min",
    no_data_for_hours: "Sin datos desde hace {n} h",
    no_data: "Sin datos",
    change: "cambio",
    graph: "Glucosa de las últimas {hours} h, de {min} a {max} {unit}; rango objetivo {low}–{high}",
    graph_empty: "Sin historial de glucosa en las últimas {hours} h",
    no_devices: "No se encontró ningún dispositivo Dexcom Share. Añade primero la integración Dexcom Share.",
    device_missing: "Dispositivo Dexcom Share no encontrado",
    title: "Título",
    devices: "Dispositivos",
    devices_helper: "Déjalo vacío para mostrar todos los dispositivos Dexcom Share.",
    hours_to_show: "Horas en el gráfico",
    show_name: "Nombre",
    show_trend: "Flecha de tendencia",
    show_delta: "Cambio",
    show_age: "Antigüedad de la lectura",
    show_graph: "Gráfico",
  },
  nl: {
    acknowledge: "Bevestigen",
    snooze: "{n} min pauzeren",
    snoozed_until: "gepauzeerd tot {time}",
    on_it: "{by} regelt het",
    ago_minutes: "{n} min geleden",
    ago_hours: "{n} uur geleden",
    just_now: "zojuist",
    no_data_for_minutes: "Al {n} min geen gegevens",
    no_data_for_hours: "Al {n} uur geen gegevens",
    no_data: "Geen gegevens",
    change: "verandering",
    graph: "Glucose van de laatste {hours} uur, van {min} tot {max} {unit}; doelbereik {low}–{high}",
    graph_empty: "Geen glucosegeschiedenis in de laatste {hours} uur",
    no_devices: "Geen Dexcom Share-apparaat gevonden. Voeg eerst de integratie Dexcom Share toe.",
    device_missing: "Dexcom Share-apparaat niet gevonden",
    title: "Titel",
    devices: "Apparaten",
    devices_helper: "Leeg laten om alle Dexcom Share-apparaten te tonen.",
    hours_to_show: "Uren in de grafiek",
    show_name: "Naam",
    show_trend: "Trendpijl",
    show_delta: "Verandering",
    show_age: "Leeftijd van de meting",
    show_graph: "Grafiek",
  },
  ja: {
    acknowledge: "確認",
    snooze: "{n}分スヌーズ",
    snoozed_until: "{time}までスヌーズ中",
    on_it: "{by}が対応中",
    ago_minutes: "{n}分前",
    ago_hours: "{n}時間前",
    just_now: "たった今",
    no_data_for_minutes: "{n}分間データなし",
    no_data_for_hours: "{n}時間データなし",
    no_data: "データなし",
    change: "変化",
    graph: "過去{hours}時間の血糖値：{min}～{max} {unit}、目標範囲 {low}～{high}",
    graph_empty: "過去{hours}時間の血糖値の履歴はありません",
    no_devices: "Dexcom Share デバイスが見つかりません。先に Dexcom Share 統合を追加してください。",
    device_missing: "Dexcom Share デバイスが見つかりません",
    title: "タイトル",
    devices: "デバイス",
    devices_helper: "空欄にするとすべての Dexcom Share デバイスを表示します。",
    hours_to_show: "グラフの時間数",
    show_name: "名前",
    show_trend: "トレンド矢印",
    show_delta: "変化",
    show_age: "測定からの時間",
    show_graph: "グラフ",
  },
};

/** A card string in the user's language (English when it has none; "" for no key). */
export function localize(language, key, values = {}) {
  const table = STRINGS[(language || "en").split("-")[0]] || STRINGS.en;
  const text = table[key] ?? STRINGS.en[key] ?? "";
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
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

/** A glucose value in `unit`, whichever unit it was recorded in (history spans unit changes). */
export function inUnit(value, unit) {
  const mgDl = value >= SMALLEST_MG_DL ? value : value * MG_DL_PER_MMOL_L;
  return unit === "mmol/L" ? mgDl / MG_DL_PER_MMOL_L : mgDl;
}

/** The target range in `unit` from the Glucose range sensor's `low`/`high` (mg/dL). */
export function targetRange(attributes, unit) {
  const low = Number(attributes?.low);
  const high = Number(attributes?.high);
  const known = Number.isFinite(low) && Number.isFinite(high) && low > 0 && low < high;
  return {
    low: inUnit(known ? low : DEFAULT_LOW_MG_DL, unit),
    high: inUnit(known ? high : DEFAULT_HIGH_MG_DL, unit),
  };
}

/**
 * The sparkline's geometry in a 100 × 100 box, from state changes `{t, s}` (ms, state).
 *
 * Home Assistant records a state only when it changes, so a value held for several
 * readings shows as one point: it is drawn flat until one reading period before the
 * next change. An unavailable value ends the line at the reading it aged out from.
 */
export function sparkline(changes, start, end, range, unit, newestReading) {
  const segments = [];
  let segment = null;
  let previous = null;
  const close = () => {
    if (segment && segment.length) segments.push(segment);
    segment = null;
  };
  for (const change of changes) {
    const value = Number.parseFloat(change.s);
    if (!Number.isFinite(value)) {
      if (previous && segment) {
        const lastReading = change.t - CURRENT_FOR_MS;
        if (lastReading > previous.t) segment.push({ t: lastReading, v: previous.v });
      }
      close();
      previous = null;
      continue;
    }
    const point = { t: change.t, v: inUnit(value, unit) };
    if (!segment) segment = [];
    if (previous && point.t - previous.t > 1.5 * READING_PERIOD_MS) {
      segment.push({ t: point.t - READING_PERIOD_MS, v: previous.v });
    }
    segment.push(point);
    previous = point;
  }
  if (segment && previous && newestReading && newestReading > previous.t) {
    segment.push({ t: Math.min(newestReading, end), v: previous.v });
  }
  close();
  const values = segments.flat().filter((p) => p.t >= start).map((p) => p.v);
  const bottom = Math.min(inUnit(GRAPH_FLOOR_MG_DL, unit), range.low, ...values);
  const top = Math.max(inUnit(GRAPH_CEILING_MG_DL, unit), range.high, ...values);
  const x = (t) => ((t - start) / (end - start)) * 100;
  const y = (v) => ((top - v) / (top - bottom)) * 100;
  const round = (n) => Math.round(n * 100) / 100;
  // A lone reading between gaps is a zero-length line: its round caps draw a dot.
  const path = segments
    .map((points) => (points.length === 1 ? [points[0], points[0]] : points))
    .map((points) =>
      points.map((p, i) => `${i ? "L" : "M"}${round(x(p.t))},${round(y(p.v))}`).join(" ")
    )
    .join(" ");
  const last = segments.length ? segments.at(-1).at(-1) : null;
  return {
    path,
    dot: last ? { x: round(x(last.t)), y: round(y(last.v)) } : null,
    bandTop: round(y(range.high)),
    bandBottom: round(y(range.low)),
    min: values.length ? Math.min(...values) : null,
    max: values.length ? Math.max(...values) : null,
  };
}

/**
 * The integration's own readings (`get_readings`, newest first), then the state changes
 * recorded after the newest of them. The readings are every reading Share had, also
 * from before the recorder started and across Home Assistant restarts; the recorder
 * adds what came since and the value going unavailable. Readings more than 15 minutes
 * apart end the line there, as the entity's own state would have.
 */
export function withReadings(changes, readings) {
  const points = readings
    .map((reading) => ({ t: Date.parse(reading.time), v: Number(reading.value_mg_dl) }))
    .filter((reading) => Number.isFinite(reading.t) && Number.isFinite(reading.v))
    .sort((a, b) => a.t - b.t);
  if (!points.length) return changes;
  const series = [];
  points.forEach((reading, index) => {
    series.push({ t: reading.t, s: String(reading.v) });
    const next = points[index + 1];
    if (next && next.t - reading.t > CURRENT_FOR_MS) {
      series.push({ t: reading.t + CURRENT_FOR_MS, s: "unavailable" });
    }
  });
  // States recorded after the newest reading, less those that only show it again (the
  // newest reading's own state, or one recorded when the entry was added): the line
  // ends at the reading, not when Home Assistant wrote it down.
  let shown = points.at(-1).v;
  const later = changes.filter((change) => {
    if (change.t <= points.at(-1).t) return false;
    const value = Number.parseFloat(change.s);
    if (!Number.isFinite(value)) {
      shown = null;
      return true;
    }
    const repeat = shown !== null && Math.abs(inUnit(value, "mg/dL") - shown) < 1;
    shown = inUnit(value, "mg/dL");
    return !repeat;
  });
  return [...series, ...later];
}

/**
 * The device's thresholds `{low, high}` (mg/dL), kept in the browser: the range sensor
 * drops them while unavailable, and a page opened during an outage still draws the
 * user's band. With `attributes` null, the ones kept last (or null).
 */
export function rememberedRange(deviceId, attributes) {
  const key = `${CARD_TYPE}:range:${deviceId}`;
  try {
    if (attributes === null) return JSON.parse(window.localStorage.getItem(key) || "null");
    const range = { low: attributes.low, high: attributes.high };
    const text = JSON.stringify(range);
    if (window.localStorage.getItem(key) !== text) window.localStorage.setItem(key, text);
    return range;
  } catch {
    // No storage (a private window): the band falls back to 70-180 until the sensor is back.
    return attributes === null ? null : { low: attributes.low, high: attributes.high };
  }
}

let registryIndex = { entities: null, devices: null, byDevice: new Map(), sorted: [] };

/**
 * The integration's entities by device and role, rebuilt only when Home Assistant hands
 * over new registries (state updates, many a second, reuse the same objects).
 */
function dexcomIndex(hass) {
  if (registryIndex.entities === hass.entities && registryIndex.devices === hass.devices) {
    return registryIndex;
  }
  const byDevice = new Map();
  for (const entry of Object.values(hass.entities || {})) {
    if (entry.platform !== DOMAIN || !entry.device_id) continue;
    for (const [role, key] of Object.entries(ROLES)) {
      if (entry.translation_key !== key) continue;
      if (!byDevice.has(entry.device_id)) byDevice.set(entry.device_id, {});
      byDevice.get(entry.device_id)[role] = entry.entity_id;
    }
  }
  const sorted = [...byDevice.keys()]
    .filter((id) => byDevice.get(id).value)
    .sort((a, b) => deviceName(hass, a).localeCompare(deviceName(hass, b)));
  registryIndex = { entities: hass.entities, devices: hass.devices, byDevice, sorted };
  return registryIndex;
}

/** Every Dexcom Share device that has a glucose value entity, by name. */
export function dexcomDevices(hass) {
  return dexcomIndex(hass).sorted;
}

/** A device's entity IDs by role, matched on translation keys. */
export function deviceEntities(hass, deviceId) {
  return dexcomIndex(hass).byDevice.get(deviceId) || {};
}

function deviceName(hass, deviceId) {
  const device = hass.devices?.[deviceId];
  return device?.name_by_user || device?.name || deviceId;
}

function escape(text) {
  return String(text).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]
  );
}

function isAvailable(stateObj) {
  return Boolean(stateObj) && !["unavailable", "unknown"].includes(stateObj.state);
}

/** "+" before a rise and "±" before no change; a fall brings its own minus sign. */
function signOf(change) {
  if (change > 0) return "+";
  return change === 0 ? "±" : "";
}

/** One edge of the target range band, one pixel whatever the graph's size. */
function bandEdge(y) {
  return (
    `<line class="band-edge" x1="0" x2="100" y1="${y}" y2="${y}"` +
    ` vector-effect="non-scaling-stroke"></line>`
  );
}

/** A state split into its number and unit, with the entity's display precision. */
function stateParts(hass, stateObj) {
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

const STYLES = `
  :host { display: block; }
  ha-card { overflow: hidden; }
  .empty { padding: 16px; color: var(--secondary-text-color); }
  .row { container-type: inline-size; }
  .row + .row { border-top: 1px solid var(--divider-color); }
  .device {
    --range-color: var(--disabled-color, #bdbdbd);
    display: grid;
    grid-template-columns: minmax(0, 1fr);
    grid-template-areas: "head" "reading" "meta" "graph";
    gap: 4px 20px;
    padding: 12px 16px 14px 14px;
    border-left: 6px solid var(--range-color);
    background: color-mix(in srgb, var(--range-color) 10%, transparent);
    cursor: pointer;
    outline: none;
  }
  .device:focus-visible { box-shadow: inset 0 0 0 2px var(--primary-color); }
  .device[data-range="urgent_low"] { --range-color: ${RANGE_COLORS.urgent_low}; }
  .device[data-range="low"] { --range-color: ${RANGE_COLORS.low}; }
  .device[data-range="in_range"] { --range-color: ${RANGE_COLORS.in_range}; }
  .device[data-range="high"] { --range-color: ${RANGE_COLORS.high}; }
  .device[data-range="urgent_high"] { --range-color: ${RANGE_COLORS.urgent_high}; }
  .device[data-state="stale"] {
    --range-color: var(--disabled-color, #9e9e9e);
    background: color-mix(in srgb, var(--disabled-color, #9e9e9e) 14%, transparent);
  }
  .head { grid-area: head; display: flex; align-items: center; gap: 8px; min-width: 0; }
  .name {
    flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
    color: var(--secondary-text-color); font-size: 0.95rem;
  }
  .range {
    flex: none; padding: 2px 10px; border-radius: 999px; font-size: 0.8rem; font-weight: 500;
    color: var(--primary-text-color);
    background: color-mix(in srgb, var(--range-color) 30%, transparent);
  }
  .reading { grid-area: reading; display: flex; align-items: baseline; gap: 6px; flex-wrap: wrap; }
  .value {
    font-size: clamp(2.6rem, 15cqi, 4.5rem); font-weight: 600; line-height: 1;
    font-variant-numeric: tabular-nums; color: var(--primary-text-color);
  }
  .unit { font-size: 1rem; color: var(--secondary-text-color); }
  .arrow {
    font-size: clamp(2rem, 11cqi, 3.4rem); line-height: 1; color: var(--range-color);
    margin-left: 4px;
  }
  .meta {
    grid-area: meta; display: flex; gap: 4px 14px; flex-wrap: wrap;
    color: var(--secondary-text-color); font-size: 0.95rem;
  }
  .delta { font-variant-numeric: tabular-nums; color: var(--primary-text-color); }
  .status { font-weight: 500; color: var(--warning-color, #ffa600); }
  .stale-text {
    font-size: clamp(1.3rem, 7cqi, 2rem); font-weight: 500; line-height: 1.2;
    color: var(--primary-text-color);
  }
  .device[data-state="stale"] .graph { opacity: 0.45; filter: grayscale(1); }
  .graph { grid-area: graph; position: relative; height: 64px; margin-top: 6px; }
  .alert-slot:empty { display: none; }
  .alert-slot { padding: 10px 16px 0 20px; }
  .alert {
    display: flex; align-items: center; flex-wrap: wrap; gap: 4px 10px;
    padding: 6px 10px; border-radius: 8px; font-weight: 500;
    color: var(--text-primary-color, #fff); background: var(--error-color, #db4437);
  }
  .alert-note { font-weight: 400; }
  .alert-buttons { display: flex; gap: 8px; margin-left: auto; }
  .alert button {
    font: inherit; font-size: 0.9rem; padding: 4px 12px; border-radius: 999px; cursor: pointer;
    border: 1px solid currentColor; color: inherit; background: transparent;
  }
  .graph svg { position: absolute; inset: 0; width: 100%; height: 100%; overflow: hidden; }
  .band { fill: ${RANGE_COLORS.in_range}; opacity: 0.16; }
  .band-edge { stroke: ${RANGE_COLORS.in_range}; stroke-width: 1; opacity: 0.5; }
  .line {
    fill: none; stroke: var(--primary-text-color); stroke-width: 2;
    stroke-linejoin: round; stroke-linecap: round;
  }
  .dot {
    position: absolute; width: 10px; height: 10px; margin: -5px 0 0 -5px; border-radius: 50%;
    background: var(--range-color); box-shadow: 0 0 0 2px var(--card-background-color, #fff);
  }
  .label {
    position: absolute; right: 2px; transform: translateY(-50%);
    font-size: 0.7rem; line-height: 1; color: var(--secondary-text-color);
    background: color-mix(in srgb, var(--card-background-color, #fff) 70%, transparent);
  }
  .axis {
    position: absolute; left: 2px; bottom: -2px;
    font-size: 0.7rem; color: var(--secondary-text-color);
  }
  @container (min-width: 460px) {
    .device {
      grid-template-columns: minmax(max-content, 38%) minmax(0, 1fr);
      grid-template-areas: "head head" "reading graph" "meta graph";
      padding: 14px 20px 16px 18px;
    }
    .graph { height: auto; min-height: 84px; margin-top: 0; }
    .value { font-size: clamp(3.2rem, 10cqi, 5.5rem); }
    .arrow { font-size: clamp(2.4rem, 7cqi, 4rem); }
  }
  @container (max-width: 260px) {
    .device { padding: 10px 10px 12px 8px; }
    .range { display: none; }
  }
`;

/** The card and its editor, built on the frontend's own registry and HTMLElement. */
function defineElements() {
  /** The card: one row per Dexcom Share device. */
  class DexcomShareCard extends HTMLElement {
    constructor() {
      super();
      this.attachShadow({ mode: "open" });
      this._series = {};
      this._ranges = {};
      this._units = {};
      this._historyKey = "";
      this._historyFetchedAt = 0;
      this._rendered = {};
    }

    static getConfigElement() {
      return document.createElement(EDITOR_TYPE);
    }

    static getStubConfig(hass) {
      const [first] = dexcomDevices(hass);
      return first ? { devices: [first] } : {};
    }

    setConfig(config) {
      this._config = checkConfig(config);
      this._historyKey = "";
      this._build();
    }

    set hass(hass) {
      const first = !this._hass;
      this._hass = hass;
      if (first || this._deviceKey !== this._deviceIds().join()) this._build();
      this._recordChanges();
      this._refreshHistory();
      this._render();
    }

    get hass() {
      return this._hass;
    }

    connectedCallback() {
      const tick = () => {
        this._refreshHistory();
        this._render();
      };
      tick();
      this._timer = setInterval(tick, TICK_MS);
    }

    disconnectedCallback() {
      clearInterval(this._timer);
      this._historyKey = "";
    }

    getCardSize() {
      const perRow = 2 + (this._config?.show_graph ? 1 : 0);
      return (this._config?.title ? 1 : 0) + Math.max(1, this._deviceIds().length) * perRow;
    }

    getGridOptions() {
      return { columns: 12, rows: "auto", min_columns: 3 };
    }

    get _language() {
      return this._hass?.locale?.language || this._hass?.language || "en";
    }

    _deviceIds() {
      if (!this._hass || !this._config) return [];
      return this._config.devices.length ? this._config.devices : dexcomDevices(this._hass);
    }

    /** The card's frame and one stable, focusable element per device. */
    _build() {
      if (!this._config || !this._hass) return;
      const ids = this._deviceIds();
      this._deviceKey = ids.join();
      this._rendered = {};
      const card = document.createElement("ha-card");
      if (this._config.title) card.setAttribute("header", this._config.title);
      if (!ids.length) {
        const empty = localize(this._language, "no_devices");
        card.innerHTML = `<div class="empty">${escape(empty)}</div>`;
      }
      for (const id of ids) {
        const row = document.createElement("div");
        row.className = "row";
        const device = document.createElement("div");
        device.className = "device";
        device.dataset.deviceId = id;
        device.tabIndex = 0;
        device.setAttribute("role", "button");
        device.addEventListener("click", () => this._moreInfo(id));
        device.addEventListener("keydown", (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            this._moreInfo(id);
          }
        });
        // The alert and its buttons sit above the row's button, not inside it.
        const slot = document.createElement("div");
        slot.className = "alert-slot";
        slot.dataset.deviceId = id;
        slot.addEventListener("click", (event) => {
          const button = event.target.closest?.("button[data-action]");
          if (button) this._alertAction(id, button.dataset.action, button.dataset.alert);
        });
        row.append(slot, device);
        card.append(row);
      }
      const style = document.createElement("style");
      style.textContent = STYLES;
      this.shadowRoot.replaceChildren(style, card);
    }

    /** Acknowledge or snooze a device's alert through the integration's actions. */
    _alertAction(deviceId, action, alert) {
      const device = this._hass.devices?.[deviceId];
      const entryId = device?.primary_config_entry || device?.config_entries?.[0];
      if (!entryId || !alert) return;
      const data = { config_entry_id: entryId, alert };
      if (action === "snooze") data.minutes = CARD_SNOOZE_MINUTES;
      this._hass.callService(DOMAIN, action === "snooze" ? "snooze_alert" : "acknowledge_alert", data);
    }

    _moreInfo(deviceId) {
      const entityId = deviceEntities(this._hass, deviceId).value;
      if (!entityId) return;
      this.dispatchEvent(
        new CustomEvent("hass-more-info", { detail: { entityId }, bubbles: true, composed: true })
      );
    }

    /** Append each new glucose state to its series, so the graph follows without refetching. */
    _recordChanges() {
      for (const id of this._deviceIds()) {
        const entityId = deviceEntities(this._hass, id).value;
        const series = this._series[entityId];
        const stateObj = this._hass.states[entityId];
        if (!series || !stateObj) continue;
        const t = Date.parse(stateObj.last_updated);
        const last = series.at(-1);
        if (!last || (t > last.t && stateObj.state !== last.s)) {
          series.push({ t, s: stateObj.state });
        }
      }
    }

    /** Load the graph's window from Home Assistant's history when it is missing or old. */
    _refreshHistory() {
      if (!this._hass || !this._config?.show_graph || !this.isConnected) return;
      const entityIds = this._deviceIds()
        .map((id) => deviceEntities(this._hass, id).value)
        .filter(Boolean);
      const key = `${entityIds.join()}|${this._config.hours_to_show}`;
      const due = Date.now() - this._historyFetchedAt > HISTORY_REFRESH_MS;
      if (!entityIds.length || (key === this._historyKey && !due)) return;
      this._historyKey = key;
      this._historyFetchedAt = Date.now();
      const end = new Date();
      const start = new Date(end.getTime() - this._config.hours_to_show * 3600 * 1000);
      this._hass
        .callWS({
          type: "history/history_during_period",
          start_time: start.toISOString(),
          end_time: end.toISOString(),
          entity_ids: entityIds,
          minimal_response: true,
          no_attributes: true,
        })
        .then((history) => {
          if (this._historyKey !== key) return;
          for (const entityId of entityIds) {
            this._series[entityId] = (history[entityId] || []).map((s) => ({
              t: s.lu * 1000,
              s: s.s,
            }));
          }
          this._recordChanges();
          this._render();
          return Promise.all(entityIds.map((entityId) => this._addReadings(entityId, key)));
        })
        .catch(() => {
          // No history (the recorder is off): the graph shows its band only, and the
          // next refresh tries again.
          if (this._historyKey === key) this._series = {};
        });
    }

    /** Draw the window from the integration's own readings, where it has them. */
    _addReadings(entityId, key) {
      const series = this._series[entityId] || [];
      const device = this._hass.devices?.[this._hass.entities?.[entityId]?.device_id];
      const entryId = device?.primary_config_entry || device?.config_entries?.[0];
      if (!entryId) return null;
      return this._hass
        .callWS({
          type: "call_service",
          domain: DOMAIN,
          service: "get_readings",
          service_data: { config_entry_id: entryId, minutes: this._config.hours_to_show * 60 },
          return_response: true,
        })
        .then((result) => {
          if (this._historyKey !== key || this._series[entityId] !== series) return;
          this._series[entityId] = withReadings(series, result?.response?.readings || []);
          this._render();
        })
        .catch(() => {
          // The entry is not loaded: the graph shows the recorder's history alone.
        });
    }

    _render() {
      if (!this._hass || !this._config) return;
      for (const device of this.shadowRoot.querySelectorAll(".device")) {
        const view = this._view(device.dataset.deviceId);
        const slot = device.previousElementSibling;
        if (slot && slot.dataset.shown !== view.banner) {
          slot.dataset.shown = view.banner;
          slot.innerHTML = view.banner;
        }
        if (this._rendered[device.dataset.deviceId] === view.html) continue;
        this._rendered[device.dataset.deviceId] = view.html;
        device.dataset.state = view.state;
        device.dataset.range = view.range;
        device.setAttribute("aria-label", view.label);
        device.innerHTML = view.html;
      }
    }

    /** One device's markup, state and spoken summary. */
    _view(deviceId) {
      const hass = this._hass;
      const config = this._config;
      const language = this._language;
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
      // The last unit and thresholds seen still scale the graph of a stale row.
      if (live) this._units[deviceId] = states.value.attributes.unit_of_measurement;
      if (isAvailable(states.range)) {
        this._ranges[deviceId] = rememberedRange(deviceId, states.range.attributes);
      } else if (!this._ranges[deviceId]) {
        this._ranges[deviceId] = rememberedRange(deviceId, null);
      }
      const unit = this._units[deviceId] || states.value.attributes.unit_of_measurement || "";
      const range = targetRange(this._ranges[deviceId], unit);
      const readingTime = isAvailable(states.time) ? Date.parse(states.time.state) : null;
      const age = readingTime === null ? null : ageText(Date.now() - readingTime, language, !live);
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
        const { value, unit: unitText } = stateParts(hass, states.value);
        spoken.push(`${value} ${unitText}`);
        reading =
          `<span class="value">${escape(value)}</span>` +
          `<span class="unit">${escape(unitText)}</span>`;
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
        (config.show_graph ? this._graph(entities.value, unit, range, live && readingTime) : "");
      return {
        state: live ? "live" : "stale",
        range: rangeKey,
        label: spoken.join(", "),
        html,
        banner: banner ? banner.html : "",
      };
    }

    /** The sparkline up to `newestReading` (a live row's reading time; null when stale). */
    _graph(entityId, unit, range, newestReading) {
      const language = this._language;
      const hours = this._config.hours_to_show;
      const end = Date.now();
      const start = end - hours * 3600 * 1000;
      const series = this._series[entityId] || [];
      const geometry = sparkline(series, start, end, range, unit, newestReading || null);
      const precision = unit === "mmol/L" ? 1 : 0;
      const number = new Intl.NumberFormat(language, {
        minimumFractionDigits: precision,
        maximumFractionDigits: precision,
      });
      const label =
        geometry.min === null
          ? localize(language, "graph_empty", { hours })
          : localize(language, "graph", {
              hours,
              min: number.format(geometry.min),
              max: number.format(geometry.max),
              unit,
              low: number.format(range.low),
              high: number.format(range.high),
            });
      const edgeLabel = (y, value) =>
        `<span class="label" style="top:${y}%">${number.format(value)}</span>`;
      const dot = geometry.dot
        ? `<span class="dot" style="left:${geometry.dot.x}%;top:${geometry.dot.y}%"></span>`
        : "";
      return (
        `<div class="graph" role="img" aria-label="${escape(label)}">` +
        `<svg viewBox="0 0 100 100" preserveAspectRatio="none" aria-hidden="true">` +
        `<rect class="band" x="0" width="100" y="${geometry.bandTop}"` +
        ` height="${geometry.bandBottom - geometry.bandTop}"></rect>` +
        bandEdge(geometry.bandTop) +
        bandEdge(geometry.bandBottom) +
        `<path class="line" d="${geometry.path}" vector-effect="non-scaling-stroke"></path>` +
        `</svg>${dot}` +
        edgeLabel(geometry.bandTop, range.high) +
        edgeLabel(geometry.bandBottom, range.low) +
        `<span class="axis" aria-hidden="true">−${hours} h</span>` +
        `</div>`
      );
    }
  }

  /** The visual editor: devices, hours in the graph, and which parts to show. */
  class DexcomShareCardEditor extends HTMLElement {
    setConfig(config) {
      this._config = config;
      this._render();
    }

    set hass(hass) {
      this._hass = hass;
      this._render();
    }

    _render() {
      if (!this._hass || !this._config) return;
      const language = this._hass.locale?.language || this._hass.language || "en";
      if (!this._form) {
        this._form = document.createElement("ha-form");
        this._form.computeLabel = (schema) => localize(language, schema.name);
        this._form.computeHelper = (schema) =>
          schema.name === "devices" ? localize(language, "devices_helper") : undefined;
        this._form.addEventListener("value-changed", (event) => this._changed(event.detail.value));
        this.append(this._form);
      }
      this._form.hass = this._hass;
      this._form.schema = [
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
      this._form.data = { ...DEFAULTS, devices: [], ...this._config };
    }

    /** Keep only what differs from the defaults, so the YAML stays short. */
    _changed(value) {
      const config = { type: this._config.type };
      for (const [key, item] of Object.entries(value)) {
        if (key === "type" || item === DEFAULTS[key] || item === "" || item === undefined) continue;
        if (key === "devices" && (!Array.isArray(item) || !item.length)) continue;
        config[key] = item;
      }
      this._config = config;
      this.dispatchEvent(
        new CustomEvent("config-changed", { detail: { config }, bubbles: true, composed: true })
      );
    }
  }

  customElements.define(CARD_TYPE, DexcomShareCard);
  customElements.define(EDITOR_TYPE, DexcomShareCardEditor);
  window.customCards = window.customCards || [];
  window.customCards.push({
    type: CARD_TYPE,
    name: "Dexcom Share",
    description: "Glucose, trend, change, reading age and a sparkline for Dexcom Share devices.",
    preview: true,
    documentationURL: "https://github.com/dexcom-share-ha/dexcom_share#dashboards",
  });
}

// Home Assistant's frontend installs its own element registry (a scoped-registry polyfill)
// as it starts, and this module may run first: an element defined before that, or built on
// the HTMLElement it replaces, stays invisible to dashboards. The frontend defines its root
// element through its registry, so the card is defined once that has happened.
customElements.whenDefined("home-assistant").then(() => {
  if (!customElements.get(CARD_TYPE)) defineElements();
});
