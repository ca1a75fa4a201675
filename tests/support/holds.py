"""Holding a running job at a step, so that "still running" is a fact the test controls.

A test that cancels, kills or suspends a running job must not bet on the job's size: a fast machine
finishes any bounded job before the test acts. Instead the test holds the job's dataset
(`descent.store.holds`) before submitting: workers started with DESCENT_TEST_HOOKS=1 (every test
worker) stop each job on it at the first tick at or after `step` — after one checkpoint — and wait,
answering cancel and stop requests as usual, until `release()`.
"""

from __future__ import annotations

from typing import Any

import redis

from descent.store.holds import HoldStore

from .api import get_job
from .processes import WORKER_DEADLINE, wait_for


class Hold:
    """Jobs on `dataset_id` started from now on wait at `step` until `release()` (or the with-block ends)."""

    def __init__(self, redis_url: str, dataset_id: str, step: int) -> None:
        self.store = HoldStore(redis.Redis.from_url(redis_url))
        self.dataset_id = dataset_id
        self.step = step
        self.store.hold(dataset_id, step)

    def release(self) -> None:
        self.store.release(self.dataset_id)

    def __enter__(self) -> Hold:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def wait_held(client: Any, job_id: str, step: int, timeout: float = WORKER_DEADLINE) -> dict[str, Any]:
    """Until the job is running at or past `step` (where a hold keeps it); the job."""

    def check() -> dict[str, Any] | None:
        job = get_job(client, job_id)
        return job if job["status"] == "running" and job["progress"]["step"] >= step else None

    return wait_for(check, timeout, interval=0.02, what=f"job {job_id} to be held at step {step}")


class PhaseHold:
    """Jobs on `dataset_id` wait at `phase` ("start": popped, nothing written; "end": their end
    written, RQ's records not) until `release()` (or the with-block ends); see descent.store.holds."""

    def __init__(self, redis_url: str, dataset_id: str, phase: str) -> None:
        self.store = HoldStore(redis.Redis.from_url(redis_url))
        self.dataset_id = dataset_id
        self.phase = phase
        self.store.hold_phase(dataset_id, phase)

    def release(self) -> None:
        self.store.release_phase(self.dataset_id, self.phase)

    def __enter__(self) -> PhaseHold:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
