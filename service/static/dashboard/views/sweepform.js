// #/sweeps/new?dataset=ID[&from=JOB]: start a sweep — a grid (optionally cross-validated with K
// folds) or a random or TPE search over a space, around a base job whose fields are the job
// form's. A 400's problem+json `errors` land next to what they name: `base.…` on the job field,
// `grid.<path>` on that grid row, `space.<path>[.low|.high|.step|.choices]` on that part of a
// space row, `search.…` and `validation.folds` on theirs.

import { api } from "../api.js";
import { heading, notice, showError } from "../ui.js";
import { h } from "../util.js";
import { clearErrors, longestPrefix, showErrors } from "./formerrors.js";
import { fieldId, JobFields, number } from "./jobfields.js";
import { PATHS, gridRow, spaceRow } from "./sweeprows.js";

const METHODS = [["grid", "grid — every combination"], ["random", "random search"], ["tpe", "TPE search (Optuna)"]];
const PRUNERS = [["none", "none"], ["median", "median"], ["hyperband", "hyperband"]];
const LEARNING_CURVE = "0.05, 0.1, 0.2, 0.5, 1";

export function sweepFormView(main, { query, signal }) {
  const form = new SweepForm(signal);
  main.append(
    heading("New sweep"),
    h("p", { class: "lede" },
      "Train a base job many times: over a grid of overrides (each point K times with K-fold cross-validation), " +
      "or as a random or TPE search. A grid over data.train_fraction draws a learning curve."),
    form.element,
  );
  form.fields.load(query.get("dataset"), query.get("from")).then(() => form.sync());
}

