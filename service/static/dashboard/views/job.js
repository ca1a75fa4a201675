// #/jobs/{id}: one job, live. The loss curve grows from the SSE stream (raw, smoothed, dev); the
// smoothing slider recomputes the smoothed curve here with the API's formula; exhaustive jobs show
// their cost surface instead.

import { api, followEvents } from "../api.js";
import { LineChart } from "../chart.js";
import { heading, notice, showError } from "../ui.js";
import {
  ENDED, duration, fill, h, modelSummary, num, optimizerSummary, pct, progressBar, shortId, smooth, statusBadge, swatch, when,
} from "../util.js";
import { downloadButton } from "./compare.js";
import { resultView } from "./jobresult.js";
import { SurfaceCard } from "./surface.js";

const RAW = "#56b4e9";
const SMOOTHED = "#0072b2";
const DEV = "#d55e00";

const ERROR_TITLES = {
  diverged: "Training diverged",
  timeout: "Training timed out",
  worker_lost: "The worker was lost",
  invalid_data: "The data cannot be trained on",
  internal: "Internal error",
};

export function jobView(main, { params: [jobId], signal }) {
  const page = new JobPage(main, jobId, signal);
  page.start();
}

class JobPage {
  constructor(main, jobId, signal) {
    this.main = main;
    this.id = jobId;
    this.signal = signal;
    this.job = null;
    this.train = { step: [], epoch: [], loss: [], smoothed: [] };
    this.dev = { step: [], epoch: [], loss: [] };
    this.smoothed = [];
    this.beta = 0.4;
    this.complete = false;
    this.rate = null; // {t, fraction} at the first running progress seen, for the ETA
  }

  async start() {
    this.main.append(heading("Job ", h("span", { class: "mono", title: this.id }, shortId(this.id))), h("p", { class: "muted" }, "Loading…"));
    try {
      this.job = await api.get(`/v1/jobs/${encodeURIComponent(this.id)}`, { signal: this.signal });
    } catch (err) {
      if (this.signal.aborted) return; // another page is on screen now
      fill(this.main, heading("Job not available"), h("p", {}, err.message || "It could not be loaded."), h("p", {}, h("a", { href: "#/jobs" }, "Back to the jobs")));
      showError(err);
      return;
    }
    if (this.signal.aborted) return;
    this.beta = this.job.config.smoothing ?? 0.4;
    this.build();
    this.render();
    try {
      await followEvents(this.id, { after: 0, signal: this.signal, onEvent: (e) => this.onEvent(e) });
    } catch (err) {
      showError(err);
    }
  }

  get exhaustive() {
    return this.job.config.optimizer.type === "exhaustive";
  }

  build() {
    const job = this.job;
    this.statusSlot = h("span", { class: "status-slot", "aria-live": "polite" });
    this.alertSlot = h("div");
    this.cancelButton = h("button", { type: "button", class: "danger", onclick: () => this.cancel() }, "Cancel job");
    this.progressSlot = h("div");
    this.metricsSlot = h("div");
    this.resultSlot = h("div");
    this.resultCard = h("section", { class: "card", "aria-labelledby": "result-title", id: "result" },
      h("h2", { id: "result-title" }, "Result"), this.resultSlot);

    const main = [];
    if (this.exhaustive) {
      this.surface = new SurfaceCard(this.id, this.signal);
      main.push(this.surface.element);
    }
    else main.push(this.buildLossCard());
    main.push(this.configCard());

    fill(this.main,
      h("div", { class: "page-head" },
        heading("Job ", h("span", { class: "mono", title: job.id }, shortId(job.id)), " ", this.statusSlot),
        h("div", { class: "head-actions" },
          this.cancelButton,
          h("a", { class: "button secondary", href: `#/new?from=${encodeURIComponent(job.id)}` }, "Train again with changes"),
          h("a", { class: "button secondary", href: `#/sweeps/new?from=${encodeURIComponent(job.id)}` }, "Sweep around it"))),
      h("p", { class: "muted subtitle" },
        modelSummary(job.config.model), " · ", job.config.loss, " · ", optimizerSummary(job.config.optimizer),
        " · dataset ", h("a", { href: `#/jobs?dataset=${encodeURIComponent(job.dataset_id)}`, class: "mono", title: job.dataset_id }, shortId(job.dataset_id)),
        job.sweep_id ? [" · ", h("a", { href: `#/sweeps/${encodeURIComponent(job.sweep_id)}` }, "part of a sweep")] : null),
      this.alertSlot,
      h("div", { class: "job-layout" },
        h("div", { class: "job-main" }, main),
        h("aside", { class: "job-side", "aria-label": "Status" },
          h("section", { class: "card", "aria-labelledby": "progress-title" }, h("h2", { id: "progress-title" }, "Progress"), this.progressSlot),
          this.resultCard,
          h("section", { class: "card", "aria-labelledby": "metrics-title" }, h("h2", { id: "metrics-title" }, "Metrics"), this.metricsSlot))),
    );
  }

