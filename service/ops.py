"""Operations routes: liveness, the OpenAPI document and the interactive docs that render it."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, Response, current_app, jsonify, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from descent.settings import Settings

from .errors import PROBLEM_JSON
from .openapi import openapi_document
from .openapi import parts as apidoc
from .problems import Problem

bp = Blueprint("ops", __name__)

DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>descent API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script></body></html>
"""


@bp.get("/healthz")
def healthz() -> Response:
    """The process answers; says nothing about Redis (that is /readyz's job)."""
    return jsonify({"status": "ok"})


@apidoc.documents("/healthz", "get")
def _healthz_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "healthz",
        "summary": "Liveness: the process answers (says nothing about Redis)",
        "security": [],
        "responses": apidoc.responses({"200": apidoc.json_response("Health", "alive")}, {}, public=True),
    }


@bp.get("/readyz")
def readyz() -> Response:
    """Ready when this process can serve requests: Redis answers and takes writes. Live workers are
    counted in the body (and in /metrics) but do not decide readiness: with every worker down,
    clients still need to read their jobs, and an orchestrator must not take the API out of
    service for it. A full Redis is not ready: every write would be refused."""
    from . import context

    settings = context.settings()
    try:
        ops = context.store().ops
        workers = len(ops.live_workers(settings.worker_live_seconds))
        fullness = ops.fullness()
    except Exception:
        return not_ready("The job store (Redis) cannot be reached.", redis="unreachable", workers=0)
    if fullness.full:
        detail = (
            f"The job store (Redis) is full: {fullness.used_bytes} of {fullness.max_bytes} bytes "
            "used; writes are refused until an operator makes room (running jobs keep training)."
        )
        return not_ready(
            detail,
            redis="full",
            workers=workers,
            used_bytes=fullness.used_bytes,
            max_bytes=fullness.max_bytes,
        )
    return jsonify({"status": "ready", "redis": "ok", "workers": workers})


def not_ready(detail: str, **members: Any) -> Response:
    """/readyz's 503: problem+json naming the reason (`redis`: unreachable or full)."""
    full = members["redis"] == "full"
    slug = "store-full" if full else "store-unavailable"  # the slugs of errors.py's 503s
    problem = Problem(503, "Service unavailable", detail, slug=slug)
    body = {**problem.body(), **members}
    return Response(orjson.dumps(body), status=503, mimetype=PROBLEM_JSON, headers={"Retry-After": "5"})


@apidoc.documents("/readyz", "get")
def _readyz_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "readyz",
        "summary": "Readiness of this API process: Redis answers and takes writes (workers are counted, not required)",
        "description": "200 while Redis answers and has room, whether or not any worker is alive: "
        "clients can read their jobs and queue new ones while workers are down. `workers` counts "
        "the workers whose heartbeat is recent (also `descent_workers_live` in /metrics). 503 "
        "(problem+json, `redis` saying why) when Redis does not answer (`unreachable`) or is full "
        "(`full`: maxmemory reached, writes refused; also `descent_store_full` in /metrics).",
        "security": [],
        "responses": apidoc.responses(
            {
                "200": apidoc.json_response("Readiness", "ready"),
                "503": {
                    "description": "Redis unreachable or full",
                    "content": {"application/problem+json": {"schema": apidoc.ref("NotReady")}},
                    "headers": {"Retry-After": apidoc.header("seconds to wait before asking again")},
                },
            },
            {},
            public=True,
        ),
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    doc = current_app.extensions.get("descent.openapi")
    if doc is None:
        doc = current_app.extensions["descent.openapi"] = openapi_document(current_app.config["SETTINGS"])
    return jsonify(doc)


@apidoc.documents("/openapi.json", "get")
def _openapi_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "openapi",
        "summary": "This document",
        "security": [],
        "responses": apidoc.responses(
            {
                "200": {
                    "description": "OpenAPI 3.1",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
            {},
            public=True,
        ),
    }


@bp.get("/docs")
def docs() -> Response:
    return Response(DOCS_PAGE, mimetype="text/html")


@bp.get("/docs/<path:name>")
def docs_asset(name: str) -> Response:
    return send_from_directory(swagger_ui_path, name)
