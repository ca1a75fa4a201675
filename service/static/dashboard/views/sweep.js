// #/sweeps/{id}: a sweep's children ranked by its metric and their loss curves overlaid; a search's
// trials, cross-validation's candidates (sweepsummary.js); the learning and validation curves
// (curves.js).

import { api } from "../api.js";
import { LineChart, PALETTE } from "../chart.js";
import { heading, showError } from "../ui.js";
import { duration, ENDED, every, fill, h, num, shortId, statusBadge, swatch } from "../util.js";
import { hasLearningCurve, learningCurveCard, validationCurveCard } from "./curves.js";
import { overridesText } from "./sweeps.js";
import { candidatesCard, childTag, renderHead } from "./sweepsummary.js";

const CURVES = [
  ["smoothed", "train loss (smoothed)"],
  ["loss", "train loss (raw)"],
  ["dev", "dev loss"],
];

export function sweepView(main, { params: [sweepId], signal }) {
  const histories = new Map(); // job id → {next, complete, step, loss, smoothed, devStep, devLoss, color, dash}
  const headSlot = h("div");
  const tableSlot = h("div", { class: "table-box" }, h("p", { class: "muted" }, "Loading…"));
  const canvas = h("canvas", { class: "chart", role: "img", "aria-label": "Loss curves of the sweep's jobs" });
  const chart = new LineChart(canvas, { xLabel: "step", yLabel: "loss", log: true, empty: "Waiting for the first points…" });
  signal.addEventListener("abort", () => chart.destroy());
  const curve = h("select", { id: "sweep-curve", onchange: () => draw() }, CURVES.map(([v, label]) => h("option", { value: v }, label)));
  const log = h("input", { id: "sweep-log", type: "checkbox", checked: true, onchange: () => draw() });
  const legend = h("ul", { class: "legend sweep-legend", "aria-label": "Jobs in the chart" });
  const figure = h("figure", { class: "chart-figure", id: "sweep-figure", "data-curves": "0" }, canvas, legend);
  let sweep = null;
  const candidates = candidatesCard();
  const learning = learningCurveCard();
  const validation = validationCurveCard();

  main.append(
    heading("Sweep ", h("span", { class: "mono", title: sweepId }, shortId(sweepId))),
    headSlot,
    candidates,
    learning,
    validation,
    h("section", { class: "card", "aria-labelledby": "sweep-curves-title" },
      h("h2", { id: "sweep-curves-title" }, "Loss curves"),
      h("div", { class: "chart-controls" },
        h("label", { for: "sweep-curve" }, "Curve"), curve,
        h("label", { class: "check-inline", for: "sweep-log" }, log, "Log scale")),
      figure),
    h("section", { class: "card", "aria-labelledby": "sweep-rank-title" },
      h("h2", { id: "sweep-rank-title" }, "Ranking"), tableSlot),
  );

  function draw() {
    const which = curve.value;
    const series = [];
    for (const [id, hist] of histories) {
      series.push({
        label: id,
        x: which === "dev" ? hist.devStep : hist.step,
        y: which === "dev" ? hist.devLoss : hist[which],
        color: hist.color,
        dash: hist.dash,
        width: id === sweep?.best_job_id ? 3 : 1.75,
        dots: which === "dev" && hist.devStep.length <= 40,
      });
    }
    chart.update({ series, log: log.checked });
    figure.dataset.curves = String(series.filter((s) => s.x.length).length);
  }

  async function refreshHistories() {
    const open = [...histories.entries()].filter(([, hist]) => !hist.complete);
    for (let i = 0; i < open.length; i += 4) {
      await Promise.all(open.slice(i, i + 4).map(async ([id, hist]) => {
        const job = sweep.jobs.find((j) => j.id === id);
        if (!job || job.status === "queued") return;
        for (let pages = 0; pages < 5 && !hist.complete; pages++) {
          const page = await api.get(`/v1/jobs/${encodeURIComponent(id)}/history?after=${hist.next}`, { signal });
          for (const v of page.train.step) hist.step.push(v);
          for (const v of page.train.loss) hist.loss.push(v);
          for (const v of page.train.smoothed) hist.smoothed.push(v);
          for (const v of page.dev.step) hist.devStep.push(v);
          for (const v of page.dev.loss) hist.devLoss.push(v);
          const moved = page.next !== hist.next;
          hist.next = page.next;
          hist.complete = page.complete;
          if (!moved) break;
        }
      }));
    }
  }

  every(2000, signal, async () => {
    try {
      sweep = await api.get(`/v1/sweeps/${encodeURIComponent(sweepId)}`, { signal });
    } catch (err) {
      showError(err);
      if (sweep == null) fill(tableSlot, h("p", {}, err.message || "The sweep could not be loaded."));
      return err.status === 401 || err.status === 404 ? false : undefined;
    }
    for (const job of sweep.jobs) {
      if (!histories.has(job.id)) {
        const n = histories.size;
        histories.set(job.id, {
          next: 0, complete: false, step: [], loss: [], smoothed: [], devStep: [], devLoss: [],
          color: PALETTE[n % PALETTE.length], dash: n >= PALETTE.length ? [6, 3] : [],
        });
      }
    }
    renderHead(headSlot, sweep);
    candidates.update(sweep);
    learning.update(sweep);
    validation.update(sweep);
    fill(tableSlot, rankTable(sweep, histories));
    fill(legend, sweep.jobs.map((job) => h("li", { class: "legend-item" }, swatch(histories.get(job.id).color),
      overridesText(job.overrides), childTag(job) ? ` · ${childTag(job)}` : "")));
    try {
      await refreshHistories();
    } catch (err) {
      showError(err);
    }
    draw();
    const done = sweep.status === "done" && [...histories.values()].every((hist) => hist.complete);
    return done ? false : undefined;
  });
}

function rankTable(sweep, histories) {
  let rank = 0;
  const rows = hasLearningCurve(sweep); // else every child trains on the same rows
  const tags = sweep.jobs.some((j) => childTag(j));
  const head = ["#", "", "Job", tags ? "Fold / trial" : null, "Overrides", "Status", rows ? "Train rows" : null, "Train loss", "Dev loss", "Time"];
  return h("table", { class: "data", id: "sweep-table" },
    h("thead", {}, h("tr", {}, head.filter(Boolean).map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, sweep.jobs.map((job) => {
      const pruned = job.outcome === "pruned";
      const ranked = job.status === "succeeded" && !pruned && job[sweep.ranked_by] != null;
      const best = job.id === sweep.best_job_id;
      return h("tr", { class: best ? "best" : null, "data-job": job.id },
        h("td", { class: "num" }, ranked ? String(++rank) : "—"),
        h("td", {}, swatch(histories.get(job.id)?.color || "#999")),
        h("td", {}, h("a", { class: "mono", href: `#/jobs/${encodeURIComponent(job.id)}`, title: job.id }, shortId(job.id)),
          best ? [" ", h("span", { class: "badge best-badge" }, "best")] : null),
        tags ? h("td", { class: "small" }, childTag(job)) : null,
        h("td", {}, overridesText(job.overrides)),
        h("td", {}, statusBadge(job.status, job.error),
          pruned ? [" ", h("span", { class: "badge outcome" }, "pruned")] : null,
          job.error && ENDED.has(job.status) ? h("div", { class: "small muted" }, job.error.message) : null),
        rows ? h("td", { class: "num" }, job.train_rows ?? "—") : null,
        h("td", { class: "num" }, num(job.train_loss)),
        h("td", { class: "num" }, num(job.dev_loss)),
        h("td", { class: "num" }, duration(job.seconds)));
    })));
}
