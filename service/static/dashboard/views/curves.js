// A sweep's learning curve (train and dev cost against the training rows, for a grid over
// data.train_fraction) and validation curve (dev and train cost against any numeric override):
// the course's picture of under- and over-fitting, drawn from the children the sweep lists.
//
// Children with the same overrides are the folds of one candidate: their mean is the point, their
// population standard deviation (the API's std_dev_loss) its error bar. Children that failed, were
// cancelled, are still running or were pruned (their cost is from an unfinished run) are left out.

import { PALETTE } from "../chart.js";
import { pointChart } from "../svgchart.js";
import { fill, h, num } from "../util.js";
import { overridesText } from "./sweeps.js";

const FRACTION = "data.train_fraction";
const TRAIN = "#0072b2"; // the job page's train colour
const DEV = "#d55e00"; // and its dev colour

function finished(job) {
  return job.status === "succeeded" && job.outcome !== "pruned" && Number.isFinite(job.train_loss);
}

function stats(values) {
  const ok = values.filter((v) => v != null && Number.isFinite(v));
  if (!ok.length) return null;
  if (ok.every((v) => v === ok[0])) return { mean: ok[0], std: 0, n: ok.length }; // exactly, not a sum's rounding
  const mean = ok.reduce((a, b) => a + b, 0) / ok.length;
  const std = Math.sqrt(ok.reduce((a, b) => a + (b - mean) ** 2, 0) / ok.length);
  return { mean, std, n: ok.length };
}

/** The override paths whose values are numbers in every child, with at least two distinct ones
 * (not data.train_fraction: the learning curve shows it against the rows it gives). */
export function numericKeys(sweep) {
  const keys = new Set(sweep.jobs.flatMap((j) => Object.keys(j.overrides || {})));
  keys.delete(FRACTION);
  return [...keys].filter((k) => {
    const values = sweep.jobs.map((j) => j.overrides?.[k]);
    return values.every((v) => typeof v === "number") && new Set(values).size > 1;
  });
}

export function hasLearningCurve(sweep) {
  return sweep.jobs.some((j) => j.overrides && FRACTION in j.overrides);
}

/**
 * Curves of cost against `xOf(job)`: one group per combination of the overrides other than `key`
 * (a search: one group of scattered trials), in each group one point per value of `key`.
 * → [{label, points: [{x, train: stats, dev: stats, jobs}]}]
 */
export function curves(sweep, key, xOf) {
  const groups = new Map();
  for (const job of sweep.jobs.filter(finished)) {
    const rest = sweep.search ? {} : Object.fromEntries(Object.entries(job.overrides || {}).filter(([k]) => k !== key));
    const label = JSON.stringify(rest);
    if (!groups.has(label)) groups.set(label, { label: Object.keys(rest).length ? overridesText(rest) : "", rest, byX: new Map() });
    const at = sweep.search ? job.id : JSON.stringify(job.overrides?.[key]);
    const byX = groups.get(label).byX;
    if (!byX.has(at)) byX.set(at, []);
    byX.get(at).push(job);
  }
  return [...groups.values()].map((g) => ({
    label: g.label,
    points: [...g.byX.values()].map((jobs) => ({
      x: stats(jobs.map(xOf))?.mean ?? null,
      train: stats(jobs.map((j) => j.train_loss)),
      dev: stats(jobs.map((j) => j.dev_loss)),
      jobs,
    })).sort((a, b) => a.x - b.x),
  }));
}

/** Chart series from curves: per group a dev series (solid) and a train series (dashed, hollow). */
function series(groups, xName, lines) {
  const out = [];
  groups.forEach((g, k) => {
    const single = groups.length === 1;
    const color = single ? null : PALETTE[k % PALETTE.length];
    const name = (what) => (g.label ? `${what} cost · ${g.label}` : `${what} cost`);
    const points = (what) => g.points.filter((p) => p[what]).map((p) => ({
      x: p.x, y: p[what].mean,
      lo: p[what].n > 1 ? p[what].mean - p[what].std : null,
      hi: p[what].n > 1 ? p[what].mean + p[what].std : null,
      title: `${name(what)}: ${num(p[what].mean)}${p[what].n > 1 ? ` ± ${num(p[what].std)} over ${p[what].n} folds` : ""} at ${xName} = ${num(p.x)}`,
    }));
    out.push({ label: `train${g.label ? ` · ${g.label}` : ""}`, color: color || TRAIN, dash: "7 5", hollow: true, line: lines, points: points("train") });
    out.push({ label: `dev${g.label ? ` · ${g.label}` : ""}`, color: color || DEV, line: lines, points: points("dev") });
  });
  return out;
}

function legendKey(cls, color) {
  const el = h("span", { class: cls, "aria-hidden": "true" });
  el.style.borderColor = color;
  el.style.color = color;
  return el;
}

function legend(groups, lines = true) {
  const [train, dev] = groups.length > 1 ? ["#1f2937", "#1f2937"] : [TRAIN, DEV];
  const items = lines
    ? [h("li", { class: "legend-item" }, legendKey("key-line dashed", train), "train cost (dashed, hollow points)"),
      h("li", { class: "legend-item" }, legendKey("key-line", dev), "dev cost (solid)")]
    : [h("li", { class: "legend-item" }, legendKey("key-dot hollow", train), "train cost"),
      h("li", { class: "legend-item" }, legendKey("key-dot", dev), "dev cost")];
  if (groups.length > 1) {
    groups.forEach((g, k) => {
      const sw = h("span", { class: "swatch", "aria-hidden": "true" });
      sw.style.background = PALETTE[k % PALETTE.length];
      items.push(h("li", { class: "legend-item" }, sw, g.label || "(base)"));
    });
  }
  return h("ul", { class: "legend" }, items);
}

