// dexcom-share-card: glucose at a glance for one or several Dexcom Share devices.
//
// Plain web components and ES modules with no build step and nothing fetched from
// elsewhere: the integration serves this folder and loads this module on every
// dashboard. The rows come from Home Assistant's states; the graph, its unit and its
// thresholds from the integration's `dexcom_share/readings` command. The logic lives
// in the modules beside this one, which know nothing of the page.

import { alertAction } from "./alert.js";
import { EDITOR_SCHEMA, checkConfig, editedConfig, editorData } from "./config.js";
import { escape } from "./format.js";
import { DOMAIN, dexcomDevices, deviceEntities, deviceEntry } from "./registry.js";
import { rowView } from "./row.js";
import { readingsKey, readingsRequest } from "./series.js";
import { localize } from "./strings.js";
import { STYLES } from "./styles.js";

const CARD_TYPE = "dexcom-share-card";
const EDITOR_TYPE = "dexcom-share-card-editor";
const TICK_MS = 5000;

/** The user's language, as Home Assistant's frontend has it. */
function languageOf(hass) {
  return hass?.locale?.language || hass?.language || "en";
}

/** The card and its editor, built on the frontend's own registry and HTMLElement. */
function defineElements() {
  /** The card: one row per Dexcom Share device. */
  class DexcomShareCard extends HTMLElement {
    constructor() {
      super();
      this.attachShadow({ mode: "open" });
      this._sources = {};
      this._keys = {};
      this._loading = new Set();
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
      this._keys = {};
      this._build();
    }

    set hass(hass) {
      const first = !this._hass;
      this._hass = hass;
      if (first || this._deviceKey !== this._deviceIds().join()) this._build();
      this._refreshReadings();
      this._render();
    }

    get hass() {
      return this._hass;
    }

    connectedCallback() {
      this._refreshReadings();
      this._render();
      this._timer = setInterval(() => this._render(), TICK_MS);
    }

    disconnectedCallback() {
      clearInterval(this._timer);
      // States that changed while the card was away asked for nothing: ask again on return.
      this._keys = {};
    }

    getCardSize() {
      const perRow = 2 + (this._config?.show_graph ? 1 : 0);
      return (this._config?.title ? 1 : 0) + Math.max(1, this._deviceIds().length) * perRow;
    }

    getGridOptions() {
      return { columns: 12, rows: "auto", min_columns: 3 };
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
        const empty = localize(languageOf(this._hass), "no_devices");
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
      const entryId = deviceEntry(this._hass, deviceId);
      if (!entryId || !alert) return;
      const { service, data } = alertAction(entryId, action, alert);
      this._hass.callService(DOMAIN, service, data);
    }

    _moreInfo(deviceId) {
      const entityId = deviceEntities(this._hass, deviceId).value;
      if (!entityId) return;
      this.dispatchEvent(
        new CustomEvent("hass-more-info", { detail: { entityId }, bubbles: true, composed: true })
      );
    }

    /** Ask the integration for each device's readings whose states say they changed. */
    _refreshReadings() {
      if (!this._hass || !this._config?.show_graph || !this.isConnected) return;
      const hours = this._config.hours_to_show;
      for (const id of this._deviceIds()) {
        const entities = deviceEntities(this._hass, id);
        if (!entities.value || this._loading.has(id)) continue;
        const states = Object.fromEntries(
          Object.entries(entities).map(([role, entityId]) => [role, this._hass.states[entityId]])
        );
        const key = readingsKey(states, hours);
        if (this._keys[id] === key) continue;
        this._keys[id] = key;
        this._loading.add(id);
        this._hass
          .callWS(readingsRequest(entities.value, hours))
          .then((source) => {
            this._sources[id] = source;
          })
          .catch(() => {
            // The entry is not loaded: the graph keeps what it drew, and the entry's
            // states coming back ask again.
          })
          .finally(() => {
            this._loading.delete(id);
            this._render();
            this._refreshReadings();
          });
      }
    }

    _render() {
      if (!this._hass || !this._config) return;
      const language = languageOf(this._hass);
      const now = Date.now();
      for (const device of this.shadowRoot.querySelectorAll(".device")) {
        const id = device.dataset.deviceId;
        const view = rowView(this._hass, this._config, id, this._sources[id], language, now);
        const slot = device.previousElementSibling;
        if (slot && slot.dataset.shown !== view.banner) {
          slot.dataset.shown = view.banner;
          slot.innerHTML = view.banner;
        }
        if (this._rendered[id] === view.html) continue;
        this._rendered[id] = view.html;
        device.dataset.state = view.state;
        device.dataset.range = view.range;
        device.setAttribute("aria-label", view.label);
        device.innerHTML = view.html;
      }
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
      const language = languageOf(this._hass);
      if (!this._form) {
        this._form = document.createElement("ha-form");
        this._form.computeLabel = (schema) => localize(language, schema.name);
        this._form.computeHelper = (schema) =>
          schema.name === "devices" ? localize(language, "devices_helper") : undefined;
        this._form.addEventListener("value-changed", (event) => this._changed(event.detail.value));
        this.append(this._form);
      }
      this._form.hass = this._hass;
      this._form.schema = EDITOR_SCHEMA;
      this._form.data = editorData(this._config);
    }

    /** Keep only what differs from the defaults, so the YAML stays short. */
    _changed(value) {
      const config = editedConfig(this._config.type, value);
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
