// The logic modules stay pure: nothing of the page, the browser or Home Assistant's
// frontend in them, and no unit conversion (the integration answers in the user's unit).

import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { test } from "node:test";

const CARD = new URL("../../custom_components/dexcom_share/card/", import.meta.url);
const ENTRY = "dexcom-share-card.js";
const modules = readdirSync(CARD).filter((name) => name.endsWith(".js") && name !== ENTRY);

test("the logic modules touch neither the page nor the browser", () => {
  assert.ok(modules.length >= 5, modules.join());
  for (const name of modules) {
    const code = readFileSync(new URL(name, CARD), "utf8");
    for (const word of ["document", "window", "customElements", "localStorage", "HTMLElement"]) {
      assert.doesNotMatch(code, new RegExp(`\\b${word}\\b`), `${name} uses ${word}`);
    }
  }
});

test("every module loads on its own", async () => {
  for (const name of modules) await import(new URL(name, CARD));
});

test("no module converts or guesses units", () => {
  for (const name of [...modules, ENTRY]) {
    const code = readFileSync(new URL(name, CARD), "utf8");
    assert.doesNotMatch(code, /18\.0\d|MG_DL|MMOL/i, name);
  }
});