const LEARNING_TEXT =
  "Train and dev cost of each child against the rows it trained on. With few rows the model fits them (low train cost) " +
  "but not rows it has not seen (high dev cost): it over-fits. With more rows dev cost falls and train cost rises toward it; " +
  "the gap left is variance, the level where they meet is bias (a model that under-fits meets high).";

/** The learning-curve card of a sweep, redrawn by `.update(sweep)` only when its numbers change. */
export function learningCurveCard() {
  const figure = h("figure", { class: "chart-figure", id: "learning-curve", "data-points": "0" });
  const caption = h("figcaption", { class: "small muted" });
  const card = h("section", { class: "card", id: "learning-curve-card", "aria-labelledby": "learning-curve-title", hidden: true },
    h("h2", { id: "learning-curve-title" }, "Learning curve"), figure);
  let last = null;
  card.update = (sweep) => {
    card.hidden = !hasLearningCurve(sweep);
    if (card.hidden) return;
    const groups = curves(sweep, FRACTION, (j) => j.train_rows ?? j.overrides[FRACTION]);
    const rows = sweep.jobs.some((j) => j.train_rows != null);
    const xName = rows ? "training rows" : "training fraction";
    const snapshot = JSON.stringify(groups.map((g) => g.points.map((p) => [p.x, p.train, p.dev])));
    if (snapshot === last) return;
    last = snapshot;
    const drawn = series(groups, xName, true);
    fill(caption, LEARNING_TEXT, missing(sweep));
    fill(figure,
      pointChart(drawn, { xLabel: xName, yLabel: `cost (${sweep.base?.loss || "mse"})`, label: `Learning curve: train and dev cost against ${xName}` }),
      legend(groups), caption);
    figure.dataset.points = String(groups.reduce((n, g) => n + g.points.length, 0));
  };
  return card;
}

/** The validation-curve card: dev (and train) cost against a numeric override chosen in a select. */
export function validationCurveCard() {
  const keySelect = h("select", { id: "validation-key" });
  const logX = h("input", { id: "validation-log-x", type: "checkbox" });
  const logY = h("input", { id: "validation-log-y", type: "checkbox" });
  const figure = h("figure", { class: "chart-figure", id: "validation-curve", "data-points": "0" });
  const card = h("section", { class: "card", id: "validation-curve-card", "aria-labelledby": "validation-curve-title", hidden: true },
    h("h2", { id: "validation-curve-title" }, "Validation curve"),
    h("div", { class: "chart-controls" },
      h("label", { for: "validation-key" }, "Override"), keySelect,
      h("label", { class: "check-inline", for: "validation-log-x" }, logX, "Log x"),
      h("label", { class: "check-inline", for: "validation-log-y" }, logY, "Log cost")),
    figure);
  let sweep = null;
  let last = null;
  let keys = [];
  const draw = (force) => {
    const key = keySelect.value;
    const groups = curves(sweep, key, (j) => j.overrides[key]);
    const snapshot = JSON.stringify([key, logX.checked, logY.checked, groups.map((g) => g.points.map((p) => [p.x, p.train, p.dev]))]);
    if (!force && snapshot === last) return;
    last = snapshot;
    const name = key.split(".").pop();
    fill(figure,
      pointChart(series(groups, name, !sweep.search), {
        xLabel: key, yLabel: `cost (${sweep.base?.loss || "mse"})`, xLog: logX.checked, yLog: logY.checked, label: `Validation curve: cost against ${key}`,
      }),
      legend(groups, !sweep.search),
      h("figcaption", { class: "small muted" },
        `Dev cost against ${key}${sweep.search ? ", one point per trial" : ""}: the lowest point is the value to keep. `,
        "Where dev cost is high with train cost low the model over-fits; where both are high it under-fits (or, for a learning rate, fails to train).",
        missing(sweep)));
    figure.dataset.points = String(groups.reduce((n, g) => n + g.points.length, 0));
    figure.dataset.key = key;
  };
  const choose = () => {
    const values = sweep.jobs.map((j) => j.overrides[keySelect.value]).filter((v) => v > 0);
    logX.checked = values.length === sweep.jobs.length && Math.max(...values) / Math.min(...values) >= 10; // a decade or more
    draw(true);
  };
  keySelect.addEventListener("change", choose);
  logX.addEventListener("change", () => draw(true));
  logY.addEventListener("change", () => draw(true));
  card.update = (next) => {
    sweep = next;
    const found = numericKeys(sweep);
    card.hidden = !found.length;
    if (card.hidden) return;
    if (JSON.stringify(found) !== JSON.stringify(keys)) {
      const keep = keySelect.value;
      keys = found;
      fill(keySelect, keys.map((k) => h("option", { value: k }, k)));
      keySelect.value = keys.includes(keep) ? keep : keys[0];
      choose();
    } else {
      draw(false);
    }
  };
  return card;
}

function missing(sweep) {
  const pruned = sweep.jobs.filter((j) => j.outcome === "pruned").length;
  const open = sweep.jobs.filter((j) => !finished(j) && j.outcome !== "pruned").length;
  const parts = [];
  if (pruned) parts.push(`${pruned} pruned`);
  if (open) parts.push(`${open} unfinished or failed`);
  return parts.length ? ` Not drawn: ${parts.join(", ")} (of ${sweep.jobs.length}).` : "";
}
