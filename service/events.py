"""GET /v1/jobs/{id}/events: Server-Sent Events for live views (`progress`, `point`, `end`).

The stream polls the store a few times a second and sends only what changed: a `progress` event
with the job (status, progress, metrics) when it changes, a `point` event with the history points
that are new (the same shape as /history, so a client can append), and an `end` event once the job
has ended and every point was sent. Event ids are the history's `next` step: a client that
reconnects with Last-Event-ID (or ?after=) continues where it left off. A stream closes after
DESCENT_SSE_SECONDS (60) so it never holds a server thread for long; EventSource reconnects by itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from flask import Blueprint, Response, request, stream_with_context

from . import context

bp = Blueprint("events", __name__, url_prefix="/v1/jobs")

POLL_SECONDS = 0.25


def _event(name: str, data: object, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@bp.get("/<job_id>/events")
def events(job_id: str) -> Response:
    tenant = context.tenant()
    store = context.store()
    if store.jobs.get(tenant, job_id) is None:
        raise context.not_found("job", job_id)
    start = request.headers.get("Last-Event-ID") or request.args.get("after") or "0"
    try:
        after = max(0, int(start))
    except ValueError:
        after = 0
    page_size = context.settings().history_page_size

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
    return Response(stream_with_context(stream(after)), mimetype="text/event-stream", headers=headers)
