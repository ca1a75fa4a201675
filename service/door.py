"""The door: a tenant's /v1 request is let in, or refused with a 429, before Flask sees it.

Why here: a tenant that ignores Retry-After keeps sending, and a refusal that goes through Flask
(request context, URL matching, hooks, an error handler rendering problem+json) costs about what
the request it refuses would; and while those requests run they hold the process's threads, so
other tenants queue behind them. This WSGI layer, in front of `FastPolls` and Flask, names the
tenant once (service/auth.py's constant-time lookup; it leaves the tenant in the environ for the
layers behind it), then applies the two limits a flood meets first, each implemented only here:

- in flight (DESCENT_TENANT_CONCURRENCY): at most that many of a tenant's requests in this process
  at once, counted in the process (threads are per process), no waiting;
- the request rate (DESCENT_RATE_LIMIT, service/limits.py, counted in Redis across processes).

A refusal is a pre-rendered problem+json 429 with Retry-After (the same documents as
service/limits.py's Problems). Everything else — no valid key (Flask's 401), health, metrics, the
dashboard, a Redis error while pacing (the views meet it again and answer 503) — goes on untouched.
A request is in flight until its response leaves the app; a streamed one (an /events stream) until
it ends.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson
import redis.exceptions
from flask import Flask, Response, request

from .auth import tenant_or_none
from .errors import PROBLEM_JSON
from .limits import concurrency_limited, paced, rate_limited
from .problems import Problem

log = logging.getLogger("descent.api")

TENANT = "descent.tenant"
"""WSGI environ key: the tenant the door found (clients cannot set environ keys, only HTTP_*)."""
STREAMED = "descent.streamed"
"""WSGI environ key set by Flask's path when the response is streamed: hold it until it ends."""
REFUSED_ROUTE = "door"
"""The latency metric's `route` label of a request refused here (no URL was matched)."""

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class InFlight:
    """Requests in flight per tenant in this process (made before gunicorn forks: each its own)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._lock = threading.Lock()
        self._held: dict[str, int] = {}

    def enter(self, tenant: str) -> bool:
        """Count one more request of `tenant`, or False when it already has `cap` (0: no cap)."""
        with self._lock:
            held = self._held.get(tenant, 0)
            if self.cap and held >= self.cap:
                return False
            self._held[tenant] = held + 1
            return True

    def leave(self, tenant: str) -> None:
        with self._lock:
            held = self._held[tenant] - 1
            if held:
                self._held[tenant] = held
            else:
                del self._held[tenant]


class Door:
    """WSGI middleware in front of everything (`app.wsgi_app = Door(app, app.wsgi_app)`)."""

    def __init__(self, app: Flask, inner: WSGIApp) -> None:
        settings = app.config["SETTINGS"]
        self.inner = inner
        self.settings = settings
        self.keys = app.extensions["descent.keys"]
        self.tenants = app.extensions["descent.store"].tenants
        self.latency = app.extensions["descent.http_latency"]
        self.in_flight = InFlight(settings.concurrency)
        self.rate = (settings.rate_limit, settings.burst) if settings.rate_limit > 0 else None
        self.busy = _rendered(concurrency_limited(settings))
        self._over_rate: dict[int, tuple[list[tuple[str, str]], bytes]] = {}

        @app.after_request
        def _mark_streamed(response: Response) -> Response:
            if response.is_streamed:
                request.environ[STREAMED] = True
            return response

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        if not paced(environ.get("PATH_INFO", "")):
            return self.inner(environ, start_response)
        tenant = tenant_or_none(environ.get("HTTP_AUTHORIZATION", ""), self.keys)
        if tenant is None:
            return self.inner(environ, start_response)
        environ[TENANT] = tenant
        if not self.in_flight.enter(tenant):
            self._count_refusal(tenant)
            return self._refuse(environ, start_response, self.busy, started)
        try:
            wait = self._pace(tenant)
            body = self.inner(environ, start_response) if wait <= 0 else None
        except BaseException:
            self.in_flight.leave(tenant)
            raise
        if body is None:
            self.in_flight.leave(tenant)
            return self._refuse(environ, start_response, self._rate_refusal(wait), started)
        if environ.get(STREAMED):
            return _Releasing(body, lambda: self.in_flight.leave(tenant))
        self.in_flight.leave(tenant)  # the body is in memory: writing it holds no one up for long
        return body

    def _pace(self, tenant: str) -> float:
        """The rate limiter's wait (0.0: through); through when Redis fails here, since the view's
        own Redis calls then answer the proper 503."""
        if self.rate is None:
            return 0.0
        try:
            return self.tenants.take(tenant, *self.rate)
        except redis.exceptions.RedisError:
            log.debug("rate limiter unavailable; handed to Flask", exc_info=True)
            return 0.0

    def _count_refusal(self, tenant: str) -> None:
        try:
            self.tenants.count_refusal(tenant, "concurrency")
        except redis.exceptions.RedisError:  # the 429 matters more than its count
            log.debug("concurrency refusal not counted", exc_info=True)

    def _rate_refusal(self, wait: float) -> tuple[list[tuple[str, str]], bytes]:
        """The rate 429 for `wait`, rendered once per whole second of Retry-After."""
        problem = rate_limited(self.settings, wait)
        seconds = problem.extra["retry_after"]
        if seconds not in self._over_rate:
            self._over_rate[seconds] = _rendered(problem)
        return self._over_rate[seconds]

    def _refuse(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        rendered: tuple[list[tuple[str, str]], bytes],
        started: float,
    ) -> list[bytes]:
        headers, body = rendered
        start_response("429 Too Many Requests", list(headers))
        method = environ.get("REQUEST_METHOD", "GET")
        self.latency.labels(method, REFUSED_ROUTE, "429").observe(time.perf_counter() - started)
        return [body]


def _rendered(problem: Problem) -> tuple[list[tuple[str, str]], bytes]:
    """A Problem's headers and body, as service/errors.py would send them."""
    body = orjson.dumps(problem.body())
    headers = [("Content-Type", PROBLEM_JSON), ("Content-Length", str(len(body)))]
    return headers + list(problem.headers.items()), body


class _Releasing:
    """A streamed response's body that gives its tenant's place back when it ends or the server
    closes it, whichever comes first (once)."""

    def __init__(self, body: Iterable[bytes], release: Callable[[], None]) -> None:
        self.body = body
        self.release: Callable[[], None] | None = release

    def __iter__(self) -> Iterator[bytes]:
        # not `yield from`: closing this generator would close the body, then close() would again
        for chunk in self.body:  # noqa: UP028
            yield chunk
        self._release()

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self._release()

    def _release(self) -> None:
        release, self.release = self.release, None
        if release is not None:
            release()
