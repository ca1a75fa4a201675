"""The one task a descent worker runs: train the job whose id came off the queue.

Every job leaves here in exactly one of succeeded, failed (with a typed error) or cancelled — or,
when the worker is told to stop, back on the queue with a checkpoint for the next worker to resume.
An exception in training becomes failed/internal rather than a job stuck in running.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from rq import get_current_job

from descent.queue import enqueue_training
from descent.settings import Settings
from descent.store import Store, connect
from worker.engine import Cancelled, EngineError, RunState, Suspended, TrainConfig, decode_checkpoint
from worker.engine import train as run_engine
from worker.heartbeat import CURRENT, WORKER_NAME
from worker.reporter import UNREACHABLE, RedisReporter

log = logging.getLogger("descent.worker")
T = TypeVar("T")


def train(job_id: str) -> None:
    """RQ entry point. Takes only the id: config and data are read from the store."""
    settings = Settings.from_env()
    current = get_current_job()
    redis_client = current.connection if current is not None else connect(settings.redis_url)
    run(Store(redis_client, settings.retention_seconds), job_id, settings)


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


def _resume_point(store: Store, job_id: str) -> RunState | None:
    """The state in the job's last checkpoint, its history cut back to what that checkpoint had seen."""
    blob = store.jobs.checkpoint(job_id)
    state = None
    if blob is not None:
        try:
            state = decode_checkpoint(blob)
        except ValueError as exc:
            log.error("job %s: unusable checkpoint (%s); starting over", job_id, exc)
    if state is None:
        store.jobs.reset_history(job_id)
        return None
    store.jobs.truncate_history(job_id, state.train_points, state.dev_points)
    log.info("job %s: resuming from its checkpoint (%d history points)", job_id, state.train_points)
    return state


def _train(store: Store, job_id: str, record: dict[str, str], settings: Settings) -> str:
    config: dict[str, Any] = json.loads(record["config"])
    reporter = RedisReporter(store, job_id, config, settings)
    ended = _ending(store, job_id, reporter)
    try:
        resume = _resume_point(store, job_id)
        arrays = store.datasets.arrays(record["dataset_id"])
        if arrays is None:
            return ended(
                "failed", error={"type": "invalid_data", "message": "the job's dataset no longer exists"}
            )
        engine_config = TrainConfig.from_dict(config)
        try:
            out = run_engine(arrays[0], arrays[1], engine_config, reporter, resume=resume)
        except ValueError:
            if resume is None:
                raise
            log.exception("job %s: the checkpoint does not fit; starting over", job_id)
            store.jobs.reset_history(job_id)
            reporter = RedisReporter(store, job_id, config, settings)
            ended = _ending(store, job_id, reporter)
            out = run_engine(arrays[0], arrays[1], engine_config, reporter)
    except Suspended:
        return _hand_back(store, job_id, reporter, config, settings)
    except Cancelled:
        if reporter.lease_lost:
            return "lost"
        return ended("cancelled", metrics=reporter.metrics)
    except EngineError as exc:
        return ended("failed", error={"type": exc.kind, "message": str(exc)}, metrics=reporter.metrics)
    except Exception as exc:
        log.exception("job %s: training raised", job_id)
        message = f"internal error ({type(exc).__name__}); the worker log has the details"
        return ended("failed", error={"type": "internal", "message": message}, metrics=reporter.metrics)
    if out.surface is not None and out.surface["cost"].size <= settings.max_surface_points:
        persist(lambda: store.history.put_surface(job_id, out.surface["axes"], out.surface["cost"]), job_id)
    progress = {**reporter.progress, "epoch": out.epochs_run, "step": out.steps, "fraction": 1.0}
    return ended("succeeded", result=out.to_result(), metrics=out.metrics, progress=progress)


def _ending(store: Store, job_id: str, reporter: RedisReporter) -> Callable[..., str]:
    """Flush the last points, then move the job to its final status — both retried through a
    Redis restart, and neither done if another worker has taken the job over."""

    def end(status: str, **fields: Any) -> str:
        if reporter.lease_lost:
            return "lost"
        persist(lambda: reporter.flush(required=True), job_id)
        if reporter.lease_lost:
            return "lost"
        moved = persist(
            lambda: store.jobs.transition(job_id, ("running",), status, worker=WORKER_NAME, **fields), job_id
        )
        return status if moved else "lost"

    return end


def _hand_back(
    store: Store, job_id: str, reporter: RedisReporter, config: dict[str, Any], settings: Settings
) -> str:
    """The worker is stopping: the checkpoint is saved; put the job back for another worker."""
    if reporter.lease_lost:
        return "lost"
    persist(lambda: reporter.flush(required=True), job_id)
    outcome = persist(lambda: store.jobs.requeue(job_id, WORKER_NAME, settings.max_attempts), job_id)
    if outcome == "requeued":
        attempt = int((store.jobs.fields(job_id) or {}).get("attempt", "1"))
        persist(
            lambda: enqueue_training(
                store.redis, settings.queue_name, job_id, int(config["max_runtime_seconds"]), attempt
            ),
            job_id,
        )
        log.info("job %s: worker stopping; checkpointed and requeued", job_id)
    return "suspended"


def persist(action: Callable[[], T], what: str, give_up_after: float = 300.0) -> T:
    """Run a write that must not be lost, retrying while Redis is unreachable (a restart, say)."""
    delay, started = 0.25, time.monotonic()
    while True:
        try:
            return action()
        except UNREACHABLE as exc:
            if time.monotonic() - started > give_up_after:
                raise
            log.warning("job %s: redis unreachable (%s); retrying in %.2fs", what, exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