  buildLossCard() {
    const canvas = h("canvas", { class: "chart", role: "img", "aria-label": "Loss curve: no points yet" });
    this.chart = new LineChart(canvas, { xLabel: "step", yLabel: "loss", empty: "Waiting for the first points…" });
    this.signal.addEventListener("abort", () => this.chart.destroy());
    this.figure = h("figure", { class: "chart-figure", id: "loss-figure", "data-points": "0", "data-dev-points": "0", "data-complete": "false" }, canvas);
    this.caption = h("figcaption", { class: "small muted" });
    this.figure.append(this.caption);

    const betaOut = h("output", { id: "beta-out", for: "smoothing" }, this.beta.toFixed(2));
    const slider = h("input", {
      id: "smoothing", type: "range", min: "0.01", max: "1", step: "0.01", value: String(this.beta),
      "aria-describedby": "smoothing-hint",
      oninput: (e) => {
        this.beta = Number(e.target.value);
        betaOut.textContent = this.beta.toFixed(2);
        smooth(this.train.loss, this.beta, this.smoothed);
        this.drawLoss();
      },
    });
    this.logBox = h("input", { id: "log-scale", type: "checkbox", onchange: () => this.drawLoss() });
    this.show = {
      raw: h("input", { id: "show-raw", type: "checkbox", checked: true, onchange: () => this.drawLoss() }),
      smoothed: h("input", { id: "show-smoothed", type: "checkbox", checked: true, onchange: () => this.drawLoss() }),
      dev: h("input", { id: "show-dev", type: "checkbox", checked: true, onchange: () => this.drawLoss() }),
    };
    const toggle = (input, color, text) =>
      h("label", { class: "legend-item", for: input.id }, input, swatch(color), text);
    this.devToggle = toggle(this.show.dev, DEV, "dev loss");
    return h("section", { class: "card", "aria-labelledby": "loss-title" },
      h("div", { class: "card-head" }, h("h2", { id: "loss-title" }, "Loss"),
        downloadButton(this.id, this.signal, "Download history (CSV)")),
      h("div", { class: "chart-controls" },
        h("div", { class: "slider" },
          h("label", { for: "smoothing" }, "Smoothing β"), slider, betaOut,
          h("span", { class: "hint", id: "smoothing-hint" }, "C′ᵢ = β·Cᵢ + (1−β)·C′ᵢ₋₁; β = 1: none")),
        h("label", { class: "check-inline", for: "log-scale" }, this.logBox, "Log scale")),
      h("div", { class: "legend", role: "group", "aria-label": "Curves" },
        toggle(this.show.raw, RAW, "train loss (raw)"),
        toggle(this.show.smoothed, SMOOTHED, "train loss (smoothed)"),
        this.devToggle),
      this.figure);
  }

