"""GET /v1/jobs/{id}/events: Server-Sent Events for live views (`progress`, `point`, `end`).

The stream polls the store a few times a second and sends only what changed: a `progress` event
with the job (status, progress, metrics) when it changes, a `point` event with the history points
that are new (the same shape as /history, so a client can append), and an `end` event once the job
has ended and every point was sent. Event ids are the history's `next` step: a client that
reconnects with Last-Event-ID (or ?after=) continues where it left off. A stream closes after
DESCENT_SSE_SECONDS (60) so it never holds a server thread for long; EventSource reconnects by itself.
A process serves at most DESCENT_MAX_SSE_STREAMS (4) streams at once: each holds one of its threads,
and a stream more is a 503 with Retry-After rather than a process with no thread left for polls.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request, stream_with_context

from descent.settings import Settings

from . import context
from .openapi import parts as apidoc
from .problems import Problem

bp = Blueprint("events", __name__, url_prefix="/v1/jobs")

POLL_SECONDS = 0.25
RETRY_AFTER_SECONDS = 2
"""What a client told there is no free stream should wait (about a stream's poll or two)."""


def init_app(app: Flask) -> None:
    """The process's stream slots (created before gunicorn forks, so each process has its own)."""
    app.extensions["descent.sse_slots"] = threading.BoundedSemaphore(app.config["SETTINGS"].max_sse_streams)


def _event(name: str, data: object, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@bp.get("/<job_id>/events")
def events(job_id: str) -> Response:
    tenant = context.tenant()
    store = context.store()
    if store.jobs.get(tenant, job_id) is None:
        raise context.not_found("job", job_id)
    after = context.int_arg("after", 0, 0)  # a bad query parameter is the client's error: a 400
    resumed = request.headers.get("Last-Event-ID")
    if resumed is not None:  # set by a browser's EventSource on reconnect: taken as it comes
        try:
            after = max(0, int(resumed))
        except ValueError:
            after = 0
    page_size = context.settings().history_page_size
    slots: threading.BoundedSemaphore = current_app.extensions["descent.sse_slots"]
    if not slots.acquire(blocking=False):
        raise Problem(
            503,
            "Service Unavailable",
            f"This API process already serves {context.settings().max_sse_streams} event streams "
            "(DESCENT_MAX_SSE_STREAMS); retry after Retry-After seconds, or poll GET /v1/jobs/{id} "
            "and /history meanwhile.",
            slug="too-many-streams",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    def stream(after: int) -> Iterator[str]:
        yield "retry: 1000\n\n"
        last_state = None
        deadline = time.monotonic() + context.settings().sse_seconds
        while time.monotonic() < deadline:
            job = store.jobs.get(tenant, job_id)
            if job is None:
                yield _event("end", {"status": "deleted"})
                return
            state = {k: job[k] for k in ("id", "status", "progress", "metrics", "result", "error", "attempt")}
            if state != last_state:
                yield _event("progress", state)
                last_state = state
            page = store.history.read(job_id, after, page_size)
            if page is not None and (page["train"]["step"] or page["dev"]["step"]):
                after = page["next"]
                yield _event("point", page, after)
                continue  # more may be waiting: read again before sleeping
            if page is not None and page["complete"]:
                yield _event("end", {"status": job["status"], "next": after}, after)
                return
            time.sleep(POLL_SECONDS)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    response = Response(stream_with_context(stream(after)), mimetype="text/event-stream", headers=headers)
    response.call_on_close(slots.release)  # when the stream ends or its client goes away
    return response


_EVENT = {
    "type": "object",
    "description": "one event (OpenAPI 3.2 calls this an itemSchema): `data` is JSON text",
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "enum": ["progress", "point", "end"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
        "id": {"type": "string"},
        "retry": {"type": "integer"},
    },
}
"""The shape of each event of the stream, which schemathesis checks event by event."""


@apidoc.documents("/v1/jobs/{job_id}/events", "get")
def _events_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "jobEvents",
        "summary": "Server-Sent Events of a job: progress, point, end",
        "description": "`progress` carries the job's status, progress, metrics, result and error when "
        "they change; `point` a /history page of new points (its id is `next`); `end` once the job has "
        "ended and every point was sent. A stream lasts at most DESCENT_SSE_SECONDS; reconnect with "
        "Last-Event-ID (or `after`) to continue. An API process serves at most DESCENT_MAX_SSE_STREAMS "
        "streams at once; one more is a 503 with Retry-After.",
        "parameters": [
            apidoc.param(
                "after", "query", {"type": "integer", "minimum": 0}, "send points with step > after"
            ),
            apidoc.param("Last-Event-ID", "header", {"type": "string"}, "the last event id seen"),
        ],
        "responses": apidoc.responses(
            {
                "200": {
                    "description": "an event stream",
                    "content": {"text/event-stream": {"schema": _EVENT}},
                }
            },
            {"404": "unknown, or not yours"},
        ),
    }
