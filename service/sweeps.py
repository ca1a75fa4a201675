"""/v1/sweeps: one ordinary child job per point of a grid of dotted overrides, ranked when done."""

from __future__ import annotations

import copy
import itertools
import re
import secrets
from typing import Any

from flask import Blueprint, Response, jsonify

from descent.settings import Settings
from descent.store import CancelOutcome, JobStatus
from descent.store.states import OPEN_STATUSES, SweepStatus

from . import context
from .idempotency import idempotent
from .openapi import parts as apidoc
from .problems import Problem, invalid
from .submission import new_job_id, open_jobs_limit, submit
from .validation import base_errors, job_config, parse_job_request

bp = Blueprint("sweeps", __name__, url_prefix="/v1/sweeps")

PATH = re.compile(r"^[a-z_]+(\.[a-z_]+)*$")
"""A grid key: a dotted path into a job request, e.g. ``optimizer.lr``."""
_SWEEP_LINKS = {
    **apidoc.links("sweep_id", "$response.body#/id", ["getSweep", "cancelSweep"]),
    "ListChildren": {"operationId": "listJobs", "parameters": {"query.sweep_id": "$response.body#/id"}},
    "GetFirstChild": {"operationId": "getJob", "parameters": {"job_id": "$response.body#/jobs/0/id"}},
}
"""Where a new sweep leads: reading and cancelling it, its children."""


@bp.post("")
@idempotent("sweeps")
def create() -> tuple[Response, int, dict[str, str]]:
    body = context.json_body()
    base, grid, dataset_id = _request(body)
    dataset = context.training_dataset(dataset_id)
    settings = context.settings()
    points = [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]
    configs, errors = [], []
    for overrides in points:
        child = copy.deepcopy(base)
        for path, value in overrides.items():
            _set(child, path, value)
        child["dataset_id"] = dataset_id
        req, shape_errors = parse_job_request(child)
        found = shape_errors
        if req is not None:
            try:
                configs.append(job_config(req, dataset, settings))
                continue
            except Problem as exc:
                found = exc.errors
        for err in found:
            key = next((k for k in grid if err["field"] == k or err["field"].startswith(k + ".")), None)
            field = f"grid.{key}" if key else f"base.{err['field']}"
            message = err["message"] if key is None else f"{err['message']} (at {overrides})"
            if {"field": field, "message": message} not in errors:
                errors.append({"field": field, "message": message})
    if errors:
        raise invalid(f"{len(errors)} problem(s) with the sweep's jobs", errors[:50])
    metric = "dev_loss" if all(c["split"]["dev"] > 0 for c in configs) else "train_loss"
    sweep_id = "sweep_" + secrets.token_hex(16)
    limit = settings.max_open_jobs
    if context.store().jobs.open_count(context.tenant()) + len(points) > limit:
        raise open_jobs_limit(limit)
    children = [{"id": new_job_id(), "overrides": overrides} for overrides in points]
    request = {"dataset_id": dataset_id, "base": base, "grid": grid}
    context.store().sweeps.create(context.tenant(), sweep_id, request, children, metric)
    for child, config in zip(children, configs, strict=True):
        if submit(config, sweep_id=sweep_id, job_id=child["id"]) is None:
            raise context.not_found("dataset", dataset_id)
    return jsonify(_resource(sweep_id)), 202, {"Location": f"/v1/sweeps/{sweep_id}"}


@apidoc.documents("/v1/sweeps", "post")
def _create_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "createSweep",
        "summary": "Start a sweep: one job per grid point",
        "parameters": [apidoc.IDEMPOTENCY_KEY],
        "requestBody": apidoc.request_body(apidoc.ref("SweepRequest"), apidoc.EXAMPLE_SWEEP),
        "responses": apidoc.responses(
            {
                "202": apidoc.json_response(
                    "SweepResource", "the children are queued", apidoc.CREATED_HEADERS, links=_SWEEP_LINKS
                )
            },
            {
                "400": "invalid request, a child that would be an invalid job (named by its `grid.` "
                f"or `base.` path), more than DESCENT_MAX_SWEEP_CHILDREN = {settings.max_sweep_children} "
                "children, or over DESCENT_MAX_OPEN_JOBS",
                "404": "unknown dataset, or not yours",
                "409": apidoc.IDEMPOTENCY_CONFLICT,
                "413": apidoc.too_large(settings),
                "415": "not application/json",
            },
        ),
    }


@bp.get("/<sweep_id>")
def get(sweep_id: str) -> Response:
    return jsonify(_resource(sweep_id))


@apidoc.documents("/v1/sweeps/{sweep_id}", "get")
def _get_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "getSweep",
        "summary": "A sweep with its children ranked",
        "responses": apidoc.responses(
            {"200": apidoc.json_response("SweepResource", "the sweep")}, {"404": "unknown, or not yours"}
        ),
    }


