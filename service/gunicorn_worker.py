"""gunicorn's gthread worker, answering the requests it rejects itself in application/problem+json.

gunicorn refuses some requests before the app sees them: a request line over `limit_request_line`
(414), header fields over their limits (431), a request line or header that is not HTTP (400). It
writes those answers with `gunicorn.util.write_error`, a small text/html page. In compose only the
proxy reaches gunicorn and its limits are wider than nginx's, so nginx answers these first
(deploy/nginx/nginx.conf.template); but a client that reaches gunicorn directly (a developer's
`python -m service`, the tests) gets the contract's shape too: this worker replaces `write_error`
in its own process, before it serves, with one that writes the same status as problem+json.
"""

from __future__ import annotations

import socket
from typing import Any

import orjson
from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker
from werkzeug.http import HTTP_STATUS_CODES

from .problems import PROBLEM_BASE

_DETAILS = {
    414: "The request line (method, path and query) is longer than the server accepts; send long "
    "input in a request body.",
    431: "The request's header fields are larger, or more, than the server accepts.",
    500: "An unexpected error occurred; it has been logged.",
}


def problem_bytes(status: int, message: str) -> bytes:
    """A whole HTTP/1.1 response (closing the connection) with a problem+json body for `status`."""
    title = HTTP_STATUS_CODES.get(status, "Error")
    detail = _DETAILS.get(status) or message or title
    if status in (414, 431) and message:
        detail = f"{detail} ({message})"
    body = orjson.dumps(
        {
            "type": PROBLEM_BASE + title.lower().replace(" ", "-"),
            "title": title,
            "status": status,
            "detail": detail,
        }
    )
    head = (
        f"HTTP/1.1 {status} {title}\r\nConnection: close\r\n"
        f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def write_problem(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """`gunicorn.util.write_error`'s signature and socket handling, with a problem+json body."""
    util.write_nonblock(sock, problem_bytes(status_int, mesg))


class ProblemThreadWorker(ThreadWorker):
    """gunicorn's gthread worker whose own error answers are problem+json."""

    def init_process(self) -> Any:
        util.write_error = write_problem  # this worker process only; run() starts at the end of super's
        return super().init_process()
