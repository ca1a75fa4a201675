// The HTTP client: every /v1 call carries the API key kept in localStorage; errors arrive as
// application/problem+json and become ApiError with the problem's `detail` and `errors`.

import { idempotencyKey, sleep } from "./util.js";

const KEY_STORAGE = "descent.apiKey";

export function getKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return ""; // storage disabled: the key then lives for this page only
  }
}

export function setKey(key) {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    /* ignored: see getKey */
  }
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

const unauthorizedListeners = new Set();

/** `fn(error)` runs whenever the server answers 401 (no key, or a wrong one). */
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
}

function headers(extra) {
  const result = new Headers(extra);
  const key = getKey();
  if (key) result.set("Authorization", `Bearer ${key}`);
  return result;
}

async function failure(res) {
  let problem;
  try {
    problem = await res.json();
  } catch {
    problem = { title: res.statusText, detail: `The server answered ${res.status} ${res.statusText}.` };
  }
  const err = new ApiError(res.status, problem);
  if (res.status === 401) for (const fn of unauthorizedListeners) fn(err);
  return err;
}

/** One request; resolves to the parsed JSON body (null for 204), rejects with ApiError. */
export async function request(method, path, { json, body, signal, idempotent = false } = {}) {
  const init = { method, headers: headers({ Accept: "application/json" }), signal };
  if (json !== undefined) {
    init.headers.set("Content-Type", "application/json");
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body; // FormData: the browser sets the multipart boundary itself
  }
  if (idempotent) init.headers.set("Idempotency-Key", idempotencyKey());
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, { title: "Network error", detail: "The server did not answer. Is it running?" });
  }
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return null;
  return res.json();
}

export const api = {
  get: (path, opts) => request("GET", path, opts),
  post: (path, json, opts) => request("POST", path, { json, ...opts }),
  upload: (path, formData, opts) => request("POST", path, { body: formData, idempotent: true, ...opts }),
  del: (path, opts) => request("DELETE", path, opts),
};

/** Parse one Server-Sent Events block ("id: 3\nevent: point\ndata: {...}") into {id, event, data}. */
function parseEvent(block) {
  const event = { id: null, event: "message", data: [], retry: null };
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") event.data.push(value);
    else if (field === "event") event.event = value;
    else if (field === "id") event.id = value;
    else if (field === "retry" && /^\d+$/.test(value)) event.retry = Number(value);
  }
  event.data = event.data.length ? JSON.parse(event.data.join("\n")) : null;
  return event;
}

/**
 * Follow GET /v1/jobs/{id}/events until its `end` event, calling onEvent({event, data, id}).
 *
 * fetch() and a ReadableStream rather than EventSource, which cannot send the Authorization
 * header. The server closes a stream after a while; we reconnect with ?after= the last event id,
 * so no point is lost or repeated. Resolves on `end` or when `signal` aborts.
 */
export async function followEvents(jobId, { after = 0, signal, onEvent }) {
  let last = after;
  let retry = 1000;
  while (!signal.aborted) {
    let res;
    try {
      res = await fetch(`/v1/jobs/${encodeURIComponent(jobId)}/events?after=${last}`, {
        headers: headers({ Accept: "text/event-stream" }),
        signal,
        cache: "no-store",
      });
    } catch (err) {
      if (signal.aborted) return;
      await sleep(retry, signal); // the server went away: try again
      continue;
    }
    if (!res.ok) {
      const err = await failure(res);
      if (res.status >= 500 || res.status === 0) {
        await sleep(retry, signal);
        continue;
      }
      if (res.status === 429) {
        // over the tenant's request rate: the answer says when to come back
        await sleep(Math.max(retry, 1000 * (Number(res.headers.get("Retry-After")) || 1)), signal);
        continue;
      }
      throw err;
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, "\n");
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const event = parseEvent(block);
          if (event.retry != null) retry = event.retry;
          if (event.id != null && /^\d+$/.test(event.id)) last = Number(event.id);
          if (event.data == null) continue;
          onEvent(event);
          if (event.event === "end") {
            reader.cancel().catch(() => {});
            return;
          }
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      // a broken connection: reconnect below
    }
    await sleep(retry, signal);
  }
}
