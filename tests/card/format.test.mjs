import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ageText,
  escape,
  isAvailable,
  numberFormat,
  signOf,
  stateParts,
  statusWords,
} from "../../custom_components/dexcom_share/card/format.js";
import { MINUTE, fakeHass, state } from "./hass.mjs";

test("a live reading's age", () => {
  assert.equal(ageText(20000, "en", false), "just now");
  assert.equal(ageText(3 * MINUTE + 5000, "en", false), "3 min ago");
  assert.equal(ageText(150 * MINUTE, "en", false), "2 h ago");
  assert.equal(ageText(-5000, "en", false), "just now");
});

test("a stale value says for how long there has been no data", () => {
  assert.equal(ageText(25 * MINUTE, "en", true), "No data for 25 min");
  assert.equal(ageText(3 * 60 * MINUTE, "de", true), "Seit 3 Std. keine Daten");
});

test("unavailable with a fresh reading (a reload) or no reading time at all", () => {
  assert.equal(ageText(20000, "en", true), "No data");
  assert.equal(ageText(Number.NaN, "en", true), "No data");
  assert.equal(ageText(Number.NaN, "en", false), "");
});

test("data status is said only when it tells a cause", () => {
  assert.equal(statusWords(state("share_unreachable"), "Share unreachable"), "Share unreachable");
  assert.equal(statusWords(state("fallback"), "Fallback"), "Fallback");
  for (const quiet of ["current", "waiting", "stale", "unavailable"]) {
    assert.equal(statusWords(state(quiet), quiet), "", quiet);
  }
  assert.equal(statusWords(undefined, ""), "", "no status entity (an older version)");
});

test("markup is escaped", () => {
  assert.equal(
    escape(`<b class="x">Tom & Jerry's</b>`),
    "&lt;b class=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/b&gt;"
  );
});

test("availability", () => {
  assert.equal(isAvailable(state(120)), true);
  assert.equal(isAvailable(state("unavailable")), false);
  assert.equal(isAvailable(state("unknown")), false);
  assert.equal(isAvailable(undefined), false);
});

test("the sign of a change", () => {
  assert.equal(signOf(3), "+");
  assert.equal(signOf(0), "±");
  assert.equal(signOf(-3), "");
});

test("a state's number and unit, as Home Assistant formats them", () => {
  const hass = fakeHass({});
  assert.deepEqual(stateParts(hass, state("6.7", { unit_of_measurement: "mmol/L" })), {
    value: "6.7",
    unit: "mmol/L",
  });
});

test("numbers with the unit's decimals", () => {
  assert.equal(numberFormat("en", 1).format(3.885), "3.9");
  assert.equal(numberFormat("de", 1).format(10), "10,0");
  assert.equal(numberFormat(undefined, 0).format(70.4), "70");
});
