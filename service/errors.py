"""The one error handler: whatever goes wrong leaves as application/problem+json.

HTTP errors keep their status, an unreachable Redis is a 503 the client can retry, a body that is
not valid HTTP (a malformed chunk size, say: gunicorn raises it while the app reads the body) is the
client's 400, and anything unexpected is a 500 whose body says nothing about the code (the log has
the traceback).
"""

from __future__ import annotations

import logging

import orjson
import redis.exceptions
from flask import Flask, Response
from gunicorn.http.errors import NoMoreData, ParseException
from werkzeug.exceptions import HTTPException

from .problems import Problem

log = logging.getLogger("descent.api")

PROBLEM_JSON = "application/problem+json"

_DETAILS = {
    404: "No such resource (or it is not yours). Check the id and the path.",
    405: "This path does not accept that method; see /openapi.json.",
    413: "The request body is larger than DESCENT_MAX_REQUEST_BYTES allows.",
    415: "Unsupported content type; see /openapi.json for what each route accepts.",
}


def problem_response(problem: Problem) -> Response:
    response = Response(orjson.dumps(problem.body()), status=problem.status, mimetype=PROBLEM_JSON)
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


def init_app(app: Flask) -> None:
    """Register the handlers on `app`."""
    limit = app.config.get("MAX_CONTENT_LENGTH")

    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Response:
        return problem_response(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        detail = _DETAILS.get(status) or exc.description or exc.name
        if status == 413 and limit:
            detail = f"The request body is larger than DESCENT_MAX_REQUEST_BYTES = {limit} allows."
        problem = Problem(status, exc.name, detail, slug=exc.name.lower().replace(" ", "-"))
        response = problem_response(problem)
        if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(ParseException)
    @app.errorhandler(NoMoreData)
    def _malformed_body(exc: Exception) -> Response:
        log.warning("malformed request body: %s", exc)
        problem = Problem(
            400,
            "Malformed request body",
            f"The request body is not valid HTTP/1.1 ({exc}); send it again with a correct "
            "Content-Length or well-formed chunks.",
            slug="malformed-body",
        )
        return problem_response(problem)

    @app.errorhandler(redis.exceptions.ConnectionError)
    @app.errorhandler(redis.exceptions.TimeoutError)
    def _redis_down(exc: Exception) -> Response:
        log.warning("redis unreachable: %s", exc)
        problem = Problem(
            503,
            "Service unavailable",
            "The job store (Redis) cannot be reached; retry in a few seconds.",
            slug="store-unavailable",
            headers={"Retry-After": "2"},
        )
        return problem_response(problem)

    @app.errorhandler(redis.exceptions.OutOfMemoryError)
    def _redis_full(exc: Exception) -> Response:
        log.error("redis is full (maxmemory reached): %s", exc)
        problem = Problem(
            503,
            "Service unavailable",
            "The job store (Redis) is full; nothing was written. Retry later or ask the operator to make room.",
            slug="store-full",
            headers={"Retry-After": "30"},
        )
        return problem_response(problem)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return problem_response(
            Problem(500, "Internal server error", "An unexpected error occurred; it has been logged.")
        )
