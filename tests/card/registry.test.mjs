import assert from "node:assert/strict";
import { test } from "node:test";

import {
  dexcomDevices,
  deviceEntities,
  deviceEntry,
  deviceName,
} from "../../custom_components/dexcom_share/card/registry.js";
import { fakeHass, liveStates } from "./hass.mjs";

test("devices with a glucose value, by name; entities by their translation key", () => {
  const hass = fakeHass({
    b: { name: "Zoe", states: liveStates() },
    a: { name: "Alex", states: liveStates() },
    c: { name: "No value", states: { trend: liveStates().trend } },
  });
  hass.entities["sensor.other"] = {
    entity_id: "sensor.other",
    device_id: "a",
    platform: "another",
    translation_key: "glucose_value",
  };
  assert.deepEqual(dexcomDevices(hass), ["a", "b"]);
  assert.equal(deviceEntities(hass, "a").value, "sensor.a_glucose_value");
  assert.equal(deviceEntities(hass, "a").status, "sensor.a_data_status");
  assert.deepEqual(deviceEntities(hass, "unknown"), {});
});

test("new registries are read again", () => {
  const first = fakeHass({ a: { name: "Alex", states: liveStates() } });
  assert.deepEqual(dexcomDevices(first), ["a"]);
  const second = fakeHass({ b: { name: "Sam", states: liveStates() } });
  assert.deepEqual(dexcomDevices(second), ["b"]);
});

test("a device's name and entry", () => {
  const hass = fakeHass({ a: { name: "Alex", entry: "entry-a", states: liveStates() } });
  assert.equal(deviceName(hass, "a"), "Alex");
  hass.devices.a.name_by_user = "Dad";
  assert.equal(deviceName(hass, "a"), "Dad");
  assert.equal(deviceName(hass, "gone"), "gone");
  assert.equal(deviceEntry(hass, "a"), "entry-a");
  hass.devices.a = { config_entries: ["entry-b"] };
  assert.equal(deviceEntry(hass, "a"), "entry-b");
  assert.equal(deviceEntry(hass, "gone"), null);
});
