"""/v1/sweeps: one ordinary child job per point of a grid of dotted overrides (per point and fold
under cross-validation), ranked when done. The request is checked and planned in sweep_plan.py,
shown by sweep_view.py."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Response, jsonify, request

from descent.overrides import child_request
from descent.search import Searcher
from descent.settings import Settings
from descent.store import BadCursor, CancelOutcome

from . import context
from .idempotency import idempotent
from .limits import check_room, open_jobs_limit
from .openapi import parts as apidoc
from .problems import Problem, invalid
from .submission import new_job_id, submit
from .sweep_plan import FOLD_PATHS, SweepPlan, plan
from .sweep_view import resource, stalled, summary
from .validation import job_config, parse_job_request

bp = Blueprint("sweeps", __name__, url_prefix="/v1/sweeps")

_SWEEP_LINKS = {
    **apidoc.links("sweep_id", "$response.body#/id", ["getSweep", "cancelSweep"]),
    "ListChildren": {"operationId": "listJobs", "parameters": {"query.sweep_id": "$response.body#/id"}},
    "GetFirstChild": {"operationId": "getJob", "parameters": {"job_id": "$response.body#/jobs/0/id"}},
}
"""Where a new sweep leads: reading and cancelling it, its children."""


@bp.post("")
@idempotent("sweeps")
def create() -> tuple[Response, int, dict[str, str]]:
    settings = context.settings()
    sweep = plan(context.json_body(), settings)
    dataset = context.training_dataset(sweep.dataset_id)
    check_room()
    if sweep.search is not None:
        return _create_search(sweep, dataset, settings)
    children = sweep.children()
    configs, errors = [], []
    for child in children:
        req, shape_errors = parse_job_request(child.request(sweep.base, sweep.dataset_id, sweep.folds))
        found = shape_errors
        if req is not None:
            try:
                configs.append(job_config(req, dataset, settings))
                continue
            except Problem as exc:
                found = exc.errors
        for err in found:
            error = _child_error(err, child.overrides, sweep.grid)
            if error not in errors:
                errors.append(error)
    if errors:
        raise invalid(f"{len(errors)} problem(s) with the sweep's jobs", errors[:50])
    metric = "dev_loss" if all(c["split"]["dev"] > 0 or c["split"].get("folds") for c in configs) else "train_loss"
    sweep_id = "sweep_" + secrets.token_hex(16)
    limit = settings.max_open_jobs
    if context.store().jobs.open_count(context.tenant()) + len(children) > limit:
        raise open_jobs_limit(limit, len(children))
    records = [
        {"id": new_job_id(), "overrides": c.overrides, "candidate": c.candidate, **({"fold": c.fold} if c.fold is not None else {})}
        for c in children
    ]
    context.store().sweeps.create(context.tenant(), sweep_id, sweep.request(), records, metric)
    for record, config in zip(records, configs, strict=True):
        if submit(config, sweep_id=sweep_id, job_id=record["id"]) is None:
            raise context.not_found("dataset", sweep.dataset_id)
    return jsonify(_resource(sweep_id)), 202, {"Location": f"/v1/sweeps/{sweep_id}"}


def _create_search(sweep: SweepPlan, dataset: dict[str, Any], settings: Settings) -> tuple[Response, int, dict[str, str]]:
    """A search: its corners checked as jobs, its record and study written, its first trials
    started (descent/search.py starts the rest as they end)."""
    assert sweep.search is not None
    space = {d.path: [] for d in sweep.search.space}
    errors: list[dict[str, str]] = []
    configs = []
    for overrides in sweep.search.corner_points():
        req, found = parse_job_request(child_request(sweep.base, sweep.dataset_id, overrides))
        if req is not None:
            try:
                configs.append(job_config(req, dataset, settings))
                continue
            except Problem as exc:
                found = exc.errors
        for err in found:
            error = _child_error(err, overrides, space, "space")
            if error not in errors:
                errors.append(error)
    if errors:
        raise invalid(f"{len(errors)} problem(s) with the search's jobs", errors[:50])
    if context.store().jobs.open_count(context.tenant()) + sweep.search.parallel > settings.max_open_jobs:
        raise open_jobs_limit(settings.max_open_jobs, sweep.search.parallel)
    metric = "dev_loss" if configs[0]["split"]["dev"] > 0 else "train_loss"
    sweep_id = "sweep_" + secrets.token_hex(16)
    store = context.store()
    store.sweeps.create(context.tenant(), sweep_id, sweep.request(), [], metric)
    Searcher(store, settings).advance(sweep_id)
    return jsonify(_resource(sweep_id)), 202, {"Location": f"/v1/sweeps/{sweep_id}"}


def _child_error(
    err: dict[str, str], overrides: dict[str, Any], grid: dict[str, Any], where: str = "grid"
) -> dict[str, str]:
    """A child's fault by the sweep's path that gave it: `grid.…` (or `space.…`),
    `validation.folds` or `base.…`."""
    key = next((k for k in grid if err["field"] == k or err["field"].startswith(k + ".")), None)
    if key is not None:
        return {"field": f"{where}.{key}", "message": f"{err['message']} (at {overrides})"}
    if err["field"] in FOLD_PATHS:
        return {"field": "validation.folds", "message": err["message"]}
    return {"field": f"base.{err['field']}", "message": err["message"]}


@bp.get("")
def list_sweeps() -> Response:
    limit = context.int_arg("limit", context.settings().list_page_size, 1, 500)
    store = context.store()
    try:
        items, cursor = store.sweeps.list(context.tenant(), limit, request.args.get("cursor"))
    except BadCursor as exc:
        raise invalid(str(exc), [{"field": "cursor", "message": str(exc)}]) from None
    sweeps = [summary(resource(s, store.sweeps.children([c["id"] for c in s["children"]]))) for s in items]
    return jsonify({"sweeps": sweeps, "next_cursor": cursor})


@apidoc.documents("/v1/sweeps", "get")
def _list_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "listSweeps",
        "summary": "List sweeps, newest first",
        "parameters": apidoc.paging(settings),
        "responses": apidoc.responses(
            {"200": apidoc.json_response("SweepList", "a page")},
            {"400": "invalid `limit` or `cursor`"},
        ),
    }


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
                "children, or more children at once than DESCENT_MAX_OPEN_JOBS allows",
                "403": apidoc.over_quota(settings),
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
    context.store().sweeps.mark_cancelled(sweep_id)  # a search starts no more trials
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


def _sweep(sweep_id: str) -> dict[str, Any]:
    sweep = context.store().sweeps.get(context.tenant(), sweep_id)
    if sweep is None:
        raise context.not_found("sweep", sweep_id)
    return sweep


def _resource(sweep_id: str) -> dict[str, Any]:
    """The sweep; a search with fewer children running than it should have (a process died
    between two of its steps) is advanced first."""
    store = context.store()
    sweep = _sweep(sweep_id)
    doc = resource(sweep, store.sweeps.children([c["id"] for c in sweep["children"]]))
    if stalled(sweep, doc) and Searcher(store, context.settings()).advance(sweep_id, wait=0):
        sweep = _sweep(sweep_id)
        doc = resource(sweep, store.sweeps.children([c["id"] for c in sweep["children"]]))
    return doc
