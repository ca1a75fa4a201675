"""API keys: `Authorization: Bearer <key>` maps a request to its tenant.

Keys come from DESCENT_API_KEYS ("tenant_a:key1,tenant_b:key2"). Every key is compared, in constant
time, on every request, so neither the timing nor the order of keys says which part matched. Keys
are never logged. With no keys configured the service is open: one shared tenant, and a warning
at start-up.
"""

from __future__ import annotations

import hmac
import logging
import uuid

from flask import Flask, g, request

from descent.logs import bind, fresh

from .problems import Problem

log = logging.getLogger("descent.api")

OPEN_TENANT = "public"
"""The tenant every request belongs to while no API keys are configured."""

PUBLIC_PATHS = ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/static/")
"""Routes anyone may call; everything under /v1 needs a key when keys are configured."""


def parse_keys(spec: str) -> list[tuple[str, bytes]]:
    """'a:k1,b:k2' → [('a', b'k1'), ('b', b'k2')]; a malformed entry stops the start-up."""
    pairs = []
    for entry in filter(None, (e.strip() for e in spec.split(","))):
        tenant, sep, key = entry.partition(":")
        if not sep or not tenant.strip() or not key.strip():
            raise ValueError(
                "DESCENT_API_KEYS entries must look like tenant:key (a malformed entry was found)"
            )
        if not all(c.isalnum() or c in "-_." for c in tenant.strip()):
            raise ValueError("DESCENT_API_KEYS tenant names may use letters, digits, '-', '_' and '.'")
        pairs.append((tenant.strip(), key.strip().encode()))
    return pairs


def init_app(app: Flask, spec: str) -> None:
    keys = parse_keys(spec)
    app.extensions["descent.keys"] = keys
    if keys:
        log.info("API keys configured for %d tenant(s)", len({t for t, _ in keys}))
    else:
        log.warning(
            "DESCENT_API_KEYS is empty: descent is open to anyone who can reach it (one shared tenant)"
        )

    @app.before_request
    def _authenticate() -> None:
        fresh(request_id=request.headers.get("X-Request-ID") or uuid.uuid4().hex[:16])
        if not keys:
            g.tenant = OPEN_TENANT
            bind(tenant=OPEN_TENANT)
            return
        if request.path == "/" or request.path.startswith(PUBLIC_PATHS):
            g.tenant = None
            return
        g.tenant = _tenant_for(request.headers.get("Authorization", ""), keys)
        bind(tenant=g.tenant)


def tenant_or_none(header: str, keys: list[tuple[str, bytes]]) -> str | None:
    """The tenant of an Authorization header, or None where the request would be a 401 (the same
    constant-time comparison; for callers that hand such a request on instead of answering it)."""
    if not keys:
        return OPEN_TENANT
    try:
        return _tenant_for(header, keys)
    except Problem:
        return None


def _tenant_for(header: str, keys: list[tuple[str, bytes]]) -> str:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("Send an API key as 'Authorization: Bearer <key>'.")
    given = token.strip().encode()
    found = None
    for tenant, key in keys:  # no early exit: every key costs the same time
        if hmac.compare_digest(given, key):
            found = tenant
    if found is None:
        raise _unauthorized("The API key is not valid.")
    return found


def _unauthorized(detail: str) -> Problem:
    return Problem(
        401,
        "Unauthorized",
        detail,
        slug="unauthorized",
        headers={"WWW-Authenticate": 'Bearer realm="descent"'},
    )
