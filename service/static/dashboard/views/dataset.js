// #/datasets/{id}: one dataset's columns — kind, missing cells, distinct values, a summary and a
// small bar chart each (a histogram for numbers, the most frequent values for categories) — and
// the warnings worth reading before training.

import { api } from "../api.js";
import { heading, showError } from "../ui.js";
import { fill, h, num, when } from "../util.js";

const SVG = "http://www.w3.org/2000/svg";
const BAR_WIDTH = 120;
const BAR_HEIGHT = 28;
const SHOWN_CATEGORIES = 8;

export function datasetView(main, { params: [datasetId], signal }) {
  const box = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  main.append(heading("Dataset"), box);
  load(box, datasetId, signal);
}

async function load(box, datasetId, signal) {
  try {
    const ds = await api.get(`/v1/datasets/${encodeURIComponent(datasetId)}`, { signal });
    document.querySelector("#main h1").textContent = `Dataset ${ds.name}`;
    fill(box, summary(ds), ...(ds.warnings?.length ? [warnings(ds.warnings)] : []), columnsCard(ds));
  } catch (err) {
    fill(box, h("p", { class: "muted" }, "Could not load the dataset."));
    showError(err);
  }
}

function summary(ds) {
  return h("section", { class: "card", "aria-label": "Summary" },
    h("p", {},
      h("strong", {}, `${ds.rows} rows`), `, ${ds.features} usable feature columns, target `,
      h("strong", {}, ds.target_name), ` · uploaded ${when(ds.created_at)} · `,
      h("span", { class: "mono small" }, ds.id)),
    h("div", { class: "form-actions" },
      h("a", { class: "button small", href: `#/new?dataset=${encodeURIComponent(ds.id)}` }, "Train on it"),
      h("a", { class: "button small secondary", href: `#/jobs?dataset=${encodeURIComponent(ds.id)}` }, "Its jobs")));
}

function warnings(list) {
  return h("section", { class: "card", "aria-labelledby": "warnings-title", id: "dataset-warnings" },
    h("h2", { id: "warnings-title" }, "Warnings"),
    h("ul", {}, list.map((w) => h("li", {}, w))));
}

function columnsCard(ds) {
  const columns = ds.columns || ds.feature_names.concat([ds.target_name]).map((name) => ({ name, kind: "number" }));
  return h("section", { class: "card", "aria-labelledby": "columns-title" },
    h("h2", { id: "columns-title" }, "Columns"),
    h("table", { class: "data", id: "dataset-columns", "aria-describedby": "columns-title" },
      h("thead", {}, h("tr", {},
        ...["Column", "Kind", "Missing", "Distinct", "Summary", "Distribution"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, columns.map((col) => h("tr", { "data-column": col.name, "data-kind": col.kind },
        h("td", {}, h("strong", {}, col.name), col.name === ds.target_name ? h("span", { class: "badge" }, " target") : null),
        h("td", {}, col.kind),
        h("td", { class: "num" }, col.missing ?? "–"),
        h("td", { class: "num" }, col.distinct ?? "–"),
        h("td", { class: "small" }, describe(col)),
        h("td", {}, chart(col)))))));
}

function describe(col) {
  if (col.kind === "number" && col.mean !== undefined && col.mean !== null) {
    return `${num(col.min)} … ${num(col.max)}, mean ${num(col.mean)}, std ${num(col.std)}`;
  }
  if (col.kind === "category") {
    return col.categories.slice(0, 3).map((c) => `${c.value} (${c.count})`).join(", ") + (col.distinct > 3 ? ", …" : "");
  }
  if (col.kind === "datetime") return `${col.min ?? "–"} … ${col.max ?? "–"}`;
  if (col.kind === "text") return "text: not a feature";
  return "";
}

/** An inline SVG bar chart: a histogram for a number column, value counts for a category. */
function chart(col) {
  const counts = col.kind === "number" ? col.histogram : col.kind === "category" ? col.categories.slice(0, SHOWN_CATEGORIES).map((c) => c.count) : null;
  if (!counts || !counts.length) return "";
  const labels = col.kind === "category" ? col.categories.slice(0, SHOWN_CATEGORIES).map((c) => String(c.value)) : null;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", BAR_WIDTH);
  svg.setAttribute("height", BAR_HEIGHT);
  svg.setAttribute("role", "img");
  svg.setAttribute("class", "mini-chart");
  svg.setAttribute("aria-label", col.kind === "number" ? `histogram of ${col.name}` : `most frequent values of ${col.name}`);
  const top = Math.max(...counts, 1);
  const width = BAR_WIDTH / counts.length;
  counts.forEach((count, i) => {
    const bar = document.createElementNS(SVG, "rect");
    const height = Math.max(1, (count / top) * (BAR_HEIGHT - 2));
    bar.setAttribute("x", (i * width + 1).toFixed(1));
    bar.setAttribute("y", (BAR_HEIGHT - height).toFixed(1));
    bar.setAttribute("width", Math.max(1, width - 2).toFixed(1));
    bar.setAttribute("height", height.toFixed(1));
    bar.setAttribute("fill", "#4f7cff");
    const title = document.createElementNS(SVG, "title");
    title.textContent = labels ? `${labels[i]}: ${count}` : `${count}`;
    bar.append(title);
    svg.append(bar);
  });
  return svg;
}
