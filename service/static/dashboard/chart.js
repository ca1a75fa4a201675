// Charts on <canvas>: a line chart (linear or log y) and a heat map. Sized by CSS, sharp on
// high-DPI screens, redrawn at most once per animation frame, and cheap with many points (a long
// series is drawn as each pixel column's first/min/max/last value).

import { num } from "./util.js";

const FONT = "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const INK = "#1f2937";
const MUTED = "#4b5563";
const GRID = "#e5e7eb";
const BACKGROUND = "#ffffff";

/** Okabe–Ito colours: distinguishable with every common colour-vision deficiency. */
export const PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#000000", "#999933"];

/** About `count` round tick values (1, 2, 5 × 10ⁿ) covering [lo, hi]. */
export function niceTicks(lo, hi, count) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push(Math.abs(t) < step * 1e-9 ? 0 : Number(t.toPrecision(12)));
  }
  return ticks;
}

/** Ticks for a log axis, in log10 units: the decades, plus 2 and 5 when there are few. */
export function logTicks(lo, hi) {
  const first = Math.floor(lo);
  const last = Math.ceil(hi);
  let ticks = [];
  const stride = Math.max(1, Math.ceil((last - first) / 8));
  for (let e = first; e <= last; e += stride) ticks.push(e);
  if (last - first <= 2) {
    for (let e = first; e <= last; e++) ticks.push(e + Math.log10(2), e + Math.log10(5));
  }
  ticks = ticks.filter((t) => t >= lo - 1e-9 && t <= hi + 1e-9).sort((a, b) => a - b);
  return ticks.length ? ticks : [lo, hi];
}

/** Common plumbing: device-pixel sizing, redraw scheduling, resize tracking. */
class Plot {
  constructor(canvas) {
    this.canvas = canvas;
    this.scheduled = false;
    this.observer = new ResizeObserver(() => this.redraw());
    this.observer.observe(canvas);
  }

  redraw() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      if (this.canvas.isConnected) this.draw();
    });
  }

  destroy() {
    this.observer.disconnect();
  }

  /** A cleared 2-D context in CSS pixels, or null while the canvas has no size. */
  context() {
    const { canvas } = this;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (!width || !height) return null;
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, width, height);
    ctx.font = FONT;
    return { ctx, width, height };
  }
}

