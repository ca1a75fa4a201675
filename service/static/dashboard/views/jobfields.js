// The fields of a job request (dataset, split, model, loss, optimizer, epochs…), shown only where
// they apply, filled from a job's config, read back as a request body. The job form sends them as
// a job; the sweep form as its dataset and `base`.

import { api } from "../api.js";
import { showError } from "../ui.js";
import { fill, h } from "../util.js";
import { longestPrefix } from "./formerrors.js";

const OPTIMIZERS = [
  ["gd", "gd — full-batch gradient descent"],
  ["sgd", "sgd — one sample per update"],
  ["minibatch", "minibatch — shuffled batches"],
  ["momentum", "momentum — minibatch with heavy-ball momentum"],
  ["adam", "adam"],
  ["exhaustive", "exhaustive — grid search over w (and b)"],
];
const LOSSES = [
  ["mse", "mse — mean squared error"],
  ["mae", "mae — mean absolute error"],
  ["huber", "huber"],
  ["bce", "bce — binary cross-entropy (targets 0/1)"],
  ["cross_entropy", "cross_entropy — classes 0..K−1"],
];
const ACTIVATIONS = ["relu", "sigmoid", "tanh", "identity"];
const BATCHED = new Set(["minibatch", "momentum", "adam"]);

export class JobFields {
  constructor(signal) {
    this.signal = signal;
    this.fields = new Map(); // dotted path → the element whose error it shows
    const input = (path, props = {}) => h("input", { id: fieldId(path), name: path, type: "text", autocomplete: "off", ...props });
    const select = (path, options, value) =>
      h("select", { id: fieldId(path), name: path, value }, options.map(([v, label]) => h("option", { value: v }, label ?? v)));

    this.dataset = h("select", { id: fieldId("dataset_id"), name: "dataset_id", required: true }, h("option", { value: "" }, "Loading…"));
    this.devSplit = input("split.dev", { inputmode: "decimal", value: "0.2" });
    this.testSplit = input("split.test", { inputmode: "decimal", value: "0" });
    this.seed = input("seed", { inputmode: "numeric", value: "0" });
    this.standardize = h("input", { id: fieldId("standardize"), name: "standardize", type: "checkbox", checked: true });

    this.modelType = select("model.type", [["linear", "linear — ŷ = w·x + b"], ["mlp", "mlp — multi-layer perceptron"]], "linear");
    this.bias = h("input", { id: fieldId("model.bias"), name: "model.bias", type: "checkbox", checked: true });
    this.hidden = input("model.hidden", { value: "16", placeholder: "16, 16" });
    this.activation = select("model.activation", ACTIVATIONS.map((a) => [a]), "relu");
    this.loss = select("loss", LOSSES, "mse");

    this.optimizer = select("optimizer.type", OPTIMIZERS, "minibatch");
    this.lr = input("optimizer.lr", { inputmode: "decimal", placeholder: "0.01" });
    this.batchSize = input("optimizer.batch_size", { inputmode: "numeric", value: "32" });
    this.momentum = input("optimizer.momentum", { inputmode: "decimal", value: "0.9" });
    this.grid = {
      wMin: input("optimizer.grid.w.min", { inputmode: "decimal", value: "-4" }),
      wMax: input("optimizer.grid.w.max", { inputmode: "decimal", value: "4" }),
      wSteps: input("optimizer.grid.w.steps", { inputmode: "numeric", value: "81" }),
      searchB: h("input", { id: fieldId("grid.search_b"), type: "checkbox", checked: true }),
      bMin: input("optimizer.grid.b.min", { inputmode: "decimal", value: "-4" }),
      bMax: input("optimizer.grid.b.max", { inputmode: "decimal", value: "4" }),
      bSteps: input("optimizer.grid.b.steps", { inputmode: "numeric", value: "81" }),
    };
    this.epochs = input("epochs", { inputmode: "numeric", value: "100" });
    this.tolerance = input("tolerance", { inputmode: "decimal", placeholder: "1e-7" });
    this.patience = input("early_stopping.patience", { inputmode: "numeric", placeholder: "off" });

    const f = (path, label, el, hint) => this.field(path, label, el, hint);
    this.linearOnly = f("model.bias", "Bias term b", this.bias);
    this.mlpOnly = [
      f("model.hidden", "Hidden layer widths", this.hidden, "Comma-separated, e.g. 16, 16."),
      f("model.activation", "Activation", this.activation),
    ];
    this.descentOnly = [
      f("optimizer.lr", "Learning rate", this.lr, "A number > 0, or auto. Empty: 0.01 (adam: 0.001)."),
      f("epochs", "Epochs", this.epochs),
      f("tolerance", "Tolerance", this.tolerance, "Stop when the epoch's cost changes by less (0: never). Empty: 1e-7."),
      f("early_stopping.patience", "Early-stopping patience", this.patience, "Epochs without a better dev loss; empty: off."),
    ];
    this.batchedOnly = f("optimizer.batch_size", "Batch size", this.batchSize);
    this.momentumOnly = f("optimizer.momentum", "Momentum", this.momentum);
    const bRanges = h("div", { class: "range-row" },
      f("optimizer.grid.b.min", "b from", this.grid.bMin),
      f("optimizer.grid.b.max", "b to", this.grid.bMax),
      f("optimizer.grid.b.steps", "b steps", this.grid.bSteps));
    const wRanges = h("div", { class: "range-row", "data-field": "optimizer.grid.w" },
      f("optimizer.grid.w.min", "w from", this.grid.wMin),
      f("optimizer.grid.w.max", "w to", this.grid.wMax),
      f("optimizer.grid.w.steps", "w steps", this.grid.wSteps));
    this.fields.set("optimizer.grid.w", wRanges);
    this.fields.set("optimizer.grid.b", bRanges);
    this.gridOnly = h("fieldset", { class: "subtle", "data-field": "optimizer.grid" },
      h("legend", {}, "Search grid (original units)"),
      wRanges,
      h("div", { class: "field check" }, this.grid.searchB, h("label", { for: fieldId("grid.search_b") }, "Search the bias b too (a heat map over w and b)")),
      bRanges);
    this.fields.set("optimizer.grid", this.gridOnly);
    this.bRanges = bRanges;
    this.devField = f("split.dev", "Dev split", this.devSplit, "Fraction held out to measure the dev loss every epoch.");

    this.fieldsets = [
      h("fieldset", {},
        h("legend", {}, "Data"),
        f("dataset_id", "Dataset", this.dataset),
        this.devField,
        f("split.test", "Test split", this.testSplit),
        f("seed", "Seed", this.seed),
        this.checkField("standardize", "Standardize the features", this.standardize)),
      h("fieldset", {},
        h("legend", {}, "Model"),
        f("model.type", "Model", this.modelType),
        this.linearOnly,
        this.mlpOnly,
        f("loss", "Loss", this.loss)),
      h("fieldset", {},
        h("legend", {}, "Optimizer"),
        f("optimizer.type", "Optimizer", this.optimizer),
        this.descentOnly.slice(0, 1),
        this.batchedOnly,
        this.momentumOnly,
        this.descentOnly.slice(1),
        this.gridOnly),
    ];
    this.sync();
  }

