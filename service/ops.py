"""Operations routes: liveness, the OpenAPI document and the interactive docs that render it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from descent.settings import Settings

from .openapi import openapi_document
from .openapi import parts as apidoc

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
def readyz() -> tuple[Response, int]:
    """Ready when this process can serve requests: Redis answers. Live workers are counted in the
    body (and in /metrics) but do not decide readiness: with every worker down, clients still need
    to read their jobs, and an orchestrator must not take the API out of service for it."""
    from . import context

    settings = context.settings()
    try:
        workers = context.store().ops.live_workers(settings.worker_live_seconds)
    except Exception:
        return jsonify({"status": "unavailable", "redis": "unreachable", "workers": 0}), 503
    return jsonify({"status": "ready", "redis": "ok", "workers": len(workers)}), 200


@apidoc.documents("/readyz", "get")
def _readyz_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "readyz",
        "summary": "Readiness of this API process: Redis answers (live workers are counted, not required)",
        "description": "200 while Redis answers, whether or not any worker is alive: clients can "
        "read their jobs and queue new ones while workers are down. `workers` counts the workers "
        "whose heartbeat is recent (also `descent_workers_live` in /metrics). 503 only when Redis "
        "does not answer.",
        "security": [],
        "responses": apidoc.responses(
            {
                "200": apidoc.json_response("Readiness", "ready"),
                "503": apidoc.json_response("Readiness", "Redis unreachable"),
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
