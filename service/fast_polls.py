"""The two requests a live view repeats many times a second, answered without Flask's machinery.

A dashboard or a client following a job asks GET /v1/jobs/{id} (maybe with ?wait=, which holds
the answer until the job ends: service/job_waits.py) and GET /v1/jobs/{id}/history?after=N over
and over. Through Flask each costs about four times its Redis read in Python (request
context, URL matching, four hooks, a Response object); with two hundred pollers that overhead, not
Redis, is what fills the CPU. This WSGI middleware answers exactly those two requests when they
succeed — the same store call, the same JSON bytes, the same latency metric — and hands everything
else to Flask untouched: another route, method or query, a missing or foreign job, a bad key, a
Redis error. So every error, and every rule about what is an error, stays in one place (the
views), and tests compare the two paths byte for byte. The tenant's limits were applied before
(service/door.py, in front of this layer), which also left the tenant it found in the environ.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from .auth import tenant_or_none
from .door import TENANT
from .job_waits import WAITED_ROUTE, wait_seconds
from .jobs import MAX_AFTER

log = logging.getLogger("descent.api")

JOBS = "/v1/jobs/"
HISTORY = "/history"
JOB_ROUTE = "/v1/jobs/<job_id>"
HISTORY_ROUTE = "/v1/jobs/<job_id>/history"
"""The Flask rules of the two routes: the latency metric's `route` label, as Flask's path gives it."""

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class FastPolls:
    """WSGI middleware in front of the Flask app (`app.wsgi_app = FastPolls(app, app.wsgi_app)`)."""

    def __init__(self, app: Flask, inner: WSGIApp) -> None:
        self.inner = inner
        self.store = app.extensions["descent.store"]
        self.keys = app.extensions["descent.keys"]
        self.latency = app.extensions["descent.http_latency"]
        self.page_size = app.config["SETTINGS"].history_page_size
        self.dumps = app.json.dumps
        self.waits = app.extensions["descent.end_waits"]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") == "GET" and path.startswith(JOBS):
            try:
                answer = self._answer(path[len(JOBS) :], environ)
            except Exception:  # Redis down, say: Flask's path meets it again and answers properly
                log.debug("fast poll handed to Flask", exc_info=True)
                answer = None
            if answer is not None:
                route, body = answer
                start_response(
                    "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
                )
                self.latency.labels("GET", route, "200").observe(time.perf_counter() - started)
                return [body]
        return self.inner(environ, start_response)

    def _answer(self, rest: str, environ: dict[str, Any]) -> tuple[str, bytes] | None:
        """(route, body) of a successful poll, or None to let Flask answer."""
        history = rest.endswith(HISTORY)
        job_id = rest[: -len(HISTORY)] if history else rest
        query = _query(environ.get("QUERY_STRING", ""))
        if query is None or not _plain_id(job_id) or (not history and set(query) - {"wait"}):
            return None
        if history and "wait" in query:
            return None
        after, limit = int(query.get("after", 0)), int(query.get("limit", self.page_size))
        if after > MAX_AFTER or not 1 <= limit <= self.page_size:
            return None
        tenant = environ.get(TENANT) or tenant_or_none(environ.get("HTTP_AUTHORIZATION", ""), self.keys)
        if tenant is None:
            return None
        if history:
            page = self.store.history.read(job_id, after, limit, tenant)
            return None if page is None else (HISTORY_ROUTE, self._json(page))
        if query.get("wait"):
            job = self.waits.wait(job_id, query["wait"], lambda: self.store.jobs.get(tenant, job_id))
            return None if job is None else (WAITED_ROUTE, self._json(job))
        job = self.store.jobs.get(tenant, job_id)
        return None if job is None else (JOB_ROUTE, self._json(job))

    def _json(self, doc: Any) -> bytes:
        return self.dumps(doc).encode()


def _plain_id(segment: str) -> bool:
    """A job id as the store writes them: one non-empty path segment of letters, digits and '_'."""
    return 0 < len(segment) <= 64 and segment.replace("_", "").isalnum() and segment.isascii()


def _query(query: str) -> dict[str, float] | None:
    """`after` and `limit` as plain decimal digits, `wait` as job_waits reads it, each at most once;
    None for anything else."""
    found: dict[str, float] = {}
    for part in query.split("&") if query else ():
        name, sep, value = part.partition("=")
        if not sep or name not in ("after", "limit", "wait") or name in found:
            return None
        if name == "wait":
            try:
                found[name] = wait_seconds(value) or 0.0
            except ValueError:
                return None
            continue
        if not (value.isdigit() and value.isascii() and len(value) <= 19):
            return None
        found[name] = int(value)
    return found
