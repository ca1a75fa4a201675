"""At most DESCENT_UPLOADS_PER_PROCESS dataset uploads read and parsed at once in an API process.

Why: an upload's memory is several times its body while pyarrow parses it (the body, the parse
buffers, the typed columns); 16 uploads of 64 MiB at once took 2.2 GB across the two processes
compose gives 1 GiB. A turn is taken before anything reads the body (the chunked-body check in
body_limit.py, the Idempotency-Key fingerprint, the view), so an upload waiting for its turn holds
only its socket. It waits at most DESCENT_UPLOAD_WAIT_SECONDS, then gets a 503 with Retry-After that
the client retries (descent's client and CLI do): every upload either succeeds or is told to retry.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app, g, request

from .problems import Problem

UPLOAD_ENDPOINT = "datasets.create"
"""The view whose requests take a turn: POST /v1/datasets."""
RETRY_AFTER_SECONDS = 2
"""What an upload told to retry should wait: about one 64 MiB upload's parse."""


def init_app(app: Flask) -> None:
    """The process's turns (made before gunicorn forks: each process has its own), taken before
    the body is read and given back when the request ends. Register after auth (a client without a
    valid key never waits for a turn) and before body_limit (which reads chunked bodies)."""
    settings = app.config["SETTINGS"]
    app.extensions["descent.upload_slots"] = threading.BoundedSemaphore(settings.uploads_per_process)

    @app.before_request
    def _take_turn() -> None:
        if request.endpoint != UPLOAD_ENDPOINT or request.method != "POST":
            return
        slots: threading.BoundedSemaphore = current_app.extensions["descent.upload_slots"]
        if not slots.acquire(timeout=settings.upload_wait_seconds):
            raise Problem(
                503,
                "Service Unavailable",
                f"This API process is already reading {settings.uploads_per_process} uploads "
                f"(DESCENT_UPLOADS_PER_PROCESS) and none ended within {settings.upload_wait_seconds:g} s "
                "(DESCENT_UPLOAD_WAIT_SECONDS); nothing was stored: send the upload again after "
                "Retry-After seconds.",
                slug="too-many-uploads",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        g.upload_turn = slots

    @app.teardown_request
    def _give_back(exc: BaseException | None) -> None:
        slots = g.pop("upload_turn", None)
        if slots is not None:
            slots.release()
