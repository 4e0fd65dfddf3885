// A device's readings from the integration's `dexcom_share/readings` command: when to ask
// again, and the answer as the lines the graph draws.

export const READINGS_COMMAND = "dexcom_share/readings";

/** The command for a device's last `hours` of readings, through its glucose value entity. */
export function readingsRequest(entityId, hours) {
  return { type: READINGS_COMMAND, entity_id: entityId, minutes: hours * 60 };
}

/**
 * What the answer depends on, from the device's states: it changes with a new reading
 * (its time), the unit (the value's attributes), the thresholds (the range's) and the
 * entry coming back, so the card asks again exactly then.
 */
export function readingsKey(states, hours) {
  return [
    hours,
    states.value?.last_updated,
    states.time?.state,
    states.range?.last_updated,
  ].join("|");
}

/**
 * The answer's readings (`[seconds, value]`, oldest first) as runs of points `{t, v}`
 * (t in ms): readings more than `gapSeconds` apart end a run, as the glucose value
 * itself went unavailable between them.
 */
export function segments(readings, gapSeconds) {
  const runs = [];
  let previous = null;
  for (const [time, value] of readings) {
    if (previous === null || time - previous > gapSeconds) runs.push([]);
    runs.at(-1).push({ t: time * 1000, v: value });
    previous = time;
  }
  return runs;
}
