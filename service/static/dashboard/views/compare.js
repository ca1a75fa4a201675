// #/compare?jobs=ID,ID,…: any jobs' loss curves on one chart (picked in the jobs list, or a sweep's
// children), against epochs (comparable across optimizers: an sgd step is one sample, a gd step a
// whole epoch) or steps; each job's history can be downloaded as CSV.

import { api } from "../api.js";
import { LineChart, PALETTE } from "../chart.js";
import { heading, showError } from "../ui.js";
import { ENDED, every, fill, h, modelSummary, num, optimizerSummary, shortId, statusBadge, swatch } from "../util.js";
import { downloadHistory, emptyHistory, readMore } from "./history.js";

export const COMPARE_MAX = 16;
const CURVES = [["smoothed", "train loss (smoothed)"], ["loss", "train loss (raw)"], ["dev", "dev loss"]];

/** The hash of the comparison of `ids`. */
export function compareHref(ids) {
  return `#/compare?jobs=${ids.map(encodeURIComponent).join(",")}`;
}

export function compareView(main, { query, signal }) {
  const ids = [...new Set((query.get("jobs") || "").split(",").map((s) => s.trim()).filter(Boolean))].slice(0, COMPARE_MAX);
  main.append(heading("Compare jobs"));
  if (!ids.length) {
    main.append(h("p", {}, "No job picked. Tick the jobs to compare in ", h("a", { href: "#/jobs" }, "the jobs list"), ", or open a sweep."));
    return;
  }
  const entries = ids.map((id, k) => ({
    id, job: null, hist: emptyHistory(), color: PALETTE[k % PALETTE.length], dash: k >= PALETTE.length ? [6, 3] : [],
  }));
  const canvas = h("canvas", { class: "chart", role: "img", "aria-label": "Loss curves of the compared jobs" });
  const chart = new LineChart(canvas, { xLabel: "epoch", yLabel: "loss", log: true, empty: "Waiting for the first points…" });
  signal.addEventListener("abort", () => chart.destroy());
  let touched = false; // the reader chose a curve: keep it
  const curve = h("select", { id: "compare-curve", onchange: () => { touched = true; draw(); } }, CURVES.map(([v, l]) => h("option", { value: v }, l)));
  const xAxis = h("select", { id: "compare-x", onchange: () => draw() }, h("option", { value: "epoch" }, "epochs"), h("option", { value: "step" }, "steps"));
  const log = h("input", { id: "compare-log", type: "checkbox", checked: true, onchange: () => draw() });
  const figure = h("figure", { class: "chart-figure", id: "compare-figure", "data-curves": "0", "data-complete": "false" }, canvas);
  const tableBox = h("div", { class: "table-box" }, h("p", { class: "muted" }, "Loading…"));
  main.append(
    h("p", { class: "lede" }, `${ids.length} job${ids.length === 1 ? "" : "s"} · `, h("a", { href: "#/jobs" }, "pick others")),
    h("section", { class: "card", "aria-labelledby": "compare-curves-title" },
      h("h2", { id: "compare-curves-title" }, "Loss curves"),
      h("div", { class: "chart-controls" },
        h("label", { for: "compare-curve" }, "Curve"), curve,
        h("label", { for: "compare-x" }, "Against"), xAxis,
        h("label", { class: "check-inline", for: "compare-log" }, log, "Log scale")),
      figure),
    h("section", { class: "card", "aria-labelledby": "compare-jobs-title" }, h("h2", { id: "compare-jobs-title" }, "Jobs"), tableBox),
  );

  function draw() {
    const which = curve.value;
    const byEpoch = xAxis.value === "epoch";
    const series = entries.filter((e) => e.job).map((e) => {
      const { train, dev } = e.hist;
      const spe = stepsPerEpoch(e.job);
      const toX = (steps) => (byEpoch && spe ? steps.map((s) => s / spe) : steps);
      return which === "dev"
        ? { label: e.id, x: byEpoch ? dev.epoch : dev.step, y: dev.loss, color: e.color, dash: e.dash, width: 2, dots: dev.step.length <= 40 }
        : { label: e.id, x: toX(train.step), y: train[which], color: e.color, dash: e.dash, width: which === "loss" ? 1 : 2 };
    });
    chart.update({ series, log: log.checked, xLabel: byEpoch ? "epoch" : "step", yLabel: which === "dev" ? "dev loss" : "train loss" });
    figure.dataset.curves = String(series.filter((s) => s.x.length).length);
    figure.dataset.points = entries.map((e) => `${e.hist.train.step.length}/${e.hist.dev.step.length}`).join(",");
  }

  every(2000, signal, async () => {
    const open = entries.filter((e) => !(e.job && ENDED.has(e.job.status) && e.hist.complete));
    await Promise.all(open.map(async (e) => {
      try {
        e.job = await api.get(`/v1/jobs/${encodeURIComponent(e.id)}`, { signal });
        if (e.job.config.optimizer.type !== "exhaustive" && e.job.status !== "queued") await readMore(e.id, e.hist, signal);
        if (e.job.config.optimizer.type === "exhaustive") e.hist.complete = true;
      } catch (err) {
        e.error = err.message;
        e.hist.complete = true;
        e.job = e.job || null;
        if (err.status !== 404) showError(err);
      }
    }));
    fill(tableBox, jobsTable(entries, ids, signal));
    // jobs of different optimizers compare best by their dev loss per epoch, when they all have one
    if (!touched && entries.every((e) => e.hist.dev.step.length)) curve.value = "dev";
    draw();
    const done = entries.every((e) => e.hist.complete && (!e.job || ENDED.has(e.job.status)));
    figure.dataset.complete = String(done);
    return done ? false : undefined;
  });
}

