import assert from "node:assert/strict";
import { test } from "node:test";

import {
  readingsKey,
  readingsRequest,
  segments,
} from "../../custom_components/dexcom_share/card/series.js";
import { state } from "./hass.mjs";

test("the request names the glucose value entity and the window in minutes", () => {
  assert.deepEqual(readingsRequest("sensor.jane_glucose_value", 3), {
    type: "dexcom_share/readings",
    entity_id: "sensor.jane_glucose_value",
    minutes: 180,
  });
});

test("readings more than the gap apart start a new run; times become milliseconds", () => {
  const runs = segments(
    [
      [0, 100],
      [300, 105],
      [1200, 110],
      [2400, 120],
      [2700, 125],
    ],
    900
  );
  assert.deepEqual(
    runs.map((run) => run.map((p) => `${p.t / 1000}:${p.v}`)),
    [["0:100", "300:105", "1200:110"], ["2400:120", "2700:125"]]
  );
});

test("no readings, no runs", () => {
  assert.deepEqual(segments([], 900), []);
});

test("the card asks again for a new reading, a new unit, new thresholds or another window", () => {
  const states = {
    value: state(120, {}, "2026-11-21T11:59:00Z"),
    time: state("2026-11-21T11:59:00Z"),
    range: state("in_range", {}, "2026-11-21T11:00:00Z"),
  };
  const key = readingsKey(states, 3);
  assert.equal(readingsKey({ ...states }, 3), key, "the same states: nothing to ask");
  const changes = [
    { ...states, time: state("2026-11-21T12:04:00Z") },
    { ...states, value: state(6.7, {}, "2026-11-21T12:00:30Z") },
    { ...states, range: state("in_range", {}, "2026-11-21T12:00:30Z") },
  ];
  for (const changed of changes) assert.notEqual(readingsKey(changed, 3), key);
  assert.notEqual(readingsKey(states, 6), key);
});
