// Small DOM and formatting helpers shared by the views. No innerHTML anywhere: text stays text.

/** h("a", {href: "#/jobs", class: "x", onclick: fn}, "text", child, [more]) → an element. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  let value;
  for (const [key, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (key === "class") el.className = v;
    else if (key === "value") value = v; // set after the children (a <select> needs its options first)
    else if (key === "dataset") Object.assign(el.dataset, v);
    else if (key.startsWith("on") && typeof v === "function") el.addEventListener(key.slice(2), v);
    else if (typeof v === "boolean") {
      if (key in el) el[key] = v; // checked, disabled, hidden, required…
      else if (v) el.setAttribute(key, "");
    } else if (typeof v === "number" && key in el) el[key] = v;
    else el.setAttribute(key, v === true ? "" : String(v));
  }
  append(el, children);
  if (value !== undefined) el.value = value;
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A number for people: 4 significant digits, exponents for the very small and very large. */
export function num(v, digits = 4) {
  if (v == null || Number.isNaN(v)) return "—";
  if (typeof v !== "number") return String(v);
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(digits - 1).replace(/\.?0+e/, "e");
  return String(Number(v.toPrecision(digits)));
}

/** 0.034 → "3.4 %". */
export function pct(fraction) {
  return fraction == null ? "—" : `${Math.round(fraction * 1000) / 10} %`;
}

const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** An RFC 3339 time in the reader's locale and zone. */
export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : DATE.format(d);
}

/** Seconds → "0.81 s", "2 min 5 s", "1 h 3 min". */
export function duration(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return "—";
  if (seconds < 60) return `${num(seconds, 2)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** "job_f2225b50…" — ids are long; the full one goes in the title attribute. */
export function shortId(id) {
  return id && id.length > 14 ? `${id.slice(0, 12)}…` : id || "—";
}

export const ENDED = new Set(["succeeded", "failed", "cancelled"]);

/** A coloured status label; a failed job also names its error type. */
export function statusBadge(status, error) {
  const text = status === "failed" && error?.type ? `failed · ${error.type.replace("_", " ")}` : status;
  return h("span", { class: `badge status-${status}` }, text);
}

/** A <progress> bar with its percentage as accessible text. */
export function progressBar(fraction, label) {
  const f = Math.max(0, Math.min(1, fraction || 0));
  return h("progress", { max: 1, value: f, "aria-label": label || "progress", title: pct(f) }, pct(f));
}

/** A small colour square for a legend (decorative: the text beside it says what it is). */
export function swatch(color) {
  const el = h("span", { class: "swatch", "aria-hidden": "true" });
  el.style.background = color;
  return el;
}

/** One line for a job's optimizer: "minibatch · lr 0.01 · batch 32". */
export function optimizerSummary(opt) {
  if (!opt) return "—";
  const parts = [opt.type];
  if (opt.lr != null) parts.push(`lr ${typeof opt.lr === "number" ? num(opt.lr) : opt.lr}`);
  if (["minibatch", "momentum", "adam"].includes(opt.type) && opt.batch_size) parts.push(`batch ${opt.batch_size}`);
  if (opt.type === "momentum" && opt.momentum != null) parts.push(`β ${opt.momentum}`);
  return parts.join(" · ");
}

/** One line for a model: "linear (bias)", "mlp 16-16 relu". */
export function modelSummary(model) {
  if (!model) return "—";
  if (model.type === "mlp") return `mlp ${(model.hidden || []).join("-")} ${model.activation || ""}`.trim();
  return model.bias === false ? "linear, no bias" : "linear";
}

/** Exponential smoothing over a series, as the API defines it: C'₀ = C₀, C'ᵢ = β·Cᵢ + (1−β)·C'ᵢ₋₁.
 * A missing value (null: the cost overflowed) stays missing and does not move the average. */
export function smooth(values, beta, out = [], from = 0) {
  let prev = from > 0 ? lastFinite(out, from) : null;
  for (let i = from; i < values.length; i++) {
    const c = values[i];
    if (c == null || !Number.isFinite(c)) {
      out[i] = null;
      continue;
    }
    prev = prev == null ? c : beta * c + (1 - beta) * prev;
    out[i] = prev;
  }
  out.length = values.length;
  return out;
}

function lastFinite(arr, end) {
  for (let i = end - 1; i >= 0; i--) if (arr[i] != null) return arr[i];
  return null;
}

/** A fresh Idempotency-Key for one submission (crypto.randomUUID needs a secure context). */
export function idempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Wait `ms`, or less if `signal` aborts. */
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

/** Call `fn` now and then every `ms` after it finished, until `signal` aborts. */
export async function every(ms, signal, fn) {
  while (!signal.aborted) {
    try {
      if ((await fn()) === false) return;
    } catch (err) {
      if (signal.aborted) return;
      console.warn(err);
    }
    await sleep(ms, signal);
  }
}
