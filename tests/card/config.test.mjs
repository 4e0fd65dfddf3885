import assert from "node:assert/strict";
import { test } from "node:test";

import {
  DEFAULTS,
  EDITOR_SCHEMA,
  checkConfig,
  editedConfig,
  editorData,
} from "../../custom_components/dexcom_share/card/config.js";

test("defaults fill in what the configuration leaves out", () => {
  const config = checkConfig({ type: "custom:dexcom-share-card" });
  assert.equal(config.hours_to_show, 3);
  assert.deepEqual(config.devices, []);
  assert.equal(config.show_graph, true);
});

test("bad configurations are refused with a reason", () => {
  for (const bad of [
    null,
    "card",
    { hours_to_show: 0 },
    { hours_to_show: 25 },
    { hours_to_show: 2.5 },
    { devices: "abc" },
    { devices: [1] },
    { show_graph: "yes" },
    { title: 3 },
  ]) {
    assert.throws(() => checkConfig(bad), Error, JSON.stringify(bad));
  }
});

test("the editor picks this integration's devices, hours and parts", () => {
  const names = EDITOR_SCHEMA.flatMap((item) => item.schema ?? [item]).map((item) => item.name);
  for (const name of ["title", "devices", "hours_to_show", ...Object.keys(DEFAULTS)]) {
    assert.ok(names.includes(name), name);
  }
  const devices = EDITOR_SCHEMA.find((item) => item.name === "devices");
  assert.deepEqual(devices.selector.device, {
    multiple: true,
    filter: { integration: "dexcom_share" },
  });
});

test("the editor shows every option and keeps only what differs from the defaults", () => {
  const shown = editorData({ type: "custom:dexcom-share-card", hours_to_show: 6 });
  assert.equal(shown.hours_to_show, 6);
  assert.deepEqual(shown.devices, []);
  assert.equal(shown.show_name, true);
  const edited = editedConfig("custom:dexcom-share-card", {
    ...shown,
    title: "",
    hours_to_show: 24,
    show_graph: false,
  });
  assert.deepEqual(edited, {
    type: "custom:dexcom-share-card",
    hours_to_show: 24,
    show_graph: false,
  });
  assert.deepEqual(editedConfig("t", { devices: ["a"] }), { type: "t", devices: ["a"] });
});
