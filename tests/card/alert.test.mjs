import assert from "node:assert/strict";
import { test } from "node:test";

import { alertAction, alertBanner } from "../../custom_components/dexcom_share/card/alert.js";
import { fakeHass, state } from "./hass.mjs";

const hass = fakeHass({});

test("no active alert, no banner", () => {
  assert.equal(alertBanner(hass, state("none"), "en"), null);
  assert.equal(alertBanner(hass, state("unavailable"), "en"), null);
  assert.equal(alertBanner(hass, undefined, "en"), null);
});

test("a sounding alert offers Acknowledge and Snooze", () => {
  const banner = alertBanner(
    hass,
    state("urgent_low", { alerts: { urgent_low: { state: "sounding" } } }),
    "en"
  );
  assert.equal(banner.spoken, "Urgent low");
  assert.match(banner.html, /data-action="acknowledge" data-alert="urgent_low">Acknowledge</);
  assert.match(banner.html, /data-action="snooze" data-alert="urgent_low">Snooze 30 min</);
});

test("an acknowledged alert says who is on it, without buttons", () => {
  const banner = alertBanner(
    hass,
    state("urgent_low", { alerts: { urgent_low: { state: "acknowledged", by: "Sam" } } }),
    "en"
  );
  assert.equal(banner.spoken, "Urgent low, Sam is on it");
  assert.doesNotMatch(banner.html, /<button/);
});

test("a snoozed alert says until when", () => {
  const banner = alertBanner(
    hass,
    state("urgent_low", {
      alerts: { urgent_low: { state: "snoozed" } },
      snoozed_until: { urgent_low: "2026-11-21T12:30:00Z" },
    }),
    "en"
  );
  assert.match(banner.spoken, /^Urgent low, snoozed until \d\d:\d\d/);
});

test("the buttons' actions", () => {
  assert.deepEqual(alertAction("entry", "acknowledge", "low"), {
    service: "acknowledge_alert",
    data: { config_entry_id: "entry", alert: "low" },
  });
  assert.deepEqual(alertAction("entry", "snooze", "low"), {
    service: "snooze_alert",
    data: { config_entry_id: "entry", alert: "low", minutes: 30 },
  });
});