  drawLoss() {
    if (!this.chart) return;
    const log = this.logBox.checked;
    const devDots = this.dev.step.length <= 60;
    this.chart.update({
      log,
      series: [
        { label: "raw", x: this.train.step, y: this.train.loss, color: RAW, width: 1, alpha: 0.4, hidden: !this.show.raw.checked },
        { label: "smoothed", x: this.train.step, y: this.smoothed, color: SMOOTHED, width: 2.25, hidden: !this.show.smoothed.checked },
        { label: "dev", x: this.dev.step, y: this.dev.loss, color: DEV, width: 2, dash: [6, 4], dots: devDots, hidden: !this.show.dev.checked },
      ],
    });
    const n = this.train.step.length;
    const d = this.dev.step.length;
    this.figure.dataset.points = String(n);
    this.figure.dataset.devPoints = String(d);
    this.devToggle.hidden = d === 0 && !(this.job.config.split?.dev > 0);
    const last = n ? this.smoothed[n - 1] : null;
    const text = n
      ? `${n} training point${n === 1 ? "" : "s"} up to step ${num(this.train.step[n - 1])}, smoothed loss ${num(last)}` +
        (d ? `; ${d} dev point${d === 1 ? "" : "s"}, last ${num(this.dev.loss[d - 1])}` : "") +
        (this.complete ? " — complete." : this.job && !ENDED.has(this.job.status) ? " — live." : ".")
      : this.complete ? "This job recorded no loss history." : "No points yet.";
    this.caption.textContent = text;
    this.chart.canvas.setAttribute("aria-label", `Loss curve: ${text}`);
  }

  onEvent({ event, data }) {
    if (event === "progress") {
      Object.assign(this.job, data);
      this.render();
    } else if (event === "point") {
      const from = this.train.loss.length;
      for (const key of ["step", "epoch", "loss", "smoothed"]) append(this.train[key], data.train[key]);
      for (const key of ["step", "epoch", "loss"]) append(this.dev[key], data.dev[key]);
      smooth(this.train.loss, this.beta, this.smoothed, from);
      this.drawLoss();
    } else if (event === "end") {
      this.finish().catch(showError);
    }
  }

  /** The stream has ended: read the finished job, make sure every dev point is there, render. */
  async finish() {
    this.job = await api.get(`/v1/jobs/${encodeURIComponent(this.id)}`, { signal: this.signal });
    await this.repairDev();
    this.complete = true;
    if (this.figure) this.figure.dataset.complete = "true";
    this.render();
  }

  /** A job has one dev point per completed epoch. The stream can miss one: the worker may write an
   * epoch's last train point just before that epoch's dev point, and a read in between moves past
   * it. If any is missing at the end, read the dev series again from the history. */
  async repairDev() {
    const epochs = this.job.progress?.epoch ?? 0;
    if (!(this.job.config.split?.dev > 0) || this.dev.step.length >= epochs) return;
    const dev = { step: [], epoch: [], loss: [] };
    let after = 0;
    for (let pages = 0; pages < 1000; pages++) {
      const page = await api.get(`/v1/jobs/${encodeURIComponent(this.id)}/history?after=${after}`, { signal: this.signal });
      for (const key of ["step", "epoch", "loss"]) append(dev[key], page.dev[key]);
      if (page.complete || page.next === after) break;
      after = page.next;
    }
    if (dev.step.length > this.dev.step.length) this.dev = dev;
  }

  async cancel() {
    this.cancelButton.disabled = true;
    try {
      const job = await api.post(`/v1/jobs/${encodeURIComponent(this.id)}/cancel`, undefined, { signal: this.signal });
      Object.assign(this.job, job);
      notice("Cancel requested: a running job stops within a second and keeps its history.", "info");
      this.render();
    } catch (err) {
      showError(err);
    } finally {
      this.cancelButton.disabled = false;
    }
  }

  render() {
    const job = this.job;
    fill(this.statusSlot, statusBadge(job.status, job.error));
    this.cancelButton.hidden = ENDED.has(job.status);
    this.renderAlert();
    this.renderProgress();
    this.renderMetrics();
    this.renderResult();
    if (this.exhaustive && job.status === "succeeded") this.surface.load();
    this.drawLoss();
  }

