// #/datasets: the tenant's datasets and a form that uploads a CSV, then offers the job form.

import { api } from "../api.js";
import { heading, notice, showError } from "../ui.js";
import { fill, h, num, when } from "../util.js";

export function datasetsView(main, { signal }) {
  const tableBox = h("div", { class: "table-box" }, h("p", { class: "muted" }, "Loading…"));
  main.append(
    heading("Datasets"),
    h(
      "div",
      { class: "columns" },
      h("section", { class: "card grow", "aria-labelledby": "datasets-title" },
        h("h2", { id: "datasets-title" }, "Uploaded"),
        tableBox),
      uploadCard(signal),
    ),
  );
  load(tableBox, signal);
}

async function load(box, signal) {
  try {
    const { datasets } = await api.get("/v1/datasets?limit=100", { signal });
    fill(box, datasets.length ? table(datasets, box, signal) : h("p", { class: "muted" }, "No dataset yet: upload a CSV to start."));
  } catch (err) {
    fill(box, h("p", { class: "muted" }, "Could not load the datasets."));
    showError(err);
  }
}

function table(datasets, box, signal) {
  return h(
    "table",
    { class: "data", "aria-describedby": "datasets-title" },
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Name"),
      h("th", { scope: "col" }, "Rows × features"),
      h("th", { scope: "col" }, "Target"),
      h("th", { scope: "col" }, "Created"),
      h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")))),
    h("tbody", {}, datasets.map((ds) => h("tr", { "data-dataset": ds.id },
      h("td", {}, h("a", { href: `#/datasets/${encodeURIComponent(ds.id)}` }, h("strong", {}, ds.name)),
        h("div", { class: "muted small mono", title: ds.id }, ds.id)),
      h("td", { class: "num" }, `${ds.rows} × ${ds.features}`),
      h("td", {}, ds.target_name,
        ds.stats ? h("div", { class: "muted small" }, `${num(ds.stats.y_min)} … ${num(ds.stats.y_max)}`) : null),
      h("td", {}, when(ds.created_at)),
      h("td", { class: "actions" },
        h("a", { class: "button small", href: `#/new?dataset=${encodeURIComponent(ds.id)}` }, "Train"),
        h("a", { class: "button small secondary", href: `#/jobs?dataset=${encodeURIComponent(ds.id)}` }, "Jobs"),
        h("button", {
          type: "button",
          class: "small danger-outline",
          "aria-label": `Delete ${ds.name}`,
          onclick: async () => {
            if (!confirm(`Delete the dataset “${ds.name}”?`)) return;
            try {
              await api.del(`/v1/datasets/${encodeURIComponent(ds.id)}`, { signal });
              notice(`Deleted “${ds.name}”.`, "success");
              load(box, signal);
            } catch (err) {
              showError(err);
            }
          },
        }, "Delete"))))),
  );
}

function uploadCard(signal) {
  const errors = h("div", { class: "form-errors", role: "alert" });
  const file = h("input", { id: "upload-file", name: "file", type: "file", accept: ".csv,.tsv,.parquet,.arrow,.feather,text/csv", required: true });
  const target = h("input", { id: "upload-target", name: "target", type: "text", placeholder: "the last column", autocomplete: "off" });
  const name = h("input", { id: "upload-name", name: "name", type: "text", placeholder: "the file's name", autocomplete: "off" });
  const submit = h("button", { type: "submit" }, "Upload");
  const form = h(
    "form",
    {
      id: "upload-form",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        errors.replaceChildren();
        if (!file.files.length) {
          fill(errors, h("p", {}, "Choose a file first."));
          file.focus();
          return;
        }
        const data = new FormData();
        data.append("file", file.files[0]);
        if (target.value.trim()) data.append("target", target.value.trim());
        if (name.value.trim()) data.append("name", name.value.trim());
        submit.disabled = true;
        submit.textContent = "Uploading…";
        try {
          const ds = await api.upload("/v1/datasets", data, { signal });
          notice(`Uploaded “${ds.name}”: ${ds.rows} rows × ${ds.features} features, target ${ds.target_name}. Read its columns, then train on it.`, "success", { keep: true });
          location.hash = `#/datasets/${encodeURIComponent(ds.id)}`;
        } catch (err) {
          if (err.status === 401 || err.name === "AbortError") return;
          fill(errors, h("p", {}, err.message), err.errors.length
            ? h("ul", {}, err.errors.map((e) => h("li", {}, h("code", {}, e.field), ": ", e.message)))
            : null);
        } finally {
          submit.disabled = false;
          submit.textContent = "Upload";
        }
      },
    },
    errors,
    field("upload-file", "Data file", file, "CSV (a header row is detected when a cell of the first row is not a number), Parquet or Arrow."),
    field("upload-target", "Target column", target, "A name or a 0-based index; empty for the last column."),
    field("upload-name", "Name", name),
    h("div", { class: "form-actions" }, submit),
  );
  return h("section", { class: "card narrow", "aria-labelledby": "upload-title" },
    h("h2", { id: "upload-title" }, "Upload a table"), form);
}

function field(id, label, input, hint) {
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) input.setAttribute("aria-describedby", hintId);
  return h("div", { class: "field" },
    h("label", { for: id }, label),
    input,
    hint ? h("p", { class: "hint", id: hintId }, hint) : null);
}
