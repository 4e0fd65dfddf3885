import assert from "node:assert/strict";
import { test } from "node:test";

import { graphHtml, sparkline } from "../../custom_components/dexcom_share/card/graph.js";
import { MINUTE, NOW, answer } from "./hass.mjs";

const HOUR = 60 * MINUTE;

/** An answer whose readings are `[seconds, value]` pairs, in mg/dL unless overridden. */
function source(readings, overrides = {}) {
  return { ...answer([]), readings, ...overrides };
}

test("the line runs through the readings over the band of the answer's thresholds", () => {
  const geometry = sparkline(
    source([
      [0, 100],
      [600, 120],
    ]),
    0,
    HOUR
  );
  // The axis spans the answer's 40–250: y = (250 - v) / 210 × 100.
  assert.equal(geometry.path, "M0,71.43 L16.67,61.9");
  assert.deepEqual(geometry.dot, { x: 16.67, y: 61.9 });
  assert.equal(geometry.bandTop, 33.33);
  assert.equal(geometry.bandBottom, 85.71);
  assert.equal(geometry.min, 100);
  assert.equal(geometry.max, 120);
});

test("the band follows the user's thresholds, in the answer's unit (no conversion here)", () => {
  const mmol = source(
    [
      [0, 5.5],
      [300, 5.6],
    ],
    {
      unit: "mmol/L",
      precision: 1,
      thresholds: { urgent_low: 3.1, low: 4.4, high: 8.9, urgent_high: 13.9 },
      axis: { min: 2.2, max: 13.9 },
    }
  );
  const geometry = sparkline(mmol, 0, HOUR);
  const y = (v) => Math.round(((13.9 - v) / (13.9 - 2.2)) * 10000) / 100;
  assert.equal(geometry.bandTop, y(8.9));
  assert.equal(geometry.bandBottom, y(4.4));
  assert.equal(geometry.max, 5.6);
});

test("values beyond the axis widen it; thresholds beyond it too", () => {
  const geometry = sparkline(
    source(
      [
        [0, 39],
        [300, 401],
      ],
      { thresholds: { urgent_low: 55, low: 70, high: 300, urgent_high: 350 } }
    ),
    0,
    HOUR
  );
  // LOW (39) at the bottom, HIGH (401) at the top.
  assert.equal(geometry.path, "M0,100 L8.33,0");
  assert.equal(geometry.bandTop, Math.round(((401 - 300) / (401 - 39)) * 10000) / 100);
});

test("a gap longer than the answer's splits the line; a lone reading is a dot", () => {
  const geometry = sparkline(
    source([
      [0, 100],
      [300, 100],
      [1800, 150],
    ]),
    0,
    HOUR
  );
  assert.equal(geometry.path.split("M").length - 1, 2);
  assert.match(geometry.path, / M50,47\.62 L50,47\.62$/);
});

test("readings before the window carry the line in but do not scale it", () => {
  const geometry = sparkline(
    source([
      [0, 300],
      [3600, 100],
      [3900, 110],
    ]),
    HOUR,
    2 * HOUR
  );
  assert.equal(geometry.min, 100);
  assert.equal(geometry.max, 110);
  assert.ok(geometry.path.startsWith("M-100,"), geometry.path);
});

test("no readings: the band alone", () => {
  const geometry = sparkline(source([]), 0, HOUR);
  assert.equal(geometry.path, "");
  assert.equal(geometry.dot, null);
  assert.equal(geometry.min, null);
});

test("the graph says its window, range, unit and target range in words", () => {
  const html = graphHtml(answer([110, 120, 130]), 3, NOW, "en");
  assert.match(
    html,
    /aria-label="Glucose over the last 3 h, from 110 to 130 mg\/dL; target range 70–180"/
  );
  assert.match(html, /<span class="label" style="top:[\d.]+%">180<\/span>/);
  assert.match(html, /−3 h/);
});

test("in mmol/L the figures keep the answer's decimals", () => {
  const mmol = answer([6.1, 6.7], {
    unit: "mmol/L",
    precision: 1,
    thresholds: { urgent_low: 3.1, low: 3.9, high: 10, urgent_high: 13.9 },
    axis: { min: 2.2, max: 13.9 },
  });
  assert.match(
    graphHtml(mmol, 3, NOW, "de"),
    /Glukose der letzten 3 Std\., von 6,1 bis 6,7 mmol\/L; Zielbereich 3,9–10,0/
  );
});

test("an empty window says so; no answer yet draws nothing", () => {
  assert.match(graphHtml(answer([]), 3, NOW, "en"), /No glucose history in the last 3 h/);
  assert.equal(graphHtml(undefined, 3, NOW, "en"), '<div class="graph" aria-hidden="true"></div>');
});
