"""/v1/jobs: submit, read, list, history, surface, cancel, delete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from descent.settings import Settings
from descent.spec import JobRequest
from descent.store import BadCursor, CancelOutcome, DeleteOutcome, JobStatus
from descent.store.datasets import Described
from descent.store.states import STATUSES

from . import context
from .idempotency import idempotent
from .job_waits import MAX_WAIT_SECONDS, wait_seconds
from .limits import check_room
from .openapi import parts as apidoc
from .problems import Problem, invalid
from .schemas import MAX_SEED
from .submission import submit
from .validation import job_config, parse_job_request, reject

bp = Blueprint("jobs", __name__, url_prefix="/v1/jobs")

MAX_AFTER = 2**63 - 1
"""Largest `after` of a history read (steps are stored as 64-bit integers)."""
_JOB_LINKS = apidoc.links("job_id", "$response.body#/id", apidoc.JOB_OPERATIONS)
"""Where a new job leads: every operation on it."""


@bp.post("")
@idempotent("jobs")
def create() -> tuple[Response, int, dict[str, str]]:
    body = context.json_body()
    req, errors = parse_job_request(body)
    if req is None:  # the request's own faults first, then whether its dataset exists
        raise reject(errors)
    dataset, kept = context.job_dataset(req.dataset_id)
    check_room()
    job = _submitted(req, dataset, kept)
    return jsonify(job), 202, {"Location": f"/v1/jobs/{job['id']}"}


def _submitted(req: JobRequest, dataset: Described, kept: bool) -> dict[str, Any]:
    """The job checked against `dataset` and created. A dataset as this process kept it may no
    longer be the stored one (deleted, or published again): when the request does not fit it, or
    the creation refuses it (the script checks the dataset's owner and publish token), the dataset
    is read again and the request checked against what was read."""
    settings = context.settings()
    if kept:
        try:
            config = job_config(req, dataset.meta, settings)
        except Problem:  # perhaps against a description no longer stored: read again below
            config = None
        job = None if config is None else submit(config, dataset_version=dataset.version)
        if job is not None:
            return job
        dataset, _ = context.job_dataset(req.dataset_id, fresh=True)
    job = submit(job_config(req, dataset.meta, settings), dataset_version=dataset.version)
    if job is None:  # the dataset was deleted (or published again) between the read and the write
        raise context.not_found("dataset", req.dataset_id)
    return job


@apidoc.documents("/v1/jobs", "post")
def _create_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "createJob",
        "summary": "Submit a training job",
        "parameters": [apidoc.IDEMPOTENCY_KEY],
        "requestBody": apidoc.request_body(apidoc.ref("JobRequest"), apidoc.EXAMPLE_JOB),
        "responses": apidoc.responses(
            {"202": apidoc.json_response("JobResource", "queued", apidoc.CREATED_HEADERS, links=_JOB_LINKS)},
            {
                "400": "invalid request (`errors` names every bad field), a request that does not "
                "fit the dataset or a limit",
                "403": apidoc.over_quota(settings),
                "404": "unknown dataset, or not yours",
                "409": apidoc.IDEMPOTENCY_CONFLICT,
                "413": apidoc.too_large(settings),
                "415": "not application/json",
            },
        ),
    }


@bp.get("")
def list_jobs() -> Response:
    status = request.args.get("status")
    if status is not None and status not in STATUSES:
        raise invalid(
            f"status must be one of {', '.join(STATUSES)}",
            [{"field": "status", "message": f"must be one of {', '.join(STATUSES)}"}],
        )
    limit = context.int_arg("limit", context.settings().list_page_size, 1, 500)
    try:
        items, cursor = context.store().jobs.list(
            context.tenant(),
            limit,
            request.args.get("cursor"),
            status=status,
            dataset_id=request.args.get("dataset_id") or None,
            sweep_id=request.args.get("sweep_id") or None,
        )
    except BadCursor as exc:
        raise invalid(str(exc), [{"field": "cursor", "message": str(exc)}]) from None
    return jsonify({"jobs": items, "next_cursor": cursor})


@apidoc.documents("/v1/jobs", "get")
def _list_jobs_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "listJobs",
        "summary": "List jobs, newest first",
        "parameters": [
            apidoc.param(
                "status",
                "query",
                {"type": "string", "enum": [s.value for s in STATUSES]},
                "only jobs with this status",
            ),
            apidoc.param("dataset_id", "query", {"type": "string"}, "only jobs on this dataset"),
            apidoc.param("sweep_id", "query", {"type": "string"}, "only children of this sweep"),
            *apidoc.paging(settings),
        ],
        "responses": apidoc.responses(
            {"200": apidoc.json_response("JobList", "a page")},
            {"400": "invalid filter, `limit` or `cursor`"},
        ),
    }


@bp.get("/<job_id>")
def get(job_id: str) -> Response:
    try:
        seconds = wait_seconds(request.args.get("wait"))
    except ValueError:
        _job(job_id)  # an unknown job is a 404 whatever its query says
        message = f"must be a number of seconds from 0 to {MAX_WAIT_SECONDS:g}"
        raise invalid(f"wait {message}", [{"field": "wait", "message": message}]) from None
    if not seconds:
        return jsonify(_job(job_id))
    store, tenant = context.store(), context.tenant()
    job = current_app.extensions["descent.end_waits"].wait(job_id, seconds, lambda: store.jobs.get(tenant, job_id))
    if job is None:
        raise context.not_found("job", job_id)
    return jsonify(job)


@apidoc.documents("/v1/jobs/{job_id}", "get")
def _get_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "getJob",
        "summary": "A job: status, progress, metrics, result or error",
        "parameters": [
            apidoc.param(
                "wait",
                "query",
                {"type": "number", "minimum": 0, "maximum": MAX_WAIT_SECONDS},
                "hold the answer until the job has ended or this many seconds have passed, whichever "
                f"is first (default 0: at once); a process holds {settings.max_job_waits} such requests "
                "at once, one more is answered at once",
            )
        ],
        "responses": apidoc.responses(
            {"200": apidoc.json_response("JobResource", "the job")}, {"404": "unknown, or not yours"}
        ),
    }


@bp.delete("/<job_id>")
def delete(job_id: str) -> tuple[str, int]:
    outcome = context.store().jobs.delete(context.tenant(), job_id)
    if outcome is DeleteOutcome.MISSING:
        raise context.not_found("job", job_id)
    if outcome is DeleteOutcome.OPEN:
        raise context.conflict(f"Job {job_id!r} is queued or running; cancel it first.")
    return "", 204


@apidoc.documents("/v1/jobs/{job_id}", "delete")
def _delete_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "deleteJob",
        "summary": "Delete an ended job and its history",
        "responses": apidoc.responses(
            {"204": {"description": "deleted"}},
            {"404": "unknown, or not yours", "409": "still queued or running: cancel it first"},
        ),
    }


@bp.get("/<job_id>/history")
def history(job_id: str) -> Response:
    page_size = context.settings().history_page_size
    try:
        after = context.int_arg("after", 0, 0, MAX_AFTER)
        limit = context.int_arg("limit", page_size, 1, page_size)
    except Problem:
        _job(job_id)  # an unknown job is a 404 whatever its query says
        raise
    # one round trip: the script checks the job's tenant itself (a poll is the hottest request)
    page = context.store().history.read(job_id, after, limit, context.tenant())
    if page is None:
        raise context.not_found("job", job_id)
    return jsonify(page)


@apidoc.documents("/v1/jobs/{job_id}/history", "get")
def _history_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "getHistory",
        "summary": "Loss history, incrementally",
        "parameters": [
            apidoc.param(
                "after",
                "query",
                {"type": "integer", "minimum": 0, "maximum": MAX_SEED},
                "return train points with step > after (default 0); send the last page's `next`",
            ),
            apidoc.param(
                "limit",
                "query",
                {"type": "integer", "minimum": 1, "maximum": settings.history_page_size},
                f"at most this many train points (default {settings.history_page_size})",
            ),
        ],
        "responses": apidoc.responses(
            {"200": apidoc.json_response("History", "a page")},
            {"400": "invalid `after` or `limit`", "404": "unknown, or not yours"},
        ),
    }


@bp.get("/<job_id>/surface")
def surface(job_id: str) -> Response:
    job = _job(job_id)
    if job["config"]["optimizer"]["type"] != "exhaustive":
        raise context.not_found("surface for job", job_id)
    data = context.store().history.surface(job_id)
    if data is None:
        if job["status"] != JobStatus.SUCCEEDED:
            raise context.conflict(
                f"Job {job_id!r} is {job['status']}; the surface exists once it succeeded."
            )
        raise context.not_found("surface (the grid exceeds DESCENT_MAX_SURFACE_POINTS) for job", job_id)
    return jsonify(data)


@apidoc.documents("/v1/jobs/{job_id}/surface", "get")
def _surface_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "getSurface",
        "summary": "Cost at every grid point of an exhaustive search",
        "responses": apidoc.responses(
            {"200": apidoc.json_response("Surface", "the surface")},
            {
                "404": "unknown, not yours, not an exhaustive job, or a grid over "
                f"DESCENT_MAX_SURFACE_POINTS = {settings.max_surface_points}",
                "409": "the search has not succeeded (yet)",
            },
        ),
    }


@bp.post("/<job_id>/cancel")
def cancel(job_id: str) -> tuple[Response, int]:
    outcome = context.store().jobs.cancel(context.tenant(), job_id)
    if outcome is CancelOutcome.MISSING:
        raise context.not_found("job", job_id)
    job = _job(job_id)
    if outcome is CancelOutcome.ENDED:
        raise context.conflict(f"Job {job_id!r} has already ended ({job['status']}).")
    return jsonify(job), 202


@apidoc.documents("/v1/jobs/{job_id}/cancel", "post")
def _cancel_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "cancelJob",
        "summary": "Cancel a queued or running job",
        "responses": apidoc.responses(
            {"202": apidoc.json_response("JobResource", "cancelled, or stopping within a second")},
            {"404": "unknown, or not yours", "409": "already ended"},
        ),
    }


def _job(job_id: str) -> dict[str, Any]:
    job = context.store().jobs.get(context.tenant(), job_id)
    if job is None:
        raise context.not_found("job", job_id)
    return job