  renderAlert() {
    const { status, error } = this.job;
    if (status === "failed") {
      fill(this.alertSlot, h("div", { class: "alert alert-danger", role: "alert", id: "job-error", "data-error-type": error?.type || "" },
        h("h2", {}, ERROR_TITLES[error?.type] || "The job failed"),
        h("p", { class: "alert-message" }, error?.message || "No message."),
        error?.type === "diverged" ? h("p", { class: "small" }, "The curve below shows the loss up to the divergence; a log scale helps to read it.") : null));
      if (error?.type === "diverged" && this.logBox && !this.logBoxTouched) {
        this.logBoxTouched = true;
        this.logBox.checked = true;
      }
    } else if (status === "cancelled") {
      fill(this.alertSlot, h("div", { class: "alert alert-info", role: "status" }, h("p", {}, "This job was cancelled; its history up to then is kept.")));
    } else {
      this.alertSlot.replaceChildren();
    }
  }

  renderProgress() {
    const { progress = {}, status, attempt } = this.job;
    const f = progress.fraction ?? (status === "succeeded" ? 1 : 0);
    let eta = null;
    if (status === "running" && f > 0) {
      const now = performance.now();
      if (!this.rate || f < this.rate.fraction) this.rate = { t: now, fraction: f };
      else if (f > this.rate.fraction && now - this.rate.t > 1000) {
        eta = ((now - this.rate.t) / 1000) * ((1 - f) / (f - this.rate.fraction));
      }
    }
    const seconds = this.job.result?.seconds;
    fill(this.progressSlot,
      h("div", { class: "big-progress" }, progressBar(f, "job progress"), h("span", { class: "pct" }, pct(f))),
      h("dl", { class: "facts" },
        progress.epochs ? [h("dt", {}, "Epoch"), h("dd", {}, `${progress.epoch} / ${progress.epochs}`)] : null,
        h("dt", {}, this.exhaustive ? "Grid points" : "Step"), h("dd", {}, num(progress.step)),
        eta != null ? [h("dt", {}, "Time left"), h("dd", {}, `about ${duration(eta)}`)] : null,
        seconds != null ? [h("dt", {}, "Training time"), h("dd", {}, duration(seconds))] : null,
        h("dt", {}, "Created"), h("dd", {}, when(this.job.created_at)),
        this.job.finished_at ? [h("dt", {}, "Finished"), h("dd", {}, when(this.job.finished_at))] : null,
        attempt > 1 ? [h("dt", {}, "Attempt"), h("dd", {}, `${attempt} (resumed on another worker)`)] : null));
  }

  renderMetrics() {
    const m = this.job.metrics || {};
    const rows = [
      ["train loss", m.train_loss], ["train loss (smoothed)", m.train_loss_smoothed], ["dev loss", m.dev_loss],
      ["best dev loss", m.best_dev_loss], ["best epoch", m.best_epoch],
    ].filter(([, v]) => v != null);
    fill(this.metricsSlot, rows.length
      ? h("dl", { class: "facts" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", { class: "num" }, num(v))]))
      : h("p", { class: "muted small" }, "None yet."));
  }

  renderResult() {
    const r = this.job.result;
    this.resultCard.hidden = !r;
    if (r) fill(this.resultSlot, resultView(r));
  }

  configCard() {
    const c = this.job.config;
    const opt = c.optimizer;
    const rows = [
      ["Model", modelSummary(c.model)],
      ["Loss", c.loss],
      ["Optimizer", optimizerSummary(opt)],
      opt.betas ? ["Adam betas", opt.betas.join(", ")] : null,
      opt.type !== "exhaustive" ? ["Epochs", c.epochs] : null,
      opt.type !== "exhaustive" ? ["Tolerance", num(c.tolerance)] : null,
      ["Split", `dev ${c.split?.dev ?? 0}, test ${c.split?.test ?? 0}`],
      ["Early stopping", c.early_stopping ? `patience ${c.early_stopping.patience}, min Δ ${c.early_stopping.min_delta}` : "off"],
      ["Standardize", c.standardize ? "yes" : "no"],
      ["Seed", c.seed],
      ["Smoothing β", c.smoothing],
    ].filter(Boolean);
    return h("section", { class: "card", "aria-labelledby": "config-title" },
      h("h2", { id: "config-title" }, "Configuration"),
      h("dl", { class: "facts two-col" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))])),
      h("details", {}, h("summary", {}, "The full config (JSON)"), h("pre", { class: "json" }, JSON.stringify(c, null, 2))));
  }
}

function append(target, values) {
  for (const v of values) target.push(v);
}