@bp.post("/<sweep_id>/cancel")
def cancel(sweep_id: str) -> tuple[Response, int]:
    sweep = _sweep(sweep_id)
    outcomes = [context.store().jobs.cancel(context.tenant(), c["id"]) for c in sweep["children"]]
    if not any(o in (CancelOutcome.CANCELLED, CancelOutcome.REQUESTED) for o in outcomes):
        raise context.conflict(f"Sweep {sweep_id!r} has no job left to cancel.")
    return jsonify(_resource(sweep_id)), 202


@apidoc.documents("/v1/sweeps/{sweep_id}/cancel", "post")
def _cancel_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "cancelSweep",
        "summary": "Cancel every child that has not ended",
        "responses": apidoc.responses(
            {"202": apidoc.json_response("SweepResource", "cancelling")},
            {"404": "unknown, or not yours", "409": "nothing left to cancel"},
        ),
    }


def _request(body: Any) -> tuple[dict[str, Any], dict[str, list[Any]], str]:
    """Check the sweep's own shape: every fault at once, by dotted path."""
    errors: list[dict[str, str]] = []
    if not isinstance(body, dict):
        raise invalid(
            "the body must be a JSON object", [{"field": "body", "message": "must be a JSON object"}]
        )
    for key in set(body) - {"dataset_id", "base", "grid"}:
        errors.append({"field": key, "message": "is not a known field"})
    dataset_id = body.get("dataset_id")
    if not isinstance(dataset_id, str) or not dataset_id:
        errors.append({"field": "dataset_id", "message": "is required (a dataset id)"})
    base = body.get("base", {})
    if not isinstance(base, dict):
        errors.append({"field": "base", "message": "must be an object (a job request without dataset_id)"})
    else:
        if "dataset_id" in base:
            errors.append({"field": "base.dataset_id", "message": "give dataset_id at the top level"})
        errors += [{**e, "field": f"base.{e['field']}"} for e in base_errors(base)]
    grid = body.get("grid")
    limit = context.settings().max_sweep_children
    if not isinstance(grid, dict) or not grid:
        errors.append(
            {"field": "grid", "message": "is required: an object of dotted paths to lists of values"}
        )
    else:
        for key, values in grid.items():
            if not PATH.match(key):
                errors.append(
                    {"field": f"grid.{key}", "message": "must be a dotted path such as optimizer.lr"}
                )
            elif key == "dataset_id" or key.startswith("dataset_id."):
                errors.append({"field": f"grid.{key}", "message": "a sweep trains on one dataset"})
            if not isinstance(values, list) or not values:
                errors.append({"field": f"grid.{key}", "message": "must be a non-empty list of values"})
        if not errors:
            count = 1
            for values in grid.values():
                count *= len(values)
            if count > limit:
                errors.append(
                    {"field": "grid", "message": f"{count} jobs exceed DESCENT_MAX_SWEEP_CHILDREN = {limit}"}
                )
    if errors:
        raise invalid(f"{len(errors)} invalid field(s)", errors)
    return base, grid, dataset_id


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    """doc['a']['b'] = value for path 'a.b', creating (or replacing non-object) levels."""
    *parents, last = path.split(".")
    for part in parents:
        if not isinstance(doc.get(part), dict):
            doc[part] = {}
        doc = doc[part]
    doc[last] = copy.deepcopy(value)


def _sweep(sweep_id: str) -> dict[str, Any]:
    sweep = context.store().sweeps.get(context.tenant(), sweep_id)
    if sweep is None:
        raise context.not_found("sweep", sweep_id)
    return sweep


def _resource(sweep_id: str) -> dict[str, Any]:
    """The sweep with its children's state, ranked by the sweep's metric (lower is better)."""
    sweep = _sweep(sweep_id)
    children = sweep["children"]
    states = context.store().sweeps.children([c["id"] for c in children])
    jobs, counts = [], {}
    for child, state in zip(children, states, strict=True):
        result = state["result"] or {}
        counts[state["status"]] = counts.get(state["status"], 0) + 1
        jobs.append(
            {
                "id": child["id"],
                "overrides": child["overrides"],
                "status": state["status"],
                "train_loss": result.get("train_loss"),
                "dev_loss": result.get("dev_loss"),
                "seconds": result.get("seconds"),
                "error": state["error"],
            }
        )
    metric = sweep["metric"]
    ranked = sorted(
        (j for j in jobs if j["status"] == JobStatus.SUCCEEDED and j[metric] is not None),
        key=lambda j: j[metric],
    )
    rest = [j for j in jobs if j not in ranked]
    open_jobs = sum(counts.get(status, 0) for status in OPEN_STATUSES)
    return {
        "id": sweep["id"],
        "dataset_id": sweep["request"]["dataset_id"],
        "status": SweepStatus.RUNNING if open_jobs or not children else SweepStatus.DONE,
        "ranked_by": metric,
        "best_job_id": ranked[0]["id"] if ranked else None,
        "counts": counts,
        "jobs": ranked + rest,
        "base": sweep["request"]["base"],
        "grid": sweep["request"]["grid"],
        "created_at": sweep["created_at"],
    }
