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
from enum import StrEnum
from typing import Any, TypeVar

from redis import Redis
from redis.client import Pipeline
from rq import get_current_job

from descent.search import Pruning, Searcher
from descent.settings import Settings
from descent.spec import JobConfig
from descent.store import JobStatus, RequeueOutcome, Store, connect
from descent.store.jobs import Start
from descent.store.trouble import FULL, PASSING, describe
from worker.dataset_cache import DatasetCache
from worker.engine import Cancelled, EngineError, RunState, Suspended, TrainOutput, decode_checkpoint
from worker.engine import train as run_engine
from worker.heartbeat import CURRENT, STOPPING, WORKER_NAME
from worker.prepare import Prepared, prepare
from worker.reporter import RedisReporter
from worker.requeue import requeue
from worker.spans import Spans

log = logging.getLogger("descent.worker")
T = TypeVar("T")


class NotRun(StrEnum):
    """Why `run` ended without moving the job to a status of its own."""

    MISSING = "missing"
    """No such job (deleted, or expired)."""
    LOST = "lost"
    """The lease was lost mid-run: another worker owns the job now."""
    SUSPENDED = "suspended"
    """This worker is stopping: checkpointed and handed back to the queue."""


LOST, SUSPENDED = NotRun.LOST, NotRun.SUSPENDED
_CACHE: dict[int, DatasetCache] = {}
"""This process's dataset cache, by its size in bytes (one in a worker: its settings do not change)."""


_PROCESS: dict[str, Any] = {}
"""What `train` makes once per worker process: its settings, and a store on RQ's connection."""


_STARTED: dict[str, Start] = {}
"""The start of the job about to run, made with RQ's start-up writes (`queue_start`), by RQ's job
id: its task takes it instead of starting the job itself. One at most."""


def train(job_id: str) -> None:
    """RQ entry point. Takes only the id: config and data are read from the store."""
    current = get_current_job()
    settings, store = process_store(current.connection if current is not None else None)
    run(store, job_id, settings, _STARTED.pop(current.id, None) if current is not None else None)


def queue_start(connection: Redis, pipeline: Pipeline, rq_job_id: str, job_id: str) -> Callable[[Any], None]:
    """Queue the start of `job_id` on `pipeline`, the transaction of RQ's start-up writes of its
    RQ job `rq_job_id` on `connection` (worker/runner.py): one round trip less before a job starts.
    Returns what takes the script's answer from `execute`, for the task that runs next."""
    settings, store = process_store(connection)
    store.jobs.queue_start(pipeline, job_id, WORKER_NAME, int(settings.lease_seconds * 1000))

    def keep(answer: Any) -> None:
        _STARTED.clear()
        _STARTED[rq_job_id] = store.jobs.started(job_id, answer)

    return keep


def process_store(redis_client: Redis | None) -> tuple[Settings, Store]:
    """This worker process's settings and its store on `redis_client` (RQ's connection; None: a
    new one), made once and kept — a worker's environment does not change, and a store registers
    its scripts as it is made: 0.13 ms less on the way to each job's start. The warm-up makes them
    before the first job (worker/warm_path.py)."""
    settings = _PROCESS.get("settings")
    if settings is None:
        settings = _PROCESS["settings"] = Settings.from_env()
    redis_client = redis_client if redis_client is not None else connect(settings.redis_url)
    store = _PROCESS.get("store")
    if store is None or store.redis is not redis_client:
        store = _PROCESS["store"] = Store(redis_client, settings.retention_seconds)
    return settings, store


