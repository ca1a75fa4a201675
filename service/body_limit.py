"""DESCENT_MAX_REQUEST_BYTES for chunked uploads too.

Werkzeug refuses a body whose Content-Length is over the limit, but a chunked body (no
Content-Length) is only cut off at the limit: reading it returns the first bytes and the rest is
silently dropped, which would store a truncated dataset. So a chunked body is read here, up to the
limit, and if anything is left after it the request is a 413.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge


def init_app(app: Flask) -> None:
    @app.before_request
    def _chunked_body_within_limit() -> None:
        limit = app.config.get("MAX_CONTENT_LENGTH")
        if limit is None or request.content_length is not None:
            return
        if "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
            return
        data = request.get_data(cache=True)  # cached: views and the form parser reuse it
        if len(data) >= limit and request.environ["wsgi.input"].read(1):
            raise RequestEntityTooLarge()
