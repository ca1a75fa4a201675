// An exhaustive search's cost surface on the job page: a curve over w, or a heat map over (w, b)
// (a slice through the minimum for more axes), the minimum marked.

import { api } from "../api.js";
import { Heatmap, LineChart } from "../chart.js";
import { h, num } from "../util.js";

const SMOOTHED = "#0072b2";

export class SurfaceCard {
  constructor(jobId, signal) {
    this.id = jobId;
    this.signal = signal;
    this.loaded = false;
    const canvas = h("canvas", { class: "chart", role: "img", "aria-label": "Cost surface: not loaded yet" });
    this.surfaceCanvas = canvas;
    this.surfaceCaption = h("figcaption", { class: "small muted" }, "The cost surface appears once the search has finished.");
    this.surfaceLog = h("input", { id: "surface-log", type: "checkbox", checked: true, onchange: () => this.surfacePlot?.update({ log: this.surfaceLog.checked }) });
    this.surfaceFigure = h("figure", { class: "chart-figure", id: "surface-figure", "data-loaded": "false" }, canvas, this.surfaceCaption);
    this.element = h("section", { class: "card", "aria-labelledby": "surface-title" },
      h("h2", { id: "surface-title" }, "Cost surface"),
      h("div", { class: "chart-controls" }, h("label", { class: "check-inline", for: "surface-log" }, this.surfaceLog, "Log scale")),
      this.surfaceFigure);
  }

  async load() {
    if (this.loaded) return;
    this.loaded = true;
    let surface;
    try {
      surface = await api.get(`/v1/jobs/${encodeURIComponent(this.id)}/surface`, { signal: this.signal });
    } catch (err) {
      this.surfaceCaption.textContent = err.message;
      return;
    }
    const names = Object.keys(surface.axes);
    const best = argmin(surface.cost);
    // a curve reads best on a linear scale (its minimum is often exactly 0); a heat map's colours
    // on a log one (the valley would otherwise be one flat colour)
    this.surfaceLog.checked = names.length > 1;
    const at = (k) => surface.axes[names[k]][best.index[k]];
    const where = names.map((name, k) => `${name} = ${num(at(k))}`).join(", ");
    const text = `Minimum cost ${num(best.value)} at ${where}.`;
    if (names.length === 1) {
      const plot = new LineChart(this.surfaceCanvas, { xLabel: names[0], yLabel: "cost", log: this.surfaceLog.checked });
      plot.update({
        series: [{ label: "cost", x: surface.axes[names[0]], y: surface.cost, color: SMOOTHED, width: 2 }],
        markers: [{ x: at(0), y: best.value, color: "#d00000", label: `min at ${names[0]} = ${num(at(0))}` }],
      });
      this.surfacePlot = plot;
    } else {
      // two axes: the whole matrix; more: the slice through the minimum along the first two
      const z = surface.axes[names[0]].map((_, i) =>
        surface.axes[names[1]].map((_, j) => valueAt(surface.cost, [i, j, ...best.index.slice(2)])));
      const plot = new Heatmap(this.surfaceCanvas, {
        xLabel: names[0], yLabel: names[1], zLabel: "cost", log: this.surfaceLog.checked,
        best: { x: at(0), y: at(1), label: "min" },
      });
      plot.update({ x: surface.axes[names[0]], y: surface.axes[names[1]], z });
      this.surfacePlot = plot;
    }
    this.signal.addEventListener("abort", () => this.surfacePlot.destroy());
    const slice = names.length > 2 ? ` Shown: ${names[0]} × ${names[1]} through the minimum (${names.slice(2).map((n, k) => `${n} = ${num(at(k + 2))}`).join(", ")}).` : "";
    this.surfaceCaption.textContent = text + slice;
    this.surfaceCanvas.setAttribute("aria-label", `Cost surface over ${names.join(", ")}. ${text}`);
    this.surfaceFigure.dataset.loaded = "true";
  }
}

/** The smallest finite value of a nested array and its index path. */
function argmin(cost) {
  let best = { value: Infinity, index: [] };
  const path = [];
  const walk = (node, depth) => {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        path[depth] = i;
        walk(node[i], depth + 1);
      }
    } else if (node != null && Number.isFinite(node) && node < best.value) {
      best = { value: node, index: path.slice(0, depth) };
    }
  };
  walk(cost, 0);
  return best;
}

function valueAt(cost, index) {
  return index.reduce((node, i) => node?.[i], cost);
}