def run(store: Store, job_id: str, settings: Settings, started: Start | None = None) -> JobStatus | NotRun:
    """Train `job_id` and record how it ended; returns the final status (or why nothing ran).
    `started`: the job's start, made already (`queue_start`)."""
    spans = Spans()
    if started is None:
        started = store.jobs.start(job_id, WORKER_NAME, int(settings.lease_seconds * 1000))
    if started.status is None:
        log.warning("job %s: no such job, skipped", job_id)
        return NotRun.MISSING
    if started.record is None:
        return JobStatus(started.status)  # cancelled while queued, or already taken
    record = started.record
    spans.mark("record+start")
    CURRENT.set(job_id)
    try:
        status = _train(store, job_id, record, settings, spans)
    finally:
        CURRENT.set(None)
    if settings.test_hooks:
        _held_at_end(store, job_id, settings)
    log.debug("job %s: %s", job_id, spans.text())
    if record.get("sweep_id") and isinstance(status, JobStatus):
        _advance_search(store, record["sweep_id"], settings)
    return status


def _held_at_end(store: Store, job_id: str, settings: Settings) -> None:
    """Tests only (DESCENT_TEST_HOOKS): wait while the job's dataset is held at its "end" phase —
    the end written, RQ's records of it not yet (reads only: a full Redis allows them)."""
    while not STOPPING.wait(settings.flush_seconds):
        try:
            if not store.holds.phase_held(job_id, "end"):
                return
        except PASSING:
            continue


def _advance_search(store: Store, sweep_id: str, settings: Settings) -> None:
    """A child ended: a searching sweep tells its study and starts its next trials (search.py).
    Never fails the job: a search that cannot advance now does when it is next read."""
    try:
        Searcher(store, settings).advance(sweep_id)
    except Exception:
        log.exception("sweep %s: could not start its next trials; reading the sweep retries", sweep_id)


def _pruning(store: Store, record: dict[str, str], job_id: str, settings: Settings) -> Pruning | None:
    """The job's link to its trial when it is a searching sweep's child with a pruner."""
    if not record.get("sweep_id"):
        return None
    try:
        return Pruning.of(Searcher(store, settings), record["sweep_id"], job_id)
    except Exception:
        log.exception("job %s: its search's study could not be read; it trains without pruning", job_id)
        return None


def _resume_point(store: Store, job_id: str, record: dict[str, str]) -> RunState | None:
    """The state in the job's last checkpoint, its history cut back to what that checkpoint had seen.

    A job no worker started before (`attempt` 0 in its record as read before this start) has
    neither a checkpoint nor a history: two round trips fewer on the way to its first step."""
    if record.get("attempt") == "0":
        return None
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
    # a job may start at the edge of a full Redis (JobStore.start is allowed there): wait for room
    persist(lambda: store.jobs.truncate_history(job_id, state.train_points, state.dev_points), job_id)
    log.info("job %s: resuming from its checkpoint (%d history points)", job_id, state.train_points)
    return state


