// A small SVG chart for a few points per series: a sweep's learning and validation curves. Each
// point is an element of its own (a circle with a <title> naming its values, data-x/data-y for
// tests and tools), with an optional error bar (mean ± standard deviation over folds). Long
// histories go to chart.js's canvas LineChart instead.

import { logTicks, niceTicks } from "./chart.js";
import { num } from "./util.js";

const NS = "http://www.w3.org/2000/svg";
const WIDTH = 1100;
const HEIGHT = 400;
const BOX = { left: 74, right: WIDTH - 18, top: 14, bottom: HEIGHT - 52 };
const INK = "#1f2937";
const MUTED = "#4b5563";
const GRID = "#e5e7eb";

function el(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v != null) node.setAttribute(k, String(v));
  for (const child of children) if (child != null) node.append(child);
  return node;
}

/** [lo, hi] of the finite values (positive ones on a log axis), padded; null when there is none. */
function extent(values, log) {
  const ok = values.filter((v) => v != null && Number.isFinite(v) && (!log || v > 0)).map((v) => (log ? Math.log10(v) : v));
  if (!ok.length) return null;
  let lo = Math.min(...ok);
  let hi = Math.max(...ok);
  if (lo === hi) {
    const pad = log ? 0.5 : Math.abs(lo) * 0.1 || 1;
    return [lo - pad, hi + pad];
  }
  const pad = (hi - lo) * 0.06;
  return [lo - pad, hi + pad];
}

/**
 * Draw `series` into a new <svg>. series: [{label, color, dash, line (default true), points:
 * [{x, y, lo, hi, title}]}]. Options: xLabel, yLabel, xLog, yLog, label (the chart's accessible
 * name), id. Points whose x or y cannot be drawn (missing, or ≤ 0 on a log axis) are left out.
 */
export function pointChart(series, { xLabel = "", yLabel = "", xLog = false, yLog = false, label = "", id } = {}) {
  const svg = el("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "point-chart", role: "img", "aria-label": label, id });
  const all = series.flatMap((s) => s.points);
  const xs = extent(all.map((p) => p.x), xLog);
  const ys = extent(all.flatMap((p) => [p.y, p.lo, p.hi]), yLog);
  svg.append(el("rect", { x: 0, y: 0, width: WIDTH, height: HEIGHT, fill: "#ffffff" }));
  if (!xs || !ys) {
    svg.append(el("text", { x: WIDTH / 2, y: HEIGHT / 2, "text-anchor": "middle", fill: MUTED, class: "chart-empty" }, "No finished job to draw yet"));
    return svg;
  }
  if (!yLog && ys[0] > 0 && ys[0] < 0.3 * ys[1]) ys[0] = 0; // a cost reads best from zero
  const tx = (v) => (xLog ? Math.log10(v) : v);
  const ty = (v) => (yLog ? Math.log10(v) : v);
  const px = (v) => BOX.left + ((tx(v) - xs[0]) / (xs[1] - xs[0])) * (BOX.right - BOX.left);
  const py = (v) => BOX.bottom - ((ty(v) - ys[0]) / (ys[1] - ys[0])) * (BOX.bottom - BOX.top);
  const drawable = (p) => [p.x, p.y].every((v, k) => v != null && Number.isFinite(v) && (!(k ? yLog : xLog) || v > 0));

  const axes = el("g", { class: "axes", "font-size": 12, fill: MUTED });
  const xTicks = xLog ? logTicks(xs[0], xs[1]) : niceTicks(xs[0], xs[1], 8);
  const yTicks = yLog ? logTicks(ys[0], ys[1]) : niceTicks(ys[0], ys[1], 6);
  for (const t of yTicks) {
    const v = yLog ? 10 ** t : t;
    const y = py(v);
    axes.append(el("line", { x1: BOX.left, x2: BOX.right, y1: y, y2: y, stroke: GRID }),
      el("text", { x: BOX.left - 6, y: y + 4, "text-anchor": "end" }, num(v, 3)));
  }
  for (const t of xTicks) {
    const v = xLog ? 10 ** t : t;
    const x = px(v);
    axes.append(el("line", { x1: x, x2: x, y1: BOX.top, y2: BOX.bottom, stroke: GRID }),
      el("text", { x, y: BOX.bottom + 17, "text-anchor": "middle" }, num(v, 4)));
  }
  axes.append(
    el("rect", { x: BOX.left, y: BOX.top, width: BOX.right - BOX.left, height: BOX.bottom - BOX.top, fill: "none", stroke: "#9ca3af" }),
    el("text", { x: (BOX.left + BOX.right) / 2, y: HEIGHT - 12, "text-anchor": "middle", fill: INK, "font-size": 13 }, xLabel + (xLog ? " (log)" : "")),
    el("text", { x: 0, y: 0, transform: `translate(16 ${(BOX.top + BOX.bottom) / 2}) rotate(-90)`, "text-anchor": "middle", fill: INK, "font-size": 13 },
      yLabel + (yLog ? " (log)" : "")),
  );
  svg.append(axes);

  for (const s of series) {
    const points = s.points.filter(drawable).sort((a, b) => a.x - b.x);
    const g = el("g", { class: "series", "data-series": s.label, stroke: s.color, fill: s.color });
    if (s.line !== false && points.length > 1) {
      const d = points.map((p, i) => `${i ? "L" : "M"}${px(p.x).toFixed(1)} ${py(p.y).toFixed(1)}`).join(" ");
      g.append(el("path", { d, fill: "none", "stroke-width": 2.25, "stroke-dasharray": s.dash || null, "stroke-linejoin": "round" }));
    }
    for (const p of points) {
      const x = px(p.x);
      if (p.lo != null && p.hi != null && p.hi > p.lo && (!yLog || p.lo > 0)) {
        const [y0, y1] = [py(p.lo), py(p.hi)];
        g.append(el("path", { class: "error-bar", d: `M${x - 5} ${y0} H${x + 5} M${x} ${y0} V${y1} M${x - 5} ${y1} H${x + 5}`, fill: "none", "stroke-width": 1.5 }));
      }
      g.append(el("circle", {
        cx: x, cy: py(p.y), r: s.hollow ? 4 : 4.5, "stroke-width": 2, fill: s.hollow ? "#ffffff" : s.color,
        class: "point", "data-x": p.x, "data-y": p.y,
      }, el("title", {}, p.title || `${s.label}: ${num(p.y)} at ${num(p.x)}`)));
    }
    svg.append(g);
  }
  return svg;
}
