// The dashboard's entry point: hash routes → views, and the API-key box.

import { getKey, onUnauthorized, setKey } from "./api.js";
import { notice, routeChanged } from "./ui.js";
import { h } from "./util.js";
import { compareView } from "./views/compare.js";
import { datasetView } from "./views/dataset.js";
import { datasetsView } from "./views/datasets.js";
import { jobView } from "./views/job.js";
import { jobFormView } from "./views/jobform.js";
import { jobsView } from "./views/jobs.js";
import { sweepView } from "./views/sweep.js";
import { sweepFormView } from "./views/sweepform.js";
import { sweepsView } from "./views/sweeps.js";

const ROUTES = [
  { path: /^\/?$/, view: datasetsView, nav: "datasets", title: "Datasets" },
  { path: /^\/datasets$/, view: datasetsView, nav: "datasets", title: "Datasets" },
  { path: /^\/datasets\/([^/]+)$/, view: datasetView, nav: "datasets", title: "Dataset" },
  { path: /^\/new$/, view: jobFormView, nav: "new", title: "New job" },
  { path: /^\/jobs$/, view: jobsView, nav: "jobs", title: "Jobs" },
  { path: /^\/jobs\/([^/]+)$/, view: jobView, nav: "jobs", title: "Job" },
  { path: /^\/compare$/, view: compareView, nav: "jobs", title: "Compare jobs" },
  { path: /^\/sweeps$/, view: sweepsView, nav: "sweeps", title: "Sweeps" },
  { path: /^\/sweeps\/new$/, view: sweepFormView, nav: "sweeps", title: "New sweep" },
  { path: /^\/sweeps\/([^/]+)$/, view: sweepView, nav: "sweeps", title: "Sweep" },
];

let current = null; // the AbortController of the view on screen: aborting it stops its polls and streams

function route() {
  const [path, search] = (location.hash.replace(/^#/, "") || "/").split("?");
  current?.abort();
  current = new AbortController();
  routeChanged();
  const main = document.getElementById("main");
  main.replaceChildren();
  const match = ROUTES.map((r) => [r, path.match(r.path)]).find(([, m]) => m);
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (match && link.dataset.nav === match[0].nav) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (!match) {
    document.title = "Not found · descent";
    main.append(h("h1", { tabindex: "-1" }, "Not found"), h("p", {}, "No such page. ", h("a", { href: "#/" }, "Back to the datasets.")));
    return;
  }
  const [r, m] = match;
  document.title = `${r.title} · descent`;
  const params = m.slice(1).map(decodeURIComponent);
  r.view(main, { params, query: new URLSearchParams(search || ""), signal: current.signal });
  if (route.moved) main.querySelector("h1")?.focus({ preventScroll: true });
  route.moved = true;
}

// --- the API key box ---------------------------------------------------------------------------
const panel = document.getElementById("key-panel");
const toggle = document.getElementById("key-button");
const input = document.getElementById("api-key");
const message = document.getElementById("key-message");

function keyState() {
  toggle.textContent = getKey() ? "API key ✓" : "API key";
  toggle.title = getKey() ? "An API key is saved in this browser" : "No API key saved";
}

function openKeyBox(text) {
  message.textContent = text || (getKey() ? "A key is saved in this browser." : "No key saved: the server may not need one.");
  panel.hidden = false;
  toggle.setAttribute("aria-expanded", "true");
  input.value = getKey();
  input.focus();
}

function closeKeyBox() {
  panel.hidden = true;
  toggle.setAttribute("aria-expanded", "false");
}

toggle.addEventListener("click", () => (panel.hidden ? openKeyBox() : closeKeyBox()));
document.getElementById("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setKey(input.value.trim());
  keyState();
  closeKeyBox();
  notice(getKey() ? "API key saved in this browser." : "API key removed.", "success", { keep: true });
  route();
});
document.getElementById("key-forget").addEventListener("click", () => {
  input.value = "";
  setKey("");
  keyState();
  closeKeyBox();
  notice("API key removed from this browser.", "success", { keep: true });
  route();
});
document.getElementById("key-close").addEventListener("click", closeKeyBox);

onUnauthorized((err) => {
  openKeyBox(getKey()
    ? `The server refused the saved key (${err.message}) Enter another one.`
    : "This server needs an API key. Enter yours; it is kept in this browser only.");
});

keyState();
window.addEventListener("hashchange", route);
route();
