// The sweep form's editable rows: a grid row (a dotted path and its values) and a search-space row
// (a path and a range, a log range or choices), and the one way both read a list of values.

import { h } from "../util.js";
import { number } from "./jobfields.js";

/** Override paths a sweep commonly varies (offered as suggestions; any dotted path is allowed). */
export const PATHS = [
  "optimizer.lr", "optimizer.batch_size", "optimizer.type", "optimizer.momentum", "model.hidden", "model.activation",
  "model.type", "loss", "epochs", "seed", "data.train_fraction", "split.dev", "early_stopping.patience", "standardize",
];

/**
 * A list of values as typed: JSON values separated by commas ("0.001, 0.01", "[16, 16], [32]",
 * "true, false"); words that are not JSON are strings ("gd, sgd"). The command line's `--grid`
 * reads values the same way.
 */
export function parseValues(text) {
  const t = String(text ?? "").trim();
  if (!t) return [];
  try {
    return JSON.parse(`[${t}]`);
  } catch {
    return splitTopLevel(t).map((part) => {
      const s = part.trim();
      try {
        return JSON.parse(s);
      } catch {
        return s;
      }
    });
  }
}

/** "a, [1, 2], {"b": 3}" → ["a", " [1, 2]", " {"b": 3}"]: commas inside brackets or quotes stay. */
function splitTopLevel(text) {
  const parts = [];
  let depth = 0;
  let quote = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === '"') quote = false;
    } else if (c === '"') quote = true;
    else if (c === "[" || c === "{") depth++;
    else if (c === "]" || c === "}") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.filter((p) => p.trim());
}

let rowCount = 0;

function removeButton(row, what, onRemove) {
  return h("button", {
    type: "button", class: "small secondary", "aria-label": `Remove this ${what}`,
    onclick: () => { row.remove(); onRemove?.(); },
  }, "Remove");
}

/** A grid row: `path` ∈ values. `.value()` → [path, values]; its element's data-field is set by
 * the form to `grid.<path>` when it sends, so an error on that path lands here. */
export function gridRow(path = "", values = "", onRemove) {
  const n = rowCount++;
  const pathInput = h("input", { id: `grid-path-${n}`, class: "row-path", type: "text", value: path, list: "sweep-paths", autocomplete: "off", spellcheck: "false", placeholder: "optimizer.lr" });
  const valuesInput = h("input", { id: `grid-values-${n}`, class: "row-values", type: "text", value: values, autocomplete: "off", spellcheck: "false", placeholder: "0.001, 0.01, 0.1" });
  const row = h("div", { class: "field sweep-row grid-row" },
    h("div", { class: "row-inputs" },
      h("div", { class: "row-cell" }, h("label", { for: pathInput.id }, "Path"), pathInput),
      h("div", { class: "row-cell wide" }, h("label", { for: valuesInput.id }, "Values"), valuesInput)));
  row.querySelector(".row-inputs").append(removeButton(row, "grid row", onRemove));
  row.value = () => [pathInput.value.trim(), parseValues(valuesInput.value)];
  return row;
}

const KINDS = [["range", "range"], ["log", "log range"], ["choices", "choices"]];

/** A search-space row: a path and {low, high[, step]}, {low, high, log: true} or {choices}. */
export function spaceRow(path = "", spec = { low: "", high: "" }, onRemove) {
  const n = rowCount++;
  const kind0 = spec.choices ? "choices" : spec.log ? "log" : "range";
  const id = (what) => `space-${what}-${n}`;
  const input = (what, value, props = {}) => h("input", { id: id(what), class: `row-${what}`, type: "text", value: value ?? "", autocomplete: "off", spellcheck: "false", ...props });
  const pathInput = input("path", path, { list: "sweep-paths", placeholder: "optimizer.lr" });
  const kind = h("select", { id: id("kind"), class: "row-kind", value: kind0 }, KINDS.map(([v, label]) => h("option", { value: v }, label)));
  const low = input("low", spec.low, { inputmode: "decimal" });
  const high = input("high", spec.high, { inputmode: "decimal" });
  const step = input("step", spec.step, { inputmode: "decimal", placeholder: "none" });
  const choices = input("choices", spec.choices ? spec.choices.map((c) => JSON.stringify(c)).join(", ") : "", { placeholder: "[16], [32, 32]" });
  const cell = (what, label, el) => h("div", { class: `field row-cell cell-${what}`, "data-part": what }, h("label", { for: el.id }, label), el);
  const cells = { low: cell("low", "Low", low), high: cell("high", "High", high), step: cell("step", "Step", step), choices: cell("choices", "Choices", choices) };
  const row = h("div", { class: "field sweep-row space-row" },
    h("div", { class: "row-inputs" },
      cell("path", "Path", pathInput), cell("kind", "Kind", kind), cells.low, cells.high, cells.step, cells.choices));
  row.querySelector(".row-inputs").append(removeButton(row, "search dimension", onRemove));
  const sync = () => {
    const k = kind.value;
    cells.low.hidden = cells.high.hidden = k === "choices";
    cells.step.hidden = k !== "range";
    cells.choices.hidden = k !== "choices";
  };
  kind.addEventListener("change", sync);
  sync();
  row.parts = cells; // the form puts an error on `space.<path>.low` next to the low cell
  row.value = () => {
    const k = kind.value;
    if (k === "choices") return [pathInput.value.trim(), { choices: parseValues(choices.value) }];
    const out = { low: number(low.value), high: number(high.value) };
    if (k === "log") out.log = true;
    else if (number(step.value) !== undefined) out.step = number(step.value);
    return [pathInput.value.trim(), out];
  };
  return row;
}
