// #/sweeps[?cursor=…&limit=…]: the tenant's sweeps, newest first, a page at a time (GET /v1/sweeps
// and its `next_cursor`), polled every 3 s while on screen.

import { api } from "../api.js";
import { heading, showError } from "../ui.js";
import { every, fill, h, num, shortId, when } from "../util.js";

export function sweepsView(main, { query, signal }) {
  const cursor = query.get("cursor") || "";
  const limit = Math.max(1, Math.min(500, Number(query.get("limit")) || 25));
  const box = h("div", { class: "table-box" }, h("p", { class: "muted" }, "Loading…"));
  const pager = h("nav", { class: "pager", "aria-label": "Pages of sweeps" });
  const names = new Map();
  main.append(
    heading("Sweeps"),
    h("div", { class: "toolbar" },
      h("span", { class: "muted" }, "Grids, cross-validation and searches, newest first."),
      h("span", { class: "spacer" }),
      h("a", { class: "button", href: "#/sweeps/new" }, "New sweep")),
    h("section", { class: "card", "aria-label": "Sweeps" }, box, pager),
  );
  const params = new URLSearchParams({ limit: String(limit) });
  if (cursor) params.set("cursor", cursor);
  let last = null;
  every(3000, signal, async () => {
    try {
      const [page, datasets] = await Promise.all([
        api.get(`/v1/sweeps?${params}`, { signal }),
        names.size ? null : api.get("/v1/datasets?limit=500", { signal }),
      ]);
      for (const ds of datasets?.datasets || []) names.set(ds.id, ds.name);
      const snapshot = JSON.stringify(page);
      if (snapshot === last) return;
      last = snapshot;
      fill(box, page.sweeps.length
        ? table(page.sweeps, names)
        : h("p", { class: "muted" }, cursor ? "No older sweep." : "No sweep yet. ", cursor ? null : h("a", { href: "#/sweeps/new" }, "Start one.")));
      const link = (c, text, rel) => {
        const q = new URLSearchParams(c ? { cursor: c } : {});
        if (query.get("limit")) q.set("limit", String(limit));
        return h("a", { class: "button small secondary", href: `#/sweeps${q.toString() ? `?${q}` : ""}`, rel }, text);
      };
      fill(pager,
        cursor ? link("", "← Newest", "first") : null,
        page.next_cursor ? link(page.next_cursor, "Older sweeps →", "next") : null);
    } catch (err) {
      if (last == null) fill(box, h("p", { class: "muted" }, err.message || "Could not load the sweeps."));
      showError(err);
      if (err.status === 401 || err.status === 400) return false;
    }
  });
}

/** "grid", "grid · 5-fold cross-validation", "tpe search · 12/40 trials, 5 pruned". */
export function sweepKind(sweep) {
  if (sweep.search) {
    const t = sweep.trials || {};
    const pruned = t.pruned ? `, ${t.pruned} pruned` : "";
    return `${sweep.search.method || "tpe"} search · ${t.started ?? 0}/${t.total ?? sweep.search.trials ?? "?"} trials${pruned}`;
  }
  const folds = sweep.validation?.folds;
  return folds ? `grid · ${folds}-fold cross-validation` : "grid";
}

/** {"optimizer.lr": 0.1, "model.hidden": [32]} → "lr = 0.1, hidden = [32]". */
export function overridesText(overrides) {
  return Object.entries(overrides || {})
    .map(([k, v]) => `${k.split(".").pop()} = ${typeof v === "number" ? num(v) : JSON.stringify(v)}`)
    .join(", ") || "(base)";
}

function table(sweeps, names) {
  return h("table", { class: "data", id: "sweeps-table" },
    h("thead", {}, h("tr", {}, ["Sweep", "Dataset", "Kind", "Status", "Jobs", "Best", "Created"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, sweeps.map((s) => {
      const total = Object.values(s.counts || {}).reduce((a, b) => a + b, 0);
      const counts = Object.entries(s.counts || {}).map(([k, n]) => `${n} ${k}`).join(", ");
      return h("tr", { "data-sweep": s.id, "data-status": s.status },
        h("td", {}, h("a", { class: "mono", href: `#/sweeps/${encodeURIComponent(s.id)}`, title: s.id }, shortId(s.id))),
        h("td", {}, names.get(s.dataset_id) || h("span", { class: "mono small", title: s.dataset_id }, shortId(s.dataset_id))),
        h("td", { class: "kind" }, sweepKind(s)),
        h("td", {}, h("span", { class: `badge status-${s.status === "done" ? "succeeded" : "running"}` }, s.status)),
        h("td", { class: "small" }, `${total}`, counts ? h("div", { class: "muted" }, counts) : null),
        h("td", { class: "small" }, s.best_overrides ? overridesText(s.best_overrides)
          : s.best_job_id ? h("a", { class: "mono", href: `#/jobs/${encodeURIComponent(s.best_job_id)}` }, shortId(s.best_job_id)) : "—"),
        h("td", { class: "small" }, when(s.created_at)));
    })));
}
