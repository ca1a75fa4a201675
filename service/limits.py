"""Per-tenant limits at the door, kept in Redis (descent/store/tenants.py) so that every API process
on every host enforces the same ones:

- the request rate (DESCENT_RATE_LIMIT with DESCENT_RATE_BURST): every /v1 request of a tenant
  takes a token; without one it is a 429 with Retry-After. Health, metrics, the OpenAPI document
  and the dashboard's files are never limited. Checked in front of Flask, by service/door.py, with
  the in-flight cap (DESCENT_TENANT_CONCURRENCY, kept per process, not in Redis);
- the storage quota (DESCENT_TENANT_STORAGE_BYTES): an upload that would take the tenant past it,
  or a new job or sweep while the tenant is at it, is a 403 `quota-exceeded`;
- the open-jobs cap (DESCENT_MAX_OPEN_JOBS): a 429 with Retry-After — the same request succeeds
  once some of the tenant's jobs have ended.
"""

from __future__ import annotations

import math

from descent.settings import Settings

from . import context
from .problems import Problem, invalid

OPEN_JOBS_RETRY_SECONDS = 5
"""Retry-After of the open-jobs 429: when the tenant's jobs end is unknown; a few seconds is
what a poller of a job waits anyway."""


def paced(path: str) -> bool:
    """Whether a request to `path` counts against its tenant's rate: everything under /v1."""
    return path.startswith("/v1/") or path == "/v1"


def rate_limited(settings: Settings, wait: float) -> Problem:
    """429: over the tenant's request rate; Retry-After in whole seconds, rounded up."""
    seconds = max(1, math.ceil(wait))
    return Problem(
        429,
        "Too many requests",
        f"Over this tenant's request rate (DESCENT_RATE_LIMIT = {settings.rate_limit:g} per second, "
        f"bursts of DESCENT_RATE_BURST = {settings.burst}); retry in {seconds} s.",
        slug="rate-limited",
        headers={"Retry-After": str(seconds)},
        extra={"limit": "DESCENT_RATE_LIMIT", "retry_after": seconds},
    )


def concurrency_limited(settings: Settings) -> Problem:
    """429: the tenant already has DESCENT_TENANT_CONCURRENCY requests in this process; retry in 1 s."""
    return Problem(
        429,
        "Too many requests",
        f"This tenant already has {settings.concurrency} requests in flight in this API process "
        "(DESCENT_TENANT_CONCURRENCY); wait for their answers, or retry in 1 s.",
        slug="concurrency-limited",
        headers={"Retry-After": "1"},
        extra={"limit": "DESCENT_TENANT_CONCURRENCY", "retry_after": 1},
    )


def open_jobs_limit(limit: int, asked: int = 1) -> Problem:
    """429 naming DESCENT_MAX_OPEN_JOBS (counted): retry when some jobs ended, or cancel some. A
    sweep that needs more jobs at once than the limit could ever allow is a 400 instead."""
    if asked > limit:
        return invalid(
            f"This sweep needs {asked} jobs at once, more than DESCENT_MAX_OPEN_JOBS = {limit} allows.",
            [{"field": "body", "message": f"over DESCENT_MAX_OPEN_JOBS = {limit}"}],
        )
    context.store().tenants.count_refusal(context.tenant(), "open_jobs")
    return Problem(
        429,
        "Too many requests",
        f"Over DESCENT_MAX_OPEN_JOBS = {limit} queued or running jobs"
        + (f" (this request adds {asked})" if asked > 1 else "")
        + "; retry when some have ended, or cancel some.",
        slug="open-jobs-limit",
        headers={"Retry-After": str(OPEN_JOBS_RETRY_SECONDS)},
        extra={"limit": "DESCENT_MAX_OPEN_JOBS", "retry_after": OPEN_JOBS_RETRY_SECONDS},
    )


def quota_exceeded(quota: int, stored: int, requested: int) -> Problem:
    """403 naming DESCENT_TENANT_STORAGE_BYTES, the quota and what the tenant stores."""
    what = f"this upload needs {requested} more" if requested else "new jobs add history to it"
    return Problem(
        403,
        "Storage quota exceeded",
        f"This tenant stores {stored} bytes of its DESCENT_TENANT_STORAGE_BYTES = {quota} and {what}; "
        "delete datasets or jobs to make room.",
        slug="quota-exceeded",
        extra={
            "limit": "DESCENT_TENANT_STORAGE_BYTES",
            "quota_bytes": quota,
            "stored_bytes": stored,
            "requested_bytes": requested,
        },
    )


def check_room() -> None:
    """403 when the tenant already stores its whole quota (before an upload is read, and before a
    job or sweep is created: their histories would add to it)."""
    quota = context.settings().tenant_storage_bytes
    if quota <= 0:
        return
    tenant = context.tenant()
    stored = context.store().tenants.stored(tenant)
    if stored >= quota:
        context.store().tenants.count_refusal(tenant, "storage")
        raise quota_exceeded(quota, stored, 0)


def reserve_dataset(dataset_id: str, size: int) -> None:
    """Count a dataset's `size` bytes before it is written, or a 403 when they do not fit."""
    quota = context.settings().tenant_storage_bytes
    reservation = context.store().tenants.reserve_dataset(context.tenant(), dataset_id, size, quota)
    if not reservation.ok:
        raise quota_exceeded(quota, reservation.stored, size)
