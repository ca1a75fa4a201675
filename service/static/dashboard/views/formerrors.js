// A form's problem+json errors: every one in a summary at the top, and each next to the field its
// dotted path names (`optimizer.lr`, `grid.optimizer.lr`, `base.epochs`, …). Shared by the job
// form and the sweep form.

import { fill, h } from "../util.js";

/** Remove every error shown in `root` and empty its `summary`. */
export function clearErrors(root, summary) {
  summary.replaceChildren();
  for (const el of root.querySelectorAll(".field-error")) el.remove();
  for (const el of root.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    const described = (el.getAttribute("aria-describedby") || "").split(" ").filter((id) => !id.endsWith("-error"));
    if (described.length) el.setAttribute("aria-describedby", described.join(" "));
    else el.removeAttribute("aria-describedby");
  }
  for (const el of root.querySelectorAll(".has-error")) el.classList.remove("has-error");
}

/**
 * Show an ApiError's `errors` (or its message alone): a summary headed `what` ("The job was not
 * started"), and each error under the wrapper `fieldFor(path)` returns (a `.field` element with
 * `data-field`; null: the summary only). The control of a wrapper whose path is the error's own is
 * marked aria-invalid and described by the message.
 */
export function showErrors(root, summary, err, fieldFor, what) {
  clearErrors(root, summary);
  const items = err.errors.length ? err.errors : [{ field: "", message: err.message }];
  fill(summary,
    h("p", { class: "summary-title" }, err.errors.length ? `${what}: ${err.message}` : `${what}.`),
    h("ul", {}, items.map((e) => h("li", {}, e.field ? [h("code", {}, e.field), ": "] : null, e.message))));
  items.forEach((e, n) => {
    const wrap = fieldFor(e.field);
    if (!wrap) return;
    const id = `error-${n}-error`;
    wrap.classList.add("has-error");
    wrap.append(h("p", { class: "field-error", id, "data-error-for": e.field }, e.message));
    const control = wrap.querySelector("input, select, textarea");
    if (control && wrap.dataset.own === "1") {
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", [control.getAttribute("aria-describedby"), id].filter(Boolean).join(" "));
    }
  });
  summary.focus();
}

/** The visible wrapper registered in `fields` (path → element) for a dotted error path: the
 * longest registered prefix ("optimizer.grid.w.0.min" → "optimizer.grid.w"). Marks the wrapper's
 * `data-own` "1" when the path is the wrapper's own field (not one inside it). */
export function longestPrefix(fields, path) {
  if (!path) return null;
  const norm = path.replace(/\[(\d+)\]/g, ".$1");
  let best = null;
  for (const [key, wrap] of fields) {
    if ((norm === key || norm.startsWith(`${key}.`)) && (!best || key.length > best[0].length) && !isHidden(wrap)) {
      best = [key, wrap];
    }
  }
  if (!best) return null;
  best[1].dataset.own = best[0] === norm ? "1" : "";
  return best[1];
}

export function isHidden(el) {
  for (let node = el; node; node = node.parentElement) if (node.hidden) return true;
  return false;
}