def _train(
    store: Store, job_id: str, record: dict[str, str], settings: Settings, spans: Spans
) -> JobStatus | NotRun:
    try:
        spec, config = stored_config(record["config"])
    except ValueError:  # not a config this version writes (a rollback, say): the job fails, not hangs
        log.exception("job %s: its stored config is not a valid job config", job_id)
        reporter = RedisReporter(store, job_id, json.loads(record["config"]), settings)
        message = "internal error (the job's stored config is not valid); the worker log has the details"
        return _ending(store, job_id, reporter, settings)(JobStatus.FAILED, error={"type": "internal", "message": message})
    reporter = RedisReporter(store, job_id, config, settings)
    reporter.pruning = _pruning(store, record, job_id, settings)
    ended = _ending(store, job_id, reporter, settings)
    try:
        resume = _resume_point(store, job_id, record)
        if resume is not None:
            reporter.history_from(resume.train_points, resume.dev_points)
        spans.mark("config+resume")
        data = load(store, record["dataset_id"], spec, settings)
        spans.mark("dataset load+prepare")
        if data is None:
            return ended(
                JobStatus.FAILED,
                error={"type": "invalid_data", "message": "the job's dataset no longer exists"},
            )
        config = {**config, "features": {**config.get("features", {}), "fitted": data.fitted}}
        reporter.config = config  # written with the history plan: the config shows what was fitted
        fast = settings.fast_paths
        try:
            out = run_engine(data.x, data.y, spec, reporter, resume=resume, fast=fast, rows=data.rows)
        except ValueError:
            if resume is None:
                raise
            log.exception("job %s: the checkpoint does not fit; starting over", job_id)
            store.jobs.reset_history(job_id)
            reporter = RedisReporter(store, job_id, config, settings)
            reporter.pruning = _pruning(store, record, job_id, settings)
            ended = _ending(store, job_id, reporter, settings)
            out = run_engine(data.x, data.y, spec, reporter, fast=fast, rows=data.rows)
    except Suspended:
        return _hand_back(store, job_id, reporter, settings)
    except FULL:  # raised by `persist` only once the worker is told to stop: hand the job back
        return _hand_back(store, job_id, reporter, settings)
    except Cancelled:
        if reporter.lease_lost:
            return LOST
        return ended(JobStatus.CANCELLED, metrics=reporter.metrics)
    except EngineError as exc:
        error = {"type": exc.kind, "message": str(exc)}
        return ended(JobStatus.FAILED, error=error, metrics=reporter.metrics)
    except Exception as exc:
        log.exception("job %s: training raised", job_id)
        message = f"internal error ({type(exc).__name__}); the worker log has the details"
        return ended(
            JobStatus.FAILED, error={"type": "internal", "message": message}, metrics=reporter.metrics
        )
    spans.mark("engine")
    if out.surface is not None and out.surface["cost"].size <= settings.max_surface_points:
        persist(lambda: store.history.put_surface(job_id, out.surface["axes"], out.surface["cost"]), job_id)
    progress = {**reporter.progress, "epoch": out.epochs_run, "step": out.steps, "fraction": 1.0}
    status = ended(JobStatus.SUCCEEDED, result=result(out, data), metrics=out.metrics, progress=progress)
    spans.mark("flush+result")
    return status


def load(store: Store, dataset_id: str, spec: JobConfig, settings: Settings) -> Prepared | None:
    """The engine's input for `spec`: from this worker's dataset cache (DESCENT_DATASET_CACHE_MB),
    or read and prepared (0: the plain path, every time). None: the dataset no longer exists."""
    max_bytes = settings.dataset_cache_mb * 1024 * 1024
    if max_bytes <= 0:
        table = store.datasets.table(dataset_id)
        return None if table is None else prepare(table, spec)
    cache = _CACHE.get(max_bytes)
    if cache is None:
        _CACHE.clear()
        cache = _CACHE[max_bytes] = DatasetCache(max_bytes)
    return cache.prepared(store, dataset_id, spec)


def result(out: TrainOutput, data: Prepared) -> dict[str, Any]:
    """The API's `result`: the engine's, with what preprocessing adds (API.md, "Preprocessing"):
    a linear model's `feature_names`, a classifier's `classes`, the rows left out, and how many
    rows each split had (`train_rows`: a learning curve's x axis, API.md "Model selection")."""
    doc = out.to_result()
    if isinstance(doc["params"], dict):
        doc["params"]["feature_names"] = data.feature_names
    if data.classes is not None:
        doc["classes"] = data.classes
    doc["rows_dropped"] = data.rows_dropped
    train, dev, test = data.rows
    doc.update(train_rows=int(train.size), dev_rows=int(dev.size), test_rows=int(test.size))
    return doc


def stored_config(text: str) -> tuple[JobConfig, dict[str, Any]]:
    """The job's config as the engine reads it (the spec model), and as the job shows it (JSON).

    The JSON is the stored one, with a key a config stored by an older version lacks (such as
    `max_history_points`) filled in as the spec model has it; what was stored stays as it was
    written. ValueError (pydantic's) on a config that is not a valid one.
    """
    spec = JobConfig.model_validate_json(text)
    return spec, {**spec.model_dump(mode="json"), **json.loads(text)}


