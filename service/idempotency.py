"""`Idempotency-Key` on the creating POSTs: a repeated key returns the first answer again.

The key is scoped to the tenant and the route. A repeat with a different body is a 409 (the key was
reused by mistake), and so is a repeat while the first request is still being answered.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, make_response, request

from . import context
from .problems import Problem, invalid
from .upload_body import raw_body
from .upload_slots import UPLOAD_ENDPOINT

MAX_KEY_LENGTH = 255
IDEMPOTENCY_KEY_PATTERN = r"^[\x20-\x7e]*[\x21-\x7e][\x20-\x7e]*$"
"""Printable ASCII with at least one visible character (what a header value can carry unchanged)."""
_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN.removeprefix("^").removesuffix("$"))


def idempotent(route: str) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    def decorate(view: Callable[..., Any]) -> Callable[..., Response]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            key = request.headers.get("Idempotency-Key")
            if key is None:
                return make_response(view(*args, **kwargs))
            if len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key):
                message = f"1 to {MAX_KEY_LENGTH} printable ASCII characters, not all spaces"
                raise invalid(
                    f"Idempotency-Key must be {message}", [{"field": "Idempotency-Key", "message": message}]
                )
            fingerprint = _fingerprint()
            store = context.store().idempotency
            tenant = context.tenant()
            stored = store.claim(tenant, route, key, fingerprint)
            if stored is not None:
                return _replay(route, stored, fingerprint)
            try:
                response = make_response(view(*args, **kwargs))
            except BaseException:
                store.release(tenant, route, key)
                raise
            if 200 <= response.status_code < 300:
                answer = {
                    "status": response.status_code,
                    "body": base64.b64encode(response.get_data()).decode(),
                    "mimetype": response.mimetype,
                    "location": response.headers.get("Location"),
                }
                store.record(tenant, route, key, fingerprint, answer)
            else:
                store.release(tenant, route, key)
            return response

        return wrapper

    return decorate


def _fingerprint() -> str:
    """What makes two requests 'the same': query, content type and body (an upload's spooled
    to a file first, and read from there by the view: upload_body.py)."""
    digest = hashlib.sha256()
    digest.update(request.query_string)
    digest.update(b"\0" + (request.content_type or "").encode() + b"\0")
    upload = request.endpoint == UPLOAD_ENDPOINT and not request.is_json
    digest.update(raw_body() if upload else request.get_data(cache=True))
    return digest.hexdigest()


_EXISTS: dict[str, Callable[[str, str], bool]] = {
    "datasets": lambda tenant, rid: context.store().datasets.get(tenant, rid) is not None,
    "jobs": lambda tenant, rid: context.store().jobs.get(tenant, rid) is not None,
    "sweeps": lambda tenant, rid: context.store().sweeps.get(tenant, rid) is not None,
}
"""Whether the resource a route created (named by the last segment of its Location) still exists."""


def _replay(route: str, stored: dict[str, Any], fingerprint: str) -> Response:
    if stored.get("fingerprint") != fingerprint:
        raise Problem(
            409,
            "Conflict",
            "This Idempotency-Key was already used with a different request; use a new key.",
            [{"field": "Idempotency-Key", "message": "reused with a different request"}],
            slug="idempotency-key-reused",
        )
    if stored.get("state") != "done":
        raise Problem(
            409,
            "Conflict",
            "A request with this Idempotency-Key is still being processed; retry in a moment.",
            [{"field": "Idempotency-Key", "message": "in progress"}],
            slug="idempotency-key-in-progress",
        )
    location = stored.get("location")
    exists = _EXISTS.get(route)
    if location and exists is not None and not exists(context.tenant(), location.rsplit("/", 1)[-1]):
        # Replaying "201 Created" for something deleted since would point the client at a 404.
        raise Problem(
            409,
            "Conflict",
            f"This Idempotency-Key created {location}, which no longer exists (deleted, or expired); "
            "use a new key to create it again.",
            [{"field": "Idempotency-Key", "message": f"its resource {location} no longer exists"}],
            slug="idempotency-key-resource-gone",
        )
    response = Response(
        base64.b64decode(stored["body"]), status=stored["status"], mimetype=stored["mimetype"]
    )
    if stored.get("location"):
        response.headers["Location"] = stored["location"]
    response.headers["Idempotent-Replayed"] = "true"
    return response
