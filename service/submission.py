"""Creating and queueing a job, shared by `POST /v1/jobs` and sweeps."""

from __future__ import annotations

import secrets
from typing import Any

from descent.queue import enqueue_training
from descent.store import JobStatus, OpenJobsLimit

from . import context
from .limits import open_jobs_limit


def new_job_id() -> str:
    """An opaque, unguessable id (128 random bits)."""
    return "job_" + secrets.token_hex(16)


def submit(
    config: dict[str, Any], sweep_id: str | None = None, job_id: str | None = None, dataset_version: str = ""
) -> dict[str, Any] | None:
    """Write the job and put its id on the queue; None when its dataset vanished meanwhile (or,
    with `dataset_version`, was published again since the request was checked against it).

    If the enqueue fails (Redis went away between the two writes) the job is marked failed rather
    than left queued forever, and the error propagates (a 503 to the client).
    """
    store = context.store()
    job_id = job_id or new_job_id()
    limit = context.settings().max_open_jobs
    try:
        job = store.jobs.create(
            context.tenant(), job_id, config, sweep_id=sweep_id, max_open=limit, dataset_version=dataset_version
        )
    except OpenJobsLimit:
        raise open_jobs_limit(limit) from None
    if job is None:
        return None
    try:
        enqueue_training(
            store.redis,
            context.settings().queue_name,
            context.tenant(),
            job_id,
            int(config["max_runtime_seconds"]),
        )
    except Exception:
        store.jobs.transition(
            job_id,
            (JobStatus.QUEUED,),
            JobStatus.FAILED,
            error={"type": "internal", "message": "the job could not be queued; submit it again"},
        )
        raise
    return job
