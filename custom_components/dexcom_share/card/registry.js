// The integration's devices and their entities, found through Home Assistant's registries
// (device and translation key), never by entity ID text.

export const DOMAIN = "dexcom_share";
// The entities a row shows, by the translation keys the integration gives them.
export const ROLES = {
  value: "glucose_value",
  trend: "glucose_trend",
  delta: "glucose_delta",
  range: "glucose_range",
  time: "reading_time",
  alert: "active_alert",
  status: "data_status",
};

let registryIndex = { entities: null, devices: null, byDevice: new Map(), sorted: [] };

/**
 * The integration's entities by device and role, rebuilt only when Home Assistant hands
 * over new registries (state updates, many a second, reuse the same objects).
 */
function dexcomIndex(hass) {
  if (registryIndex.entities === hass.entities && registryIndex.devices === hass.devices) {
    return registryIndex;
  }
  const byDevice = new Map();
  for (const entry of Object.values(hass.entities || {})) {
    if (entry.platform !== DOMAIN || !entry.device_id) continue;
    for (const [role, key] of Object.entries(ROLES)) {
      if (entry.translation_key !== key) continue;
      if (!byDevice.has(entry.device_id)) byDevice.set(entry.device_id, {});
      byDevice.get(entry.device_id)[role] = entry.entity_id;
    }
  }
  const sorted = [...byDevice.keys()]
    .filter((id) => byDevice.get(id).value)
    .sort((a, b) => deviceName(hass, a).localeCompare(deviceName(hass, b)));
  registryIndex = { entities: hass.entities, devices: hass.devices, byDevice, sorted };
  return registryIndex;
}

/** Every Dexcom Share device that has a glucose value entity, by name. */
export function dexcomDevices(hass) {
  return dexcomIndex(hass).sorted;
}

/** A device's entity IDs by role, matched on translation keys. */
export function deviceEntities(hass, deviceId) {
  return dexcomIndex(hass).byDevice.get(deviceId) || {};
}

/** The name the user gave the device, else its own, else its ID. */
export function deviceName(hass, deviceId) {
  const device = hass.devices?.[deviceId];
  return device?.name_by_user || device?.name || deviceId;
}

/** The config entry a device belongs to (the integration's actions take it). */
export function deviceEntry(hass, deviceId) {
  const device = hass.devices?.[deviceId];
  return device?.primary_config_entry || device?.config_entries?.[0] || null;
}
