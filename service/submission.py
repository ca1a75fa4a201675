"""Creating and queueing a job, shared by `POST /v1/jobs` and sweeps."""

from __future__ import annotations

import secrets
from typing import Any

from redis.client import Pipeline

from descent.queue import queue_created
from descent.store import OpenJobsLimit

from . import context
from .limits import open_jobs_limit


def new_job_id() -> str:
    """An opaque, unguessable id (128 random bits)."""
    return "job_" + secrets.token_hex(16)


def submit(
    config: dict[str, Any], sweep_id: str | None = None, job_id: str | None = None, dataset_version: str = ""
) -> dict[str, Any] | None:
    """Write the job and put its id on the queue, in one transaction; None when its dataset vanished
    meanwhile (or, with `dataset_version`, was published again since the request was checked
    against it). A Redis that fails the transaction leaves neither (the error propagates: a 503)."""
    store = context.store()
    job_id = job_id or new_job_id()
    settings = context.settings()
    tenant = context.tenant()

    def queued(pipeline: Pipeline) -> None:
        queue_created(
            store.redis, pipeline, settings.queue_name, tenant, job_id, int(config["max_runtime_seconds"])
        )

    try:
        return store.jobs.create(
            tenant,
            job_id,
            config,
            sweep_id=sweep_id,
            max_open=settings.max_open_jobs,
            dataset_version=dataset_version,
            then=queued,
        )
    except OpenJobsLimit:
        raise open_jobs_limit(settings.max_open_jobs) from None
