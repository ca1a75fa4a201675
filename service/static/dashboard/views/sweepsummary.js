// The top of a sweep's page: what kind of sweep it is, a search's trials (started, pruned, epochs
// pruning saved) and best overrides, and under cross-validation its candidates with the mean ± std
// of their folds' dev losses.

import { fill, h, num } from "../util.js";
import { overridesText, sweepKind } from "./sweeps.js";

const COMPARE_LIMIT = 16;

export function renderHead(slot, sweep) {
  const counts = Object.entries(sweep.counts || {}).map(([s, n]) => `${n} ${s}`).join(", ");
  const ids = sweep.jobs.slice(0, COMPARE_LIMIT).map((j) => j.id);
  fill(slot,
    h("p", { class: "subtitle" },
      h("span", { class: `badge status-${sweep.status === "done" ? "succeeded" : "running"}` }, sweep.status), " ",
      h("span", { id: "sweep-kind" }, sweepKind(sweep)), " · ",
      `${sweep.jobs.length} jobs (${counts || "none yet"}) · ranked by ${sweep.ranked_by.replace("_", " ")} · `,
      h("a", { href: `#/jobs?sweep=${encodeURIComponent(sweep.id)}` }, "as a job list"),
      ids.length ? [" · ", h("a", { id: "sweep-compare", href: `#/compare?jobs=${ids.map(encodeURIComponent).join(",")}` },
        sweep.jobs.length > COMPARE_LIMIT ? `compare the first ${COMPARE_LIMIT}` : "compare their curves")] : null),
    sweep.grid && Object.keys(sweep.grid).length ? h("p", { class: "small muted" }, "Grid: ",
      Object.entries(sweep.grid).map(([k, values], i) => [i ? "; " : "", h("code", {}, k), ` ∈ {${values.map((v) => JSON.stringify(v)).join(", ")}}`])) : null,
    sweep.search ? searchFacts(sweep) : null,
    sweep.validation && sweep.best_overrides ? h("p", {}, "Best overrides (lowest mean dev loss over the folds): ",
      h("strong", { id: "best-overrides" }, overridesText(sweep.best_overrides))) : null);
}

function searchFacts(sweep) {
  const t = sweep.trials || {};
  const s = sweep.search;
  const space = Object.entries(sweep.space || {}).map(([path, spec]) => {
    if (spec.choices) return `${path} ∈ {${spec.choices.map((c) => JSON.stringify(c)).join(", ")}}`;
    const step = spec.step != null ? ` step ${spec.step}` : "";
    return `${path} ∈ [${spec.low}, ${spec.high}]${spec.log ? " (log)" : ""}${step}`;
  });
  const row = (label, value, key) => [h("dt", {}, label), h("dd", { "data-key": key }, value)];
  return h("section", { class: "card", "aria-labelledby": "search-title", id: "search-card" },
    h("h2", { id: "search-title" }, "Search"),
    h("dl", { class: "facts two-col", id: "search-facts" },
      row("Method", `${s.method || "tpe"}${s.seed != null ? `, seed ${s.seed}` : ""}`, "method"),
      row("Pruner", s.pruner || "none", "pruner"),
      row("Trials started", `${t.started ?? 0} of ${t.total ?? s.trials}`, "started"),
      row("At once", String(s.parallel ?? 4), "parallel"),
      row("Pruned", String(t.pruned ?? 0), "pruned"),
      row("Epochs saved by pruning", String(sweep.epochs_saved ?? 0), "epochs_saved"),
      row("Best overrides", sweep.best_overrides ? overridesText(sweep.best_overrides) : "—", "best_overrides")),
    h("p", { class: "small muted" }, "Space: ", space.map((text, i) => [i ? "; " : "", h("code", {}, text)])));
}

/** The candidates card (cross-validation only; hidden otherwise). */
export function candidatesCard() {
  const box = h("div", { class: "table-box" });
  const card = h("section", { class: "card", id: "candidates-card", "aria-labelledby": "candidates-title", hidden: true },
    h("h2", { id: "candidates-title" }, "Candidates"),
    h("p", { class: "small muted" }, "Each candidate trained once per fold, each fold the dev split in turn; ranked by the mean of the folds' dev losses (± their standard deviation)."),
    box);
  let last = null;
  card.update = (sweep) => {
    card.hidden = !Array.isArray(sweep.candidates);
    if (card.hidden) return;
    const snapshot = JSON.stringify(sweep.candidates);
    if (snapshot === last) return;
    last = snapshot;
    fill(box, candidatesTable(sweep));
  };
  return card;
}

function candidatesTable(sweep) {
  let rank = 0;
  return h("table", { class: "data", id: "candidates-table" },
    h("thead", {}, h("tr", {}, ["#", "Overrides", "Mean dev loss ± std", "Folds", "Dev metrics (means)", "Jobs"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, sweep.candidates.map((c, i) => {
      const ranked = c.mean_dev_loss != null;
      const metrics = Object.entries(c.metrics || {}).map(([k, v]) => `${k} ${num(v)}`).join(" · ");
      return h("tr", { class: ranked && i === 0 ? "best" : null, "data-mean": c.mean_dev_loss ?? "", "data-std": c.std_dev_loss ?? "" },
        h("td", { class: "num" }, ranked ? String(++rank) : "—"),
        h("td", {}, overridesText(c.overrides)),
        h("td", { class: "num mean-std" }, ranked ? `${num(c.mean_dev_loss)} ± ${num(c.std_dev_loss)}` : "—"),
        h("td", { class: "num" }, `${c.succeeded}/${c.folds}`),
        h("td", { class: "small" }, metrics || "—"),
        h("td", { class: "small" }, c.job_ids.map((id, k) => [k ? " " : "",
          h("a", { class: "mono", href: `#/jobs/${encodeURIComponent(id)}`, title: `fold ${k}: ${id}` }, `fold ${k}`)])));
    })));
}

/** A child's place in its sweep: "fold 2", "trial 7", "" for a grid point. */
export function childTag(job) {
  if (job.trial != null) return `trial ${job.trial}`;
  if (job.fold != null) return `fold ${job.fold}`;
  return "";
}
