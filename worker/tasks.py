"""The one task a descent worker runs: train the job whose id came off the queue.

Every job leaves here in exactly one of succeeded, failed (with a typed error) or cancelled; an
exception in training becomes failed/internal rather than a job stuck in running.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis.exceptions
from rq import get_current_job

from descent.settings import Settings
from descent.store import Store, connect
from worker.engine import Cancelled, EngineError, TrainConfig
from worker.engine import train as run_engine
from worker.heartbeat import CURRENT, WORKER_NAME
from worker.reporter import RedisReporter

log = logging.getLogger("descent.worker")
T = TypeVar("T")


def train(job_id: str) -> None:
    """RQ entry point. Takes only the id: config and data are read from the store."""
    settings = Settings.from_env()
    current = get_current_job()
    redis = current.connection if current is not None else connect(settings.redis_url)
    run(Store(redis, settings.retention_seconds), job_id, settings)


def run(store: Store, job_id: str, settings: Settings) -> str:
    """Train `job_id` and record how it ended; returns the final status (or why nothing ran)."""
    record = store.jobs.fields(job_id)
    if record is None:
        log.warning("job %s: no such job, skipped", job_id)
        return "missing"
    if record["status"] != "queued":
        return record["status"]  # cancelled while queued, or already taken
    if not store.jobs.start(job_id, WORKER_NAME, int(settings.lease_seconds * 1000)):
        return "raced"
    CURRENT.set(job_id)
    try:
        return _train(store, job_id, record, settings)
    finally:
        CURRENT.set(None)


def _train(store: Store, job_id: str, record: dict[str, str], settings: Settings) -> str:
    store.jobs.reset_history(job_id)
    config: dict[str, Any] = json.loads(record["config"])
    reporter = RedisReporter(store, job_id, config, settings.flush_seconds)
    try:
        arrays = store.datasets.arrays(record["dataset_id"])
        if arrays is None:
            return _fail(store, job_id, "invalid_data", "the job's dataset no longer exists")
        out = run_engine(arrays[0], arrays[1], TrainConfig.from_dict(config), reporter)
    except Cancelled:
        reporter.flush()
        store.jobs.transition(job_id, ("running",), "cancelled", metrics=reporter.metrics)
        return "cancelled"
    except EngineError as exc:
        reporter.flush()
        return _fail(store, job_id, exc.kind, str(exc), reporter.metrics)
    except Exception as exc:
        log.exception("job %s: training raised", job_id)
        try:
            reporter.flush()
        except Exception:
            log.exception("job %s: could not flush history after the error", job_id)
        return _fail(
            store,
            job_id,
            "internal",
            f"internal error ({type(exc).__name__}); the worker log has the details",
            reporter.metrics,
        )
    reporter.flush()
    if out.surface is not None and out.surface["cost"].size <= settings.max_surface_points:
        store.history.put_surface(job_id, out.surface["axes"], out.surface["cost"])
    progress = {**reporter.progress, "epoch": out.epochs_run, "step": out.steps, "fraction": 1.0}
    store.jobs.transition(
        job_id,
        ("running",),
        "succeeded",
        result=out.to_result(),
        metrics=out.metrics,
        progress=progress,
    )
    return "succeeded"


def persist(action: Callable[[], T], what: str, give_up_after: float = 300.0) -> T:
    """Run a write that must not be lost, retrying while Redis is unreachable (a restart, say)."""
    delay, started = 0.25, time.monotonic()
    while True:
        try:
            return action()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            if time.monotonic() - started > give_up_after:
                raise
            log.warning("%s: redis unreachable (%s); retrying in %.2fs", what, exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def _fail(store: Store, job_id: str, kind: str, message: str, metrics: dict[str, Any] | None = None) -> str:
    fields: dict[str, Any] = {"error": {"type": kind, "message": message}}
    if metrics:
        fields["metrics"] = metrics
    store.jobs.transition(job_id, ("running",), "failed", **fields)
    return "failed"
