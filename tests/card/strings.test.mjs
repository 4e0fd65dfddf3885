import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { test } from "node:test";

import { STRINGS, localize } from "../../custom_components/dexcom_share/card/strings.js";

const TRANSLATIONS = new URL("../../custom_components/dexcom_share/translations/", import.meta.url);

test("the card speaks every language the integration is translated into", () => {
  const languages = readdirSync(TRANSLATIONS)
    .filter((name) => name.endsWith(".json"))
    .map((name) => name.slice(0, -".json".length))
    .sort();
  assert.deepEqual(Object.keys(STRINGS).sort(), languages);
});

test("every language has every string", () => {
  const keys = Object.keys(STRINGS.en).sort();
  for (const [language, strings] of Object.entries(STRINGS)) {
    assert.deepEqual(Object.keys(strings).sort(), keys, language);
  }
});

test("placeholders are filled in", () => {
  assert.equal(localize("en", "ago_minutes", { n: 3 }), "3 min ago");
  assert.equal(localize("de", "snooze", { n: 30 }), "30 Min. stummschalten");
});

test("a regional language falls back to its language, an unknown one to English", () => {
  assert.equal(localize("de-AT", "no_data"), "Keine Daten");
  assert.equal(localize("xx", "no_data"), "No data");
  assert.equal(localize(undefined, "no_data"), "No data");
});

test("an unknown key is empty", () => {
  assert.equal(localize("en", "nothing_like_it"), "");
});
