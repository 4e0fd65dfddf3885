// The card's style sheet: one row per device, coloured by its glucose range.

const RANGE_COLORS = {
  urgent_low: "var(--error-color, #db4437)",
  low: "var(--orange-color, #ff9800)",
  in_range: "var(--success-color, #43a047)",
  high: "var(--amber-color, #ffc107)",
  urgent_high: "var(--deep-orange-color, #ff6f22)",
};

export const STYLES = `
  :host { display: block; }
  ha-card { overflow: hidden; }
  .empty { padding: 16px; color: var(--secondary-text-color); }
  .row { container-type: inline-size; }
  .row + .row { border-top: 1px solid var(--divider-color); }
  .device {
    --range-color: var(--disabled-color, #bdbdbd);
    display: grid;
    grid-template-columns: minmax(0, 1fr);
    grid-template-areas: "head" "reading" "meta" "graph";
    gap: 4px 20px;
    padding: 12px 16px 14px 14px;
    border-left: 6px solid var(--range-color);
    background: color-mix(in srgb, var(--range-color) 10%, transparent);
    cursor: pointer;
    outline: none;
  }
  .device:focus-visible { box-shadow: inset 0 0 0 2px var(--primary-color); }
  .device[data-range="urgent_low"] { --range-color: ${RANGE_COLORS.urgent_low}; }
  .device[data-range="low"] { --range-color: ${RANGE_COLORS.low}; }
  .device[data-range="in_range"] { --range-color: ${RANGE_COLORS.in_range}; }
  .device[data-range="high"] { --range-color: ${RANGE_COLORS.high}; }
  .device[data-range="urgent_high"] { --range-color: ${RANGE_COLORS.urgent_high}; }
  .device[data-state="stale"] {
    --range-color: var(--disabled-color, #9e9e9e);
    background: color-mix(in srgb, var(--disabled-color, #9e9e9e) 14%, transparent);
  }
  .head { grid-area: head; display: flex; align-items: center; gap: 8px; min-width: 0; }
  .name {
    flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
    color: var(--secondary-text-color); font-size: 0.95rem;
  }
  .range {
    flex: none; padding: 2px 10px; border-radius: 999px; font-size: 0.8rem; font-weight: 500;
    color: var(--primary-text-color);
    background: color-mix(in srgb, var(--range-color) 30%, transparent);
  }
  .reading { grid-area: reading; display: flex; align-items: baseline; gap: 6px; flex-wrap: wrap; }
  .value {
    font-size: clamp(2.6rem, 15cqi, 4.5rem); font-weight: 600; line-height: 1;
    font-variant-numeric: tabular-nums; color: var(--primary-text-color);
  }
  .unit { font-size: 1rem; color: var(--secondary-text-color); }
  .arrow {
    font-size: clamp(2rem, 11cqi, 3.4rem); line-height: 1; color: var(--range-color);
    margin-left: 4px;
  }
  .meta {
    grid-area: meta; display: flex; gap: 4px 14px; flex-wrap: wrap;
    color: var(--secondary-text-color); font-size: 0.95rem;
  }
  .delta { font-variant-numeric: tabular-nums; color: var(--primary-text-color); }
  .status { font-weight: 500; color: var(--warning-color, #ffa600); }
  .stale-text {
    font-size: clamp(1.3rem, 7cqi, 2rem); font-weight: 500; line-height: 1.2;
    color: var(--primary-text-color);
  }
  .device[data-state="stale"] .graph { opacity: 0.45; filter: grayscale(1); }
  .graph { grid-area: graph; position: relative; height: 64px; margin-top: 6px; }
  .alert-slot:empty { display: none; }
  .alert-slot { padding: 10px 16px 0 20px; }
  .alert {
    display: flex; align-items: center; flex-wrap: wrap; gap: 4px 10px;
    padding: 6px 10px; border-radius: 8px; font-weight: 500;
    color: var(--text-primary-color, #fff); background: var(--error-color, #db4437);
  }
  .alert-note { font-weight: 400; }
  .alert-buttons { display: flex; gap: 8px; margin-left: auto; }
  .alert button {
    font: inherit; font-size: 0.9rem; padding: 4px 12px; border-radius: 999px; cursor: pointer;
    border: 1px solid currentColor; color: inherit; background: transparent;
  }
  .graph svg { position: absolute; inset: 0; width: 100%; height: 100%; overflow: hidden; }
  .band { fill: ${RANGE_COLORS.in_range}; opacity: 0.16; }
  .band-edge { stroke: ${RANGE_COLORS.in_range}; stroke-width: 1; opacity: 0.5; }
  .line {
    fill: none; stroke: var(--primary-text-color); stroke-width: 2;
    stroke-linejoin: round; stroke-linecap: round;
  }
  .dot {
    position: absolute; width: 10px; height: 10px; margin: -5px 0 0 -5px; border-radius: 50%;
    background: var(--range-color); box-shadow: 0 0 0 2px var(--card-background-color, #fff);
  }
  .label {
    position: absolute; right: 2px; transform: translateY(-50%);
    font-size: 0.7rem; line-height: 1; color: var(--secondary-text-color);
    background: color-mix(in srgb, var(--card-background-color, #fff) 70%, transparent);
  }
  .axis {
    position: absolute; left: 2px; bottom: -2px;
    font-size: 0.7rem; color: var(--secondary-text-color);
  }
  @container (min-width: 460px) {
    .device {
      grid-template-columns: minmax(max-content, 38%) minmax(0, 1fr);
      grid-template-areas: "head head" "reading graph" "meta graph";
      padding: 14px 20px 16px 18px;
    }
    .graph { height: auto; min-height: 84px; margin-top: 0; }
    .value { font-size: clamp(3.2rem, 10cqi, 5.5rem); }
    .arrow { font-size: clamp(2.4rem, 7cqi, 4rem); }
  }
  @container (max-width: 260px) {
    .device { padding: 10px 10px 12px 8px; }
    .range { display: none; }
  }
`;