def _ending(
    store: Store, job_id: str, reporter: RedisReporter, settings: Settings
) -> Callable[..., JobStatus | NotRun]:
    """Flush the last points and move the job to its final status, in one transaction (one round
    trip at every job's end) — retried through a Redis restart, and neither done if another worker
    has taken the job over (both scripts check). Told to stop while Redis is full, the end waits
    DESCENT_STOP_WAIT_SECONDS, then the job is handed back as it is."""

    def end(status: JobStatus, **fields: Any) -> JobStatus | NotRun:
        if reporter.lease_lost:
            return LOST

        def then(pipe: Pipeline) -> None:
            store.jobs.queue_transition(pipe, job_id, (JobStatus.RUNNING,), status, worker=WORKER_NAME, **fields)

        try:
            wait = settings.stop_wait_seconds
            answers = persist(lambda: reporter.flush(required=True, then=then), job_id, full_wait=wait)
        except FULL as exc:
            return _hand_back_unsaved(store, job_id, settings, exc)
        return status if answers == (1,) and not reporter.lease_lost else LOST

    return end


def _hand_back(store: Store, job_id: str, reporter: RedisReporter, settings: Settings) -> NotRun:
    """The worker is stopping: write the points and the newest checkpoint, then put the job back for
    another worker. A full Redis gets DESCENT_STOP_WAIT_SECONDS from the stop request to make room
    for them (the lease is renewed meanwhile); still full, the job goes back without them."""
    if reporter.lease_lost:
        return LOST
    try:
        persist(
            lambda: reporter.flush(required=True, checkpoint=reporter.pending_checkpoint),
            job_id,
            full_wait=settings.stop_wait_seconds,
        )
    except FULL as exc:
        return _hand_back_unsaved(store, job_id, settings, exc)
    outcome = persist(lambda: requeue(store, settings, job_id, WORKER_NAME), job_id)
    if outcome is RequeueOutcome.REQUEUED:
        log.info("job %s: worker stopping; checkpointed and requeued", job_id)
    return SUSPENDED


def _hand_back_unsaved(store: Store, job_id: str, settings: Settings, exc: Exception) -> NotRun:
    """Stopping, and Redis still full after DESCENT_STOP_WAIT_SECONDS: hand the job back without
    what Redis refused (its points and checkpoint since it filled, or its end). The requeue is allowed
    on a full Redis, and its queue entry is owed until there is room (any worker's heartbeat writes
    it): the lease is given up, not left to lapse, so no attempt is charged to a lost worker, and the
    next attempt resumes from the last checkpoint Redis took and trains the steps since again."""
    log.warning(
        "job %s: redis still full %.0fs after the stop request (%s); handed back without its unsaved "
        "work: the next attempt resumes from the last checkpoint redis took",
        job_id,
        settings.stop_wait_seconds,
        exc,
    )
    requeue(store, settings, job_id, WORKER_NAME)
    return SUSPENDED


def persist(action: Callable[[], T], what: str, give_up_after: float = 300.0, full_wait: float = 0.0) -> T:
    """Run a write that must not be lost, retrying while Redis is unreachable (a restart, say) or
    full (maxmemory under noeviction).

    Unreachable: for `give_up_after` seconds, then the error is raised (the lease lapses and the
    reaper resumes the job from its checkpoint). Full: for as long as it lasts, unless the worker
    is told to stop (then until `full_wait` seconds after the stop request): the heartbeat keeps the
    lease (renewing it needs no memory), so nobody else takes the job, and what it computed exists
    only in this process until written.
    """
    delay, started = 0.25, time.monotonic()
    while True:
        try:
            return action()
        except PASSING as exc:
            if isinstance(exc, FULL):
                if STOPPING.is_set() and time.monotonic() >= STOPPING.since + full_wait:
                    raise
            elif time.monotonic() - started > give_up_after:
                raise
            log.warning("job %s: redis %s (%s); retrying in %.2fs", what, describe(exc), exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