  field(path, label, el, hint) {
    if (el.type === "checkbox") return this.checkField(path, label, el);
    const wrap = h("div", { class: "field", "data-field": path }, h("label", { for: el.id }, label), el);
    if (hint) {
      const id = `${el.id}-hint`;
      wrap.append(h("p", { class: "hint", id }, hint));
      el.setAttribute("aria-describedby", id);
    }
    this.fields.set(path, wrap);
    return wrap;
  }

  checkField(path, label, el) {
    const wrap = h("div", { class: "field check", "data-field": path }, el, h("label", { for: el.id }, label));
    this.fields.set(path, wrap);
    return wrap;
  }

  /** Show only the fields that apply to the chosen model and optimizer. */
  sync() {
    const type = this.optimizer.value;
    const mlp = this.modelType.value === "mlp";
    this.linearOnly.hidden = mlp;
    for (const el of this.mlpOnly) el.hidden = !mlp;
    for (const el of this.descentOnly) el.hidden = type === "exhaustive";
    this.batchedOnly.hidden = !BATCHED.has(type);
    this.momentumOnly.hidden = type !== "momentum";
    this.gridOnly.hidden = type !== "exhaustive";
    this.bRanges.hidden = !this.grid.searchB.checked;
    this.lr.placeholder = type === "adam" ? "0.001" : "0.01";
  }