class SweepForm {
  constructor(signal) {
    this.signal = signal;
    this.fields = new JobFields(signal);
    this.own = new Map(); // our own dotted paths → their wrappers (the rows are added at send time)
    const input = (path, props) => h("input", { id: fieldId(path), name: path, type: "text", autocomplete: "off", ...props });
    const field = (path, label, el, hint) => {
      const wrap = h("div", { class: "field", "data-field": path }, h("label", { for: el.id }, label), el,
        hint ? h("p", { class: "hint", id: `${el.id}-hint` }, hint) : null);
      if (hint) el.setAttribute("aria-describedby", `${el.id}-hint`);
      this.own.set(path, wrap);
      return wrap;
    };
    this.method = h("select", { id: fieldId("search.method"), name: "method", value: "grid" }, METHODS.map(([v, l]) => h("option", { value: v }, l)));
    this.folds = input("validation.folds", { inputmode: "numeric", placeholder: "none" });
    this.trials = input("search.trials", { inputmode: "numeric", value: "20" });
    this.parallel = input("search.parallel", { inputmode: "numeric", value: "4" });
    this.searchSeed = input("search.seed", { inputmode: "numeric", value: "0" });
    this.pruner = h("select", { id: fieldId("search.pruner"), name: "pruner", value: "median" }, PRUNERS.map(([v, l]) => h("option", { value: v }, l)));

    this.gridRows = h("div", { class: "rows" }, gridRow("optimizer.lr", "0.001, 0.01, 0.1"));
    this.spaceRows = h("div", { class: "rows" },
      spaceRow("optimizer.lr", { low: "0.0001", high: "0.3", log: true }),
      spaceRow("optimizer.batch_size", { low: "8", high: "64", step: "8" }));
    this.gridSet = h("fieldset", { class: "sweep-grid", "data-field": "grid" },
      h("legend", {}, "Grid"),
      h("p", { class: "hint" }, "Each row: a dotted path into the job request, and its values separated by commas (JSON: ",
        h("code", {}, "[16, 16], [32]"), " is two hidden-layer lists). Every combination of the rows is one candidate."),
      this.gridRows,
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "small secondary", onclick: () => this.addGridRow() }, "Add a grid row"),
        h("button", { type: "button", class: "small secondary", id: "learning-curve-preset", onclick: () => this.learningCurve() }, "Learning curve (data.train_fraction)")));
    this.own.set("grid", this.gridSet);
    this.spaceSet = h("fieldset", { class: "sweep-space", "data-field": "space" },
      h("legend", {}, "Search space"),
      h("p", { class: "hint" }, "A range (integers when its bounds and step are), a log range (low > 0), or choices written like grid values."),
      this.spaceRows,
      h("div", { class: "form-actions" },
        h("button", { type: "button", class: "small secondary", onclick: () => this.spaceRows.append(spaceRow()) }, "Add a dimension")));
    this.own.set("space", this.spaceSet);
    this.searchSet = h("fieldset", { class: "sweep-search", "data-field": "search" },
      h("legend", {}, "Search"),
      h("div", { class: "range-row" },
        field("search.trials", "Trials", this.trials),
        field("search.parallel", "At once", this.parallel),
        field("search.seed", "Seed", this.searchSeed)),
      field("search.pruner", "Pruner", this.pruner, "Stops trials whose dev loss per epoch falls behind; needs a dev split."));
    this.own.set("search", this.searchSet);
    const methodField = field("search.method", "Method", this.method);
    const foldsField = field("validation.folds", "Cross-validation folds", this.folds,
      "K ≥ 2 trains every candidate K times, each fold the dev split in turn (the dev split field is then unused). Empty: one dev split.");
    this.own.set("validation", foldsField);

    this.summary = h("div", { class: "form-errors", tabindex: "-1", "aria-live": "assertive" });
    this.submit = h("button", { type: "submit" }, "Start the sweep");
    this.element = h("form", { id: "sweep-form", class: "card", novalidate: true, onsubmit: (e) => this.send(e), onchange: () => this.sync(), oninput: () => this.sync() },
      this.summary,
      h("datalist", { id: "sweep-paths" }, PATHS.map((p) => h("option", { value: p }))),
      h("h2", {}, "The base job"),
      h("div", { class: "form-grid" }, this.fields.fieldsets),
      h("h2", { class: "sweep-vary-title" }, "What the sweep varies"),
      h("div", { class: "form-grid sweep-grid-layout" },
        h("fieldset", {}, h("legend", {}, "Sweep"), methodField, foldsField),
        this.gridSet, this.spaceSet, this.searchSet),
      h("div", { class: "form-actions" }, this.submit, h("a", { class: "button secondary", href: "#/sweeps" }, "Cancel")),
    );
    this.sync();
  }

  addGridRow(path = "", values = "") {
    const row = gridRow(path, values);
    this.gridRows.append(row);
    row.querySelector("input").focus();
    return row;
  }

  /** Set a grid row over data.train_fraction (the existing one, or a new one). */
  learningCurve() {
    const rows = [...this.gridRows.children];
    const row = rows.find((r) => r.value()[0] === "data.train_fraction") || rows.find((r) => !r.value()[0]) || this.addGridRow();
    row.querySelector(".row-path").value = "data.train_fraction";
    row.querySelector(".row-values").value = LEARNING_CURVE;
  }

  sync() {
    this.fields.sync();
    const grid = this.method.value === "grid";
    this.gridSet.hidden = !grid;
    this.spaceSet.hidden = this.searchSet.hidden = grid;
    this.fields.devField.hidden = this.folds.value.trim() !== "";
  }

  body() {
    const base = this.fields.body();
    const body = { dataset_id: base.dataset_id };
    delete base.dataset_id;
    body.base = base;
    const folds = number(this.folds.value);
    if (folds !== undefined) body.validation = { folds };
    if (this.method.value === "grid") {
      const rows = [...this.gridRows.children].map((r) => r.value()).filter(([path]) => path);
      if (rows.length || folds === undefined) body.grid = Object.fromEntries(rows);
    } else {
      body.search = {
        method: this.method.value,
        trials: number(this.trials.value),
        parallel: number(this.parallel.value),
        seed: number(this.searchSeed.value),
        pruner: this.pruner.value,
      };
      body.space = Object.fromEntries([...this.spaceRows.children].map((r) => r.value()).filter(([path]) => path));
    }
    return JSON.parse(JSON.stringify(body));
  }

  /** Where an error path is shown: a base field, a row, or one of the sweep's own fields. */
  fieldFor(path) {
    if (path.startsWith("base.")) return this.fields.fieldFor(path.slice(5));
    if (path === "dataset_id") return this.fields.fieldFor(path);
    const fields = new Map(this.own);
    for (const row of this.gridRows.children) {
      const [p] = row.value();
      row.dataset.field = `grid.${p}`;
      fields.set(row.dataset.field, row);
    }
    for (const row of this.spaceRows.children) {
      const [p] = row.value();
      row.dataset.field = `space.${p}`;
      fields.set(row.dataset.field, row);
      for (const [part, cell] of Object.entries(row.parts)) {
        cell.dataset.field = `space.${p}.${part}`;
        fields.set(cell.dataset.field, cell);
      }
    }
    return longestPrefix(fields, path);
  }

  async send(event) {
    event.preventDefault();
    clearErrors(this.element, this.summary);
    this.submit.disabled = true;
    this.submit.textContent = "Starting…";
    const show = (err) => showErrors(this.element, this.summary, err, (path) => this.fieldFor(path), "The sweep was not started");
    try {
      const sweep = await api.post("/v1/sweeps", this.body(), { signal: this.signal, idempotent: true });
      notice(`Sweep started: ${sweep.id}.`, "success", { keep: true });
      location.hash = `#/sweeps/${encodeURIComponent(sweep.id)}`;
    } catch (err) {
      if (err.status === 400) show(err);
      else if (err.status === 404) show({ message: err.message, errors: [{ field: "dataset_id", message: err.message }] });
      else showError(err);
    } finally {
      this.submit.disabled = false;
      this.submit.textContent = "Start the sweep";
    }
  }
}
