import assert from "node:assert/strict";
import { test } from "node:test";

import { checkConfig } from "../../custom_components/dexcom_share/card/config.js";
import { rowView } from "../../custom_components/dexcom_share/card/row.js";
import { MINUTE, NOW, answer, fakeHass, liveStates, state } from "./hass.mjs";

const CONFIG = checkConfig({ type: "custom:dexcom-share-card" });

test("a live row: value, unit, arrow, range, change and age, all in its label", () => {
  const hass = fakeHass({ a: { name: "Jane", states: liveStates() } });
  const view = rowView(hass, CONFIG, "a", answer([110, 115, 120]), "en", NOW);
  assert.equal(view.state, "live");
  assert.equal(view.range, "in_range");
  assert.equal(view.label, "Jane, 120 mg/dL, Steady, In range, change +2 mg/dL, 1 min ago");
  assert.match(view.html, /<span class="value">120<\/span><span class="unit">mg\/dL<\/span>/);
  assert.match(view.html, /<span class="arrow" title="Steady">→<\/span>/);
  assert.match(view.html, /from 110 to 120 mg\/dL; target range 70–180/);
  assert.equal(view.banner, "");
});

test("a stale row says for how long there has been no data, and keeps its graph", () => {
  const hass = fakeHass({
    a: {
      name: "Jane",
      states: liveStates({
        value: state("unavailable"),
        trend: state("unavailable"),
        delta: state("unavailable"),
        range: state("unavailable"),
        time: state(new Date(NOW - 25 * MINUTE).toISOString()),
        status: state("stale"),
      }),
    },
  });
  const view = rowView(hass, CONFIG, "a", answer([120, 121]), "en", NOW);
  assert.equal(view.state, "stale");
  assert.equal(view.range, "");
  assert.equal(view.label, "Jane, No data for 25 min");
  assert.doesNotMatch(view.html, /class="value"/);
  assert.match(view.html, /target range 70–180/);
});

test("a cause is said; an alert goes above the row", () => {
  const hass = fakeHass({
    a: {
      name: "Jane",
      states: liveStates({
        status: state("share_unreachable"),
        alert: state("urgent_low", { alerts: { urgent_low: { state: "sounding" } } }),
      }),
    },
  });
  const view = rowView(hass, CONFIG, "a", null, "en", NOW);
  assert.match(view.html, /<span class="status">Share unreachable<\/span>/);
  assert.match(view.label, /, Share unreachable, Urgent low$/);
  assert.match(view.banner, /role="alert"/);
});

test("the parts the configuration leaves out are left out", () => {
  const hass = fakeHass({ a: { name: "Jane", states: liveStates() } });
  const compact = checkConfig({ show_name: false, show_graph: false, show_trend: false });
  const view = rowView(hass, compact, "a", answer([120]), "en", NOW);
  assert.doesNotMatch(view.html, /class="name"|class="graph"|class="arrow"/);
});

test("a device without its entities says it is missing", () => {
  const view = rowView(fakeHass({}), CONFIG, "gone", null, "en", NOW);
  assert.equal(view.state, "missing");
  assert.equal(view.label, "Dexcom Share device not found");
});
