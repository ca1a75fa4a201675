// #/jobs[?status=…&dataset=…&sweep=…]: the jobs, newest first, polled every 1.5 s. Ticked jobs are
// compared on one chart (#/compare).

import { api } from "../api.js";
import { heading, showError } from "../ui.js";
import { every, fill, h, modelSummary, num, optimizerSummary, progressBar, shortId, statusBadge, when } from "../util.js";
import { COMPARE_MAX, compareHref } from "./compare.js";

const STATUSES = ["", "queued", "running", "succeeded", "failed", "cancelled"];

export function jobsView(main, { query, signal }) {
  const status = query.get("status") || "";
  const dataset = query.get("dataset") || "";
  const sweep = query.get("sweep") || "";
  const filter = h("select", {
    id: "jobs-status",
    value: status,
    onchange: (e) => {
      const q = new URLSearchParams(query);
      if (e.target.value) q.set("status", e.target.value);
      else q.delete("status");
      location.hash = `#/jobs${q.toString() ? `?${q}` : ""}`;
    },
  }, STATUSES.map((s) => h("option", { value: s }, s || "all")));
  const box = h("div", { class: "table-box" }, h("p", { class: "muted" }, "Loading…"));
  const names = new Map();
  const picked = []; // job ids ticked for the comparison, in the order they were ticked
  const compare = h("button", {
    type: "button", id: "compare-button", class: "secondary", disabled: true,
    onclick: () => { location.hash = compareHref(picked); },
  }, "Compare ticked jobs");
  const pick = (id, on) => {
    const at = picked.indexOf(id);
    if (on && at < 0) picked.push(id);
    if (!on && at >= 0) picked.splice(at, 1);
    compare.disabled = picked.length === 0;
    compare.textContent = picked.length ? `Compare ${picked.length} job${picked.length === 1 ? "" : "s"}` : "Compare ticked jobs";
    for (const input of box.querySelectorAll("input.pick")) input.disabled = !input.checked && picked.length >= COMPARE_MAX;
  };
  main.append(
    heading("Jobs"),
    h("div", { class: "toolbar" },
      h("label", { for: "jobs-status" }, "Status"), filter,
      dataset ? h("span", { class: "chip" }, `dataset ${shortId(dataset)}`, " ", h("a", { href: "#/jobs", "aria-label": "Show all datasets" }, "×")) : null,
      sweep ? h("span", { class: "chip" }, h("a", { href: `#/sweeps/${encodeURIComponent(sweep)}` }, `sweep ${shortId(sweep)}`)) : null,
      h("span", { class: "spacer" }),
      compare,
      h("a", { class: "button", href: "#/new" }, "New job")),
    h("section", { class: "card", "aria-label": "Jobs" }, box),
  );

  const params = new URLSearchParams({ limit: "100" });
  if (status) params.set("status", status);
  if (dataset) params.set("dataset_id", dataset);
  if (sweep) params.set("sweep_id", sweep);
  let first = true;
  let last = null;
  every(1500, signal, async () => {
    try {
      const [{ jobs }, datasets] = await Promise.all([
        api.get(`/v1/jobs?${params}`, { signal }),
        names.size ? null : api.get("/v1/datasets?limit=500", { signal }),
      ]);
      for (const ds of datasets?.datasets || []) names.set(ds.id, ds.name);
      const snapshot = JSON.stringify(jobs);
      if (snapshot === last) return; // unchanged: keep the table (and the reader's focus) as it is
      last = snapshot;
      fill(box, jobs.length ? table(jobs, names, picked, pick) : h("p", { class: "muted" }, "No job here yet. ", h("a", { href: "#/new" }, "Start one.")));
      first = false;
    } catch (err) {
      if (first) fill(box, h("p", { class: "muted" }, "Could not load the jobs."));
      showError(err);
      if (err.status === 401) return false;
    }
  });
}

function table(jobs, names, picked, pick) {
  return h("table", { class: "data jobs" },
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Compare")),
      ["Job", "Dataset", "Model", "Optimizer", "Status", "Progress", "Train loss", "Created"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, jobs.map((job) => {
      const loss = job.result?.train_loss ?? job.metrics?.train_loss;
      const p = job.progress || {};
      const ticked = picked.includes(job.id);
      return h("tr", { "data-job": job.id, "data-status": job.status },
        h("td", {}, h("input", {
          type: "checkbox", class: "pick", checked: ticked, disabled: !ticked && picked.length >= COMPARE_MAX,
          "aria-label": `Compare ${job.id}`, onchange: (e) => pick(job.id, e.target.checked),
        })),
        h("td", {}, h("a", { href: `#/jobs/${encodeURIComponent(job.id)}`, class: "mono", title: job.id }, shortId(job.id)),
          job.sweep_id ? h("div", { class: "small" }, h("a", { href: `#/sweeps/${encodeURIComponent(job.sweep_id)}` }, "sweep")) : null),
        h("td", {}, names.get(job.dataset_id) || h("span", { class: "mono small", title: job.dataset_id }, shortId(job.dataset_id))),
        h("td", {}, `${modelSummary(job.config?.model)} · ${job.config?.loss}`),
        h("td", {}, optimizerSummary(job.config?.optimizer)),
        h("td", {}, statusBadge(job.status, job.error)),
        h("td", { class: "progress-cell" },
          progressBar(p.fraction, `progress of ${job.id}`),
          h("span", { class: "small muted" }, p.epochs ? `epoch ${p.epoch}/${p.epochs}` : `${num(p.step)} points`)),
        h("td", { class: "num" }, num(loss)),
        h("td", { class: "small" }, when(job.created_at)));
    })));
}