/** Updates per epoch: from the result once it ended, else from the progress so far. */
function stepsPerEpoch(job) {
  const r = job.result;
  if (r?.epochs_run > 0 && r.steps > 0) return r.steps / r.epochs_run;
  const p = job.progress;
  return p?.epoch > 0 && p.step > 0 ? p.step / p.epoch : null;
}

function jobsTable(entries, ids, signal) {
  return h("table", { class: "data", id: "compare-table" },
    h("thead", {}, h("tr", {}, ["", "Job", "Model", "Optimizer", "Status", "Train loss", "Dev loss", "History", ""].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, entries.map((e) => {
      const job = e.job;
      const others = ids.filter((id) => id !== e.id);
      const remove = h("a", { class: "small", href: others.length ? compareHref(others) : "#/jobs", "aria-label": `Remove ${e.id} from the comparison` }, "remove");
      if (!job) {
        return h("tr", { "data-job": e.id }, h("td", {}, swatch(e.color)), h("td", { class: "mono small" }, e.id),
          h("td", { colspan: 6, class: "muted" }, e.error || "Loading…"), h("td", {}, remove));
      }
      const m = job.result ?? job.metrics ?? {};
      return h("tr", { "data-job": e.id },
        h("td", {}, swatch(e.color)),
        h("td", {}, h("a", { class: "mono", href: `#/jobs/${encodeURIComponent(e.id)}`, title: e.id }, shortId(e.id))),
        h("td", {}, `${modelSummary(job.config.model)} · ${job.config.loss}`),
        h("td", {}, optimizerSummary(job.config.optimizer)),
        h("td", {}, statusBadge(job.status, job.error)),
        h("td", { class: "num" }, num(m.train_loss)),
        h("td", { class: "num" }, num(m.dev_loss)),
        h("td", {}, job.config.optimizer.type === "exhaustive" ? "—" : downloadButton(e.id, signal)),
        h("td", {}, remove));
    })));
}

/** A button that downloads a job's whole history as `{job}-history.csv`. */
export function downloadButton(jobId, signal, text = "CSV") {
  const button = h("button", {
    type: "button", class: "small secondary download-history", "aria-label": `Download the history of ${jobId} as CSV`,
    onclick: async () => {
      button.disabled = true;
      try {
        await downloadHistory(jobId, signal);
      } catch (err) {
        showError(err);
      } finally {
        button.disabled = false;
      }
    },
  }, text);
  return button;
}