function drawAxes(ctx, box, xTicks, yTicks, xPos, yPos, xFmt, yFmt, labels) {
  ctx.save();
  ctx.strokeStyle = GRID;
  ctx.lineWidth = 1;
  ctx.fillStyle = MUTED;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const t of yTicks) {
    const y = Math.round(yPos(t)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(box.left, y);
    ctx.lineTo(box.right, y);
    ctx.stroke();
    ctx.fillText(yFmt(t), box.left - 6, y);
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  const width = ctx.canvas.clientWidth;
  for (const t of xTicks) {
    const x = Math.round(xPos(t)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(x, box.top);
    ctx.lineTo(x, box.bottom);
    ctx.stroke();
    const text = xFmt(t);
    const half = ctx.measureText(text).width / 2;
    ctx.fillText(text, Math.min(x, width - half - 2), box.bottom + 6); // the last label stays inside
  }
  ctx.strokeStyle = "#9ca3af";
  ctx.strokeRect(box.left + 0.5, box.top + 0.5, box.right - box.left, box.bottom - box.top);
  ctx.fillStyle = INK;
  if (labels.x) ctx.fillText(labels.x, (box.left + box.right) / 2, box.bottom + 24);
  if (labels.y) {
    ctx.translate(14, (box.top + box.bottom) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText(labels.y, 0, 0);
  }
  ctx.restore();
}

/**
 * A line chart. series: [{label, x: [...], y: [...], color, width, alpha, dash, dots, hidden}];
 * markers: [{x, y, color, label}] drawn as ringed dots. Options: xLabel, yLabel, log, empty.
 */
export class LineChart extends Plot {
  constructor(canvas, options = {}) {
    super(canvas);
    this.options = { xLabel: "", yLabel: "", log: false, empty: "No points yet", ...options };
    this.series = [];
    this.markers = [];
  }

  update({ series, markers, ...options }) {
    if (series) this.series = series;
    if (markers) this.markers = markers;
    Object.assign(this.options, options);
    this.redraw();
  }

  draw() {
    const surface = this.context();
    if (!surface) return;
    const { ctx, width, height } = surface;
    const { log } = this.options;
    const box = { left: 72, right: width - 16, top: 12, bottom: height - 44 };
    const ok = (y) => y != null && Number.isFinite(y) && (!log || y > 0);
    const ty = (y) => (log ? Math.log10(y) : y);

    let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
    const visible = this.series.filter((s) => !s.hidden);
    for (const s of visible) {
      for (let i = 0; i < s.x.length; i++) {
        if (!ok(s.y[i])) continue;
        const x = s.x[i];
        const y = ty(s.y[i]);
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
    for (const m of this.markers) {
      if (!ok(m.y)) continue;
      x0 = Math.min(x0, m.x);
      x1 = Math.max(x1, m.x);
      y0 = Math.min(y0, ty(m.y));
      y1 = Math.max(y1, ty(m.y));
    }
    if (x0 > x1) {
      drawAxes(ctx, box, [], [], () => 0, () => 0, String, String, { x: this.options.xLabel, y: this.options.yLabel });
      ctx.fillStyle = MUTED;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(this.options.empty, (box.left + box.right) / 2, (box.top + box.bottom) / 2);
      return;
    }
    if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
    if (y0 === y1) {
      const pad = log ? 0.5 : Math.abs(y0) * 0.1 || 1;
      [y0, y1] = [y0 - pad, y1 + pad];
    } else if (!log && y0 > 0 && y0 < 0.25 * y1) {
      y0 = 0; // a loss curve reads best from zero
    }
    const pad = (y1 - y0) * 0.05;
    y0 -= log ? pad : y0 === 0 ? 0 : pad;
    y1 += pad;

    const xPos = (x) => box.left + ((x - x0) / (x1 - x0)) * (box.right - box.left);
    const yPos = (y) => box.bottom - ((y - y0) / (y1 - y0)) * (box.bottom - box.top);
    const xTicks = niceTicks(x0, x1, Math.max(2, Math.floor((box.right - box.left) / 90)));
    const yTicks = log ? logTicks(y0, y1) : niceTicks(y0, y1, Math.max(2, Math.floor((box.bottom - box.top) / 45)));
    const yFmt = log ? (t) => num(10 ** t, 2) : (t) => num(t, 3);
    drawAxes(ctx, box, xTicks, yTicks, xPos, yPos, (t) => num(t, 4), yFmt, {
      x: this.options.xLabel,
      y: this.options.yLabel + (log ? " (log)" : ""),
    });

    ctx.save();
    ctx.beginPath();
    ctx.rect(box.left, box.top, box.right - box.left, box.bottom - box.top);
    ctx.clip();
    for (const s of visible) {
      const px = (i) => xPos(s.x[i]);
      const py = (i) => yPos(ty(s.y[i]));
      ctx.globalAlpha = s.alpha ?? 1;
      ctx.strokeStyle = s.color;
      ctx.fillStyle = s.color;
      ctx.lineWidth = s.width ?? 1.5;
      ctx.lineJoin = "round";
      ctx.setLineDash(s.dash || []);
      if (s.line !== false) strokeSeries(ctx, s, ok, px, py, box.right - box.left);
      if (s.dots) {
        for (let i = 0; i < s.x.length; i++) {
          if (!ok(s.y[i])) continue;
          ctx.beginPath();
          ctx.arc(px(i), py(i), s.dotRadius ?? 2.5, 0, 2 * Math.PI);
          ctx.fill();
        }
      }
    }
    ctx.restore();
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
    for (const m of this.markers) {
      if (!ok(m.y)) continue;
      ringedDot(ctx, xPos(m.x), yPos(ty(m.y)), m.color || INK);
      if (m.label) {
        ctx.fillStyle = INK;
        ctx.textAlign = xPos(m.x) > (box.left + box.right) / 2 ? "right" : "left";
        ctx.textBaseline = "bottom";
        const dx = ctx.textAlign === "right" ? -10 : 10;
        ctx.fillText(m.label, xPos(m.x) + dx, yPos(ty(m.y)) - 6);
      }
    }
  }
}

/** A polyline with gaps at missing values; with more points than pixels, per-column min/max. */
function strokeSeries(ctx, s, ok, px, py, pixels) {
  ctx.beginPath();
  const n = s.x.length;
  if (n <= pixels * 2) {
    let pen = false;
    for (let i = 0; i < n; i++) {
      if (!ok(s.y[i])) {
        pen = false;
        continue;
      }
      if (pen) ctx.lineTo(px(i), py(i));
      else ctx.moveTo(px(i), py(i));
      pen = true;
    }
  } else {
    let column = null;
    let first, lo, hi, last, pen = false;
    const flush = () => {
      if (column == null) return;
      if (pen) ctx.lineTo(column, first);
      else ctx.moveTo(column, first);
      ctx.lineTo(column, lo);
      ctx.lineTo(column, hi);
      ctx.lineTo(column, last);
      pen = true;
      column = null;
    };
    for (let i = 0; i < n; i++) {
      if (!ok(s.y[i])) {
        flush();
        pen = false;
        continue;
      }
      const x = Math.round(px(i));
      const y = py(i);
      if (x !== column) {
        flush();
        column = x;
        first = lo = hi = last = y;
      } else {
        lo = Math.min(lo, y);
        hi = Math.max(hi, y);
        last = y;
      }
    }
    flush();
  }
  ctx.stroke();
}

function ringedDot(ctx, x, y, color) {
  ctx.beginPath();
  ctx.arc(x, y, 6, 0, 2 * Math.PI);
  ctx.fillStyle = "#ffffff";
  ctx.fill();
  ctx.lineWidth = 2;
  ctx.strokeStyle = color;
  ctx.stroke();
  ctx.beginPath();
  ctx.arc(x, y, 2.5, 0, 2 * Math.PI);
  ctx.fillStyle = color;
  ctx.fill();
}

/** Viridis, sampled at nine points: perceptually uniform and readable in grey. */
const VIRIDIS = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];

export function viridis(t) {
  const x = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  return VIRIDIS[i].map((c, k) => Math.round(c + f * (VIRIDIS[i + 1][k] - c)));
}

/** Cell edges for centres `values` (evenly spaced or not). */
function edges(values) {
  if (values.length === 1) return [values[0] - 0.5, values[0] + 0.5];
  const out = [values[0] - (values[1] - values[0]) / 2];
  for (let i = 0; i < values.length - 1; i++) out.push((values[i] + values[i + 1]) / 2);
  const n = values.length;
  out.push(values[n - 1] + (values[n - 1] - values[n - 2]) / 2);
  return out;
}

/**
 * A heat map of z[i][j] over x[i] (across) and y[j] (up), with a colour bar and `best` marked.
 * Options: xLabel, yLabel, zLabel, log (colour by log10 of z), best: {x, y}.
 */
export class Heatmap extends Plot {
  constructor(canvas, options = {}) {
    super(canvas);
    this.options = { xLabel: "", yLabel: "", zLabel: "", log: false, ...options };
    this.data = null;
  }

  update({ x, y, z, ...options }) {
    if (z) this.data = { x, y, z };
    Object.assign(this.options, options);
    this.redraw();
  }

  draw() {
    const surface = this.context();
    if (!surface || !this.data) return;
    const { ctx, width, height } = surface;
    const { x, y, z } = this.data;
    const box = { left: 72, right: width - 92, top: 12, bottom: height - 44 };
    let lo = Infinity;
    let hi = -Infinity;
    let smallest = Infinity;
    for (const row of z) {
      for (const v of row) {
        if (v == null || !Number.isFinite(v)) continue;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
        if (v > 0) smallest = Math.min(smallest, v);
      }
    }
    const log = this.options.log && Number.isFinite(smallest);
    const f = log ? (v) => Math.log10(Math.max(v, smallest)) : (v) => v;
    const [f0, f1] = [f(lo), f(hi)];
    const scale = (v) => (f1 > f0 ? (f(v) - f0) / (f1 - f0) : 0.5);

    // one image pixel per cell, then stretched over the plot box
    const image = document.createElement("canvas");
    image.width = x.length;
    image.height = y.length;
    const ictx = image.getContext("2d");
    const pixels = ictx.createImageData(x.length, y.length);
    for (let i = 0; i < x.length; i++) {
      for (let j = 0; j < y.length; j++) {
        const v = z[i][j];
        const [r, g, b] = v == null || !Number.isFinite(v) ? [255, 255, 255] : viridis(scale(v));
        const k = ((y.length - 1 - j) * x.length + i) * 4;
        pixels.data.set([r, g, b, 255], k);
      }
    }
    ictx.putImageData(pixels, 0, 0);
    const xe = edges(x);
    const ye = edges(y);
    const [x0, x1, y0, y1] = [xe[0], xe[xe.length - 1], ye[0], ye[ye.length - 1]];
    const xPos = (v) => box.left + ((v - x0) / (x1 - x0)) * (box.right - box.left);
    const yPos = (v) => box.bottom - ((v - y0) / (y1 - y0)) * (box.bottom - box.top);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(image, box.left, box.top, box.right - box.left, box.bottom - box.top);
    drawAxes(
      ctx, box,
      niceTicks(x0, x1, Math.max(2, Math.floor((box.right - box.left) / 90))),
      niceTicks(y0, y1, Math.max(2, Math.floor((box.bottom - box.top) / 45))),
      xPos, yPos, (t) => num(t, 4), (t) => num(t, 4),
      { x: this.options.xLabel, y: this.options.yLabel },
    );

    // colour bar
    const bar = { left: box.right + 16, right: box.right + 30, top: box.top, bottom: box.bottom };
    for (let p = bar.top; p < bar.bottom; p++) {
      const [r, g, b] = viridis(1 - (p - bar.top) / (bar.bottom - bar.top));
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      ctx.fillRect(bar.left, p, bar.right - bar.left, 1);
    }
    ctx.strokeStyle = "#9ca3af";
    ctx.strokeRect(bar.left + 0.5, bar.top + 0.5, bar.right - bar.left, bar.bottom - bar.top);
    ctx.fillStyle = MUTED;
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    const barTicks = log ? logTicks(f0, f1) : niceTicks(f0, f1, 5);
    for (const t of barTicks) {
      const p = bar.bottom - (f1 > f0 ? (t - f0) / (f1 - f0) : 0.5) * (bar.bottom - bar.top);
      ctx.fillText(num(log ? 10 ** t : t, 3), bar.right + 4, p);
    }
    if (this.options.zLabel) {
      ctx.textBaseline = "top";
      ctx.fillStyle = INK;
      ctx.fillText(this.options.zLabel + (log ? " (log)" : ""), bar.left - 8, bar.bottom + 24);
    }
    const best = this.options.best;
    if (best) {
      ringedDot(ctx, xPos(best.x), yPos(best.y), "#d00000");
      if (best.label) {
        ctx.font = `bold ${FONT}`;
        ctx.fillStyle = "#ffffff";
        ctx.strokeStyle = "#111827";
        ctx.lineWidth = 3;
        ctx.textAlign = xPos(best.x) > (box.left + box.right) / 2 ? "right" : "left";
        ctx.textBaseline = "bottom";
        const dx = ctx.textAlign === "right" ? -10 : 10;
        ctx.strokeText(best.label, xPos(best.x) + dx, yPos(best.y) - 6);
        ctx.fillText(best.label, xPos(best.x) + dx, yPos(best.y) - 6);
      }
    }
  }
}