  /** The datasets in the select (and a job's config in the fields, given `fromJob`). */
  async load(datasetId, fromJob) {
    try {
      const [{ datasets }, job] = await Promise.all([
        api.get("/v1/datasets?limit=500", { signal: this.signal }),
        fromJob ? api.get(`/v1/jobs/${encodeURIComponent(fromJob)}`, { signal: this.signal }) : null,
      ]);
      fill(this.dataset,
        h("option", { value: "" }, datasets.length ? "Choose a dataset" : "No dataset: upload one first"),
        datasets.map((ds) => h("option", { value: ds.id }, `${ds.name} — ${ds.rows} × ${ds.features}, target ${ds.target_name}`)));
      if (job) this.prefill(job.config);
      const wanted = datasetId || job?.dataset_id;
      if (wanted && datasets.some((d) => d.id === wanted)) this.dataset.value = wanted;
      else if (datasets.length === 1) this.dataset.value = datasets[0].id;
      this.sync();
      return job;
    } catch (err) {
      showError(err);
      return null;
    }
  }

  /** Fill the fields from a job's config ("train again with changes"). */
  prefill(config) {
    const set = (el, v) => { if (v != null) el.value = String(v); };
    this.modelType.value = config.model.type;
    this.bias.checked = config.model.bias !== false;
    if (config.model.hidden) this.hidden.value = config.model.hidden.join(", ");
    set(this.activation, config.model.activation);
    set(this.loss, config.loss);
    const opt = config.optimizer;
    set(this.optimizer, opt.type);
    set(this.lr, opt.lr);
    set(this.batchSize, opt.batch_size);
    set(this.momentum, opt.momentum);
    if (opt.grid) {
      const w = Array.isArray(opt.grid.w) ? opt.grid.w[0] : opt.grid.w;
      set(this.grid.wMin, w.min); set(this.grid.wMax, w.max); set(this.grid.wSteps, w.steps);
      this.grid.searchB.checked = Boolean(opt.grid.b);
      if (opt.grid.b) { set(this.grid.bMin, opt.grid.b.min); set(this.grid.bMax, opt.grid.b.max); set(this.grid.bSteps, opt.grid.b.steps); }
    }
    set(this.epochs, config.epochs);
    set(this.tolerance, config.tolerance);
    set(this.devSplit, config.split?.dev);
    set(this.testSplit, config.split?.test);
    set(this.seed, config.seed);
    this.standardize.checked = config.standardize !== false;
    this.patience.value = config.early_stopping ? String(config.early_stopping.patience) : "";
  }

  /** The job request: only what the user set, numbers where they parse (else the text as typed,
   * which the API then names in its errors). */
  body() {
    const type = this.optimizer.value;
    const body = { dataset_id: this.dataset.value || undefined, loss: this.loss.value };
    body.model = this.modelType.value === "mlp"
      ? { type: "mlp", hidden: this.hidden.value.split(/[\s,]+/).filter(Boolean).map(number), activation: this.activation.value }
      : { type: "linear", bias: this.bias.checked };
    const optimizer = { type };
    if (type === "exhaustive") {
      const range = (a, b, c) => ({ min: number(a.value), max: number(b.value), steps: number(c.value) });
      optimizer.grid = { w: range(this.grid.wMin, this.grid.wMax, this.grid.wSteps) };
      if (this.grid.searchB.checked) optimizer.grid.b = range(this.grid.bMin, this.grid.bMax, this.grid.bSteps);
    } else {
      const lr = this.lr.value.trim();
      if (lr) optimizer.lr = lr.toLowerCase() === "auto" ? "auto" : number(lr);
      if (BATCHED.has(type)) optimizer.batch_size = number(this.batchSize.value);
      if (type === "momentum") optimizer.momentum = number(this.momentum.value);
      body.epochs = number(this.epochs.value);
      body.tolerance = number(this.tolerance.value);
      const patience = number(this.patience.value);
      if (patience !== undefined) body.early_stopping = { patience };
    }
    body.optimizer = optimizer;
    body.split = { dev: this.devField.hidden ? 0 : number(this.devSplit.value) ?? 0, test: number(this.testSplit.value) ?? 0 };
    body.seed = number(this.seed.value);
    body.standardize = this.standardize.checked;
    return JSON.parse(JSON.stringify(body)); // drops the undefined (left to the API's defaults)
  }

  /** The visible field wrapper for a dotted error path of a job request. */
  fieldFor(path) {
    return longestPrefix(this.fields, path);
  }
}

export function fieldId(path) {
  return `f-${path.replace(/[^a-z0-9]+/gi, "-")}`;
}

/** "0.1" → 0.1, "" → undefined, anything else → the text itself (for the API to reject by name). */
export function number(text) {
  const t = String(text ?? "").trim();
  if (!t) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}
