// A finished job's result: outcome, the flat numbers, the evaluation metrics of each split
// (`result.metrics`: train, dev, test; confusion matrices for classifiers) and the parameters.

import { h, num } from "../util.js";

const KNOWN = [
  ["train_loss", "train loss"], ["dev_loss", "dev loss"], ["test_loss", "test loss"],
  ["r2", "R² (train)"], ["dev_r2", "R² (dev)"], ["test_r2", "R² (test)"],
  ["accuracy", "accuracy (train)"], ["dev_accuracy", "accuracy (dev)"], ["test_accuracy", "accuracy (test)"],
  ["epochs_run", "epochs run"], ["steps", "steps"],
];
const SPLITS = ["train", "dev", "test"];
const METRIC_NAMES = { r2: "R²", roc_auc: "ROC AUC", log_loss: "log loss", macro_f1: "macro F1", f1: "F1", mse: "MSE", rmse: "RMSE", mae: "MAE" };

export function resultView(r) {
  const skip = new Set(["outcome", "params", "seconds", ...KNOWN.map(([k]) => k)]);
  const rows = [...KNOWN, ...Object.keys(r).filter((k) => !skip.has(k) && typeof r[k] === "number").map((k) => [k, k.replace(/_/g, " ")])]
    .filter(([k]) => r[k] != null);
  return [
    h("p", {}, h("span", { class: `badge outcome outcome-${r.outcome}`, id: "outcome" }, r.outcome)),
    h("dl", { class: "facts", id: "result-facts" }, rows.map(([k, label]) => [h("dt", {}, label), h("dd", { class: "num", "data-key": k }, num(r[k]))])),
    metricsView(r.metrics, r.classes),
    h("h3", {}, "Parameters"),
    paramsView(r.params),
  ];
}

/** The metrics of each split that has them, one column per split; confusion matrices below. */
export function metricsView(metrics, classes) {
  if (!metrics || typeof metrics !== "object") return null;
  const splits = SPLITS.filter((s) => metrics[s] && typeof metrics[s] === "object");
  if (!splits.length) return null;
  const names = [];
  for (const s of splits) {
    for (const [k, v] of Object.entries(metrics[s])) if (!names.includes(k) && (typeof v === "number" || v === null)) names.push(k);
  }
  const matrices = splits.filter((s) => Array.isArray(metrics[s].confusion_matrix));
  return h("div", { class: "split-metrics" },
    h("h3", {}, "Evaluation"),
    h("table", { class: "data compact", id: "split-metrics" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "metric"), splits.map((s) => h("th", { scope: "col", class: "num" }, s)))),
      h("tbody", {}, names.map((k) => h("tr", { "data-metric": k },
        h("th", { scope: "row" }, METRIC_NAMES[k] || k.replace(/_/g, " ")),
        splits.map((s) => h("td", { class: "num", "data-split": s }, num(metrics[s][k]))))))),
    matrices.map((s) => confusion(s, metrics[s].confusion_matrix, classes)));
}

function confusion(split, matrix, classes) {
  const labels = Array.isArray(classes) && classes.length === matrix.length ? classes.map(String) : matrix.map((_, i) => String(i));
  return h("details", { class: "confusion", "data-split": split },
    h("summary", {}, `Confusion matrix (${split})`),
    h("table", { class: "data compact confusion-matrix" },
      h("caption", { class: "small muted" }, "rows: true class · columns: predicted class"),
      h("thead", {}, h("tr", {}, h("td", {}), labels.map((l) => h("th", { scope: "col", class: "num" }, l)))),
      h("tbody", {}, matrix.map((row, i) => h("tr", {},
        h("th", { scope: "row" }, labels[i]),
        row.map((n, j) => h("td", { class: `num${i === j ? " diagonal" : ""}` }, String(n))))))));
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

function vector(values) {
  return Array.isArray(values) ? `[${values.map((v) => (Array.isArray(v) ? vector(v) : num(v))).join(", ")}]` : num(values);
}

function paramsView(params) {
  if (!params) return h("p", { class: "muted" }, "—");
  if (Array.isArray(params)) {
    return h("div", {},
      h("ul", { class: "plain" }, params.map((layer, i) =>
        h("li", {}, `layer ${i + 1}: ${layer.weight.length} × ${layer.weight[0]?.length ?? 0} weights, ${plural(layer.bias.length, "bias", "biases")}`))),
      h("details", {}, h("summary", {}, "All parameters (JSON)"), h("pre", { class: "json" }, JSON.stringify(params, null, 1))));
  }
  const names = params.feature_names;
  if (names && names.length === params.weights.length && !Array.isArray(params.weights[0])) {
    // one weight per encoded feature, by name (`Sex=female`, `Age_missing`, `date.month`)
    return h("dl", { class: "facts", id: "params" },
      names.map((name, i) => [h("dt", { class: "mono" }, name), h("dd", { class: "num" }, num(params.weights[i]))]),
      h("dt", {}, "bias"), h("dd", { class: "num" }, vector(params.bias)));
  }
  return h("dl", { class: "facts", id: "params" },
    h("dt", {}, "w"), h("dd", { class: "num" }, vector(params.weights)),
    h("dt", {}, "b"), h("dd", { class: "num" }, vector(params.bias)));
}
