// Page-wide messages: one notice area under the header, read out by screen readers.

import { fill, h } from "./util.js";

function region() {
  return document.getElementById("notice");
}

export function clearNotice() {
  region().replaceChildren();
}

/** On a route change: clear the notice, unless it was shown just before navigating (`keep`). */
export function routeChanged() {
  const box = region();
  if (box.dataset.keep) delete box.dataset.keep;
  else box.replaceChildren();
}

/** Show `text` (a string or nodes); kind is "info", "success" or "error". `keep`: survive the
 * next route change (a message about what led there). */
export function notice(text, kind = "info", { keep = false } = {}) {
  if (keep) region().dataset.keep = "1";
  fill(
    region(),
    h(
      "div",
      { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status" },
      h("div", { class: "notice-text" }, text),
      h("button", { type: "button", class: "icon-button", "aria-label": "Dismiss", onclick: clearNotice }, "×"),
    ),
  );
}

/** An API failure as a notice; a 401 is left to the API-key box, an aborted request to nobody. */
export function showError(err) {
  if (!err || err.name === "AbortError" || err.status === 401) return;
  console.warn(err);
  notice(err.message || String(err), "error");
}

/** A page's heading (focusable, so a route change can move focus to it). */
export function heading(text, ...extra) {
  return h("h1", { tabindex: "-1" }, text, ...extra);
}
