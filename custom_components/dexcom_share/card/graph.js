// The sparkline: the readings of the last hours over the target range band.

import { escape, numberFormat } from "./format.js";
import { segments } from "./series.js";
import { localize } from "./strings.js";

/**
 * The sparkline's geometry in a 100 × 100 box from a `dexcom_share/readings` answer
 * (`source`), between `start` and `end` (ms). The axis spans at least the answer's
 * `axis` and the band's thresholds, and every value shown; readings before `start`
 * only carry the line in from the left edge.
 */
export function sparkline(source, start, end) {
  const runs = segments(source.readings, source.gap);
  const values = runs
    .flat()
    .filter((p) => p.t >= start)
    .map((p) => p.v);
  const { low, high } = source.thresholds;
  const bottom = Math.min(source.axis.min, low, ...values);
  const top = Math.max(source.axis.max, high, ...values);
  const x = (t) => ((t - start) / (end - start)) * 100;
  const y = (v) => ((top - v) / (top - bottom)) * 100;
  const round = (n) => Math.round(n * 100) / 100;
  // A lone reading between gaps is a zero-length line: its round caps draw a dot.
  const path = runs
    .map((points) => (points.length === 1 ? [points[0], points[0]] : points))
    .map((points) =>
      points.map((p, i) => `${i ? "L" : "M"}${round(x(p.t))},${round(y(p.v))}`).join(" ")
    )
    .join(" ");
  const last = runs.length ? runs.at(-1).at(-1) : null;
  return {
    path,
    dot: last ? { x: round(x(last.t)), y: round(y(last.v)) } : null,
    bandTop: round(y(high)),
    bandBottom: round(y(low)),
    min: values.length ? Math.min(...values) : null,
    max: values.length ? Math.max(...values) : null,
  };
}

/** One edge of the target range band, one pixel whatever the graph's size. */
function bandEdge(y) {
  return (
    `<line class="band-edge" x1="0" x2="100" y1="${y}" y2="${y}"` +
    ` vector-effect="non-scaling-stroke"></line>`
  );
}

/**
 * The graph's markup for the last `hours` up to `now`, with its spoken summary. Empty
 * until the integration has answered (or while its entry is not loaded).
 */
export function graphHtml(source, hours, now, language) {
  if (!source) return `<div class="graph" aria-hidden="true"></div>`;
  const geometry = sparkline(source, now - hours * 3600 * 1000, now);
  const number = numberFormat(language, source.precision);
  const { low, high } = source.thresholds;
  const label =
    geometry.min === null
      ? localize(language, "graph_empty", { hours })
      : localize(language, "graph", {
          hours,
          min: number.format(geometry.min),
          max: number.format(geometry.max),
          unit: source.unit,
          low: number.format(low),
          high: number.format(high),
        });
  const edgeLabel = (y, value) =>
    `<span class="label" style="top:${y}%">${number.format(value)}</span>`;
  const dot = geometry.dot
    ? `<span class="dot" style="left:${geometry.dot.x}%;top:${geometry.dot.y}%"></span>`
    : "";
  return (
    `<div class="graph" role="img" aria-label="${escape(label)}">` +
    `<svg viewBox="0 0 100 100" preserveAspectRatio="none" aria-hidden="true">` +
    `<rect class="band" x="0" width="100" y="${geometry.bandTop}"` +
    ` height="${geometry.bandBottom - geometry.bandTop}"></rect>` +
    bandEdge(geometry.bandTop) +
    bandEdge(geometry.bandBottom) +
    `<path class="line" d="${geometry.path}" vector-effect="non-scaling-stroke"></path>` +
    `</svg>${dot}` +
    edgeLabel(geometry.bandTop, high) +
    edgeLabel(geometry.bandBottom, low) +
    `<span class="axis" aria-hidden="true">−${hours} h</span>` +
    `</div>`
  );
}
