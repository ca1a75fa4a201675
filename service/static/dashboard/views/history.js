// A job's loss history read from GET /v1/jobs/{id}/history page by page (`after` = the last page's
// `next`), and written out as CSV in the browser.

import { api } from "../api.js";

/** An empty history; `lr` is filled when the API's train points carry a learning rate. */
export function emptyHistory() {
  return { next: 0, complete: false, train: { step: [], epoch: [], loss: [], smoothed: [], lr: [] }, dev: { step: [], epoch: [], loss: [] } };
}

/** Read what is new since `hist.next` (up to `pages` pages) into `hist`; true when points came. */
export async function readMore(jobId, hist, signal, pages = 50) {
  let moved = false;
  for (let n = 0; n < pages && !hist.complete; n++) {
    const page = await api.get(`/v1/jobs/${encodeURIComponent(jobId)}/history?after=${hist.next}`, { signal });
    for (const key of ["step", "epoch", "loss", "smoothed"]) push(hist.train[key], page.train[key]);
    if (Array.isArray(page.train.lr)) push(hist.train.lr, page.train.lr);
    for (const key of ["step", "epoch", "loss"]) push(hist.dev[key], page.dev[key]);
    const step = page.next !== hist.next;
    moved ||= step || page.train.step.length > 0;
    hist.next = page.next;
    hist.complete = page.complete;
    if (!step) break;
  }
  return moved;
}

/** Every point of a job (of an ended one: its whole history). */
export async function fullHistory(jobId, signal) {
  const hist = emptyHistory();
  while (!hist.complete) {
    const before = hist.next;
    await readMore(jobId, hist, signal, 1000);
    if (hist.next === before) break; // a running job: what there is so far
  }
  return hist;
}

/** One CSV line per point, in step order (a train point before the dev point of the same step):
 * `series,step,epoch,loss,smoothed` (and `lr` when the history has it). Numbers are written as
 * JavaScript writes them: the shortest text that reads back as the same double. */
export function historyCsv(hist) {
  const withLr = hist.train.lr.length === hist.train.step.length && hist.train.lr.length > 0;
  const rows = [];
  const t = hist.train;
  for (let i = 0; i < t.step.length; i++) {
    rows.push([t.step[i], 0, ["train", t.step[i], t.epoch[i], t.loss[i], t.smoothed[i], ...(withLr ? [t.lr[i]] : [])]]);
  }
  const d = hist.dev;
  for (let i = 0; i < d.step.length; i++) rows.push([d.step[i], 1, ["dev", d.step[i], d.epoch[i], d.loss[i], "", ...(withLr ? [""] : [])]]);
  rows.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const header = ["series", "step", "epoch", "loss", "smoothed", ...(withLr ? ["lr"] : [])];
  return [header, ...rows.map((r) => r[2])].map((cells) => cells.map(cell).join(",")).join("\n") + "\n";
}

function cell(v) {
  return v == null ? "" : String(v);
}

/** Read a job's whole history and hand it to the browser as `{job}-history.csv`. */
export async function downloadHistory(jobId, signal) {
  const hist = await fullHistory(jobId, signal);
  const blob = new Blob([historyCsv(hist)], { type: "text/csv" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = `${jobId}-history.csv`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return hist;
}

function push(target, values) {
  for (const v of values) target.push(v);
}
