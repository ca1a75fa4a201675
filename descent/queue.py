"""The training queues: only a job id travels through RQ, serialized as JSON.

The API enqueues the task by its dotted path, so it never imports the worker (or torch); the worker
refuses any other function name (see `worker.runner`).

Each tenant has an RQ queue of its own, ``<DESCENT_QUEUE_NAME>:<tenant>``; together with the shared
queue ``<DESCENT_QUEUE_NAME>`` they are a family, and workers take from its queues in turn
(`descent.store.fairness`; the worker's side is `worker.dequeue`). RQ stays the queue engine: its
job records, timeouts, registries and worker bookkeeping are untouched; descent only chooses which
of the family's queues the next job comes from.
"""

from __future__ import annotations

from redis import Redis
from redis.client import Pipeline
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.utils import get_version

from descent.store import keys
from descent.store.fairness import Rotation

TRAIN_TASK = "worker.tasks.train"
"""The only function a descent worker runs."""

TIMEOUT_MARGIN_SECONDS = 300
"""RQ's own timeout is a backstop behind the engine's `max_runtime_seconds` check."""

FAILURE_TTL_SECONDS = 24 * 3600
"""RQ's failure records are diagnostics only (the job record is the truth); keep them a day."""

SUCCESS_TTL_SECONDS = 10
"""RQ's record of a job that succeeded expires after this (descent's job record is the truth). Not
0: with 0 RQ deletes the record inside its success handling, reading the job's status and its
executions first, each a round trip, on the way from one job to the next; a positive TTL is an
EXPIRE in its transaction. RQ's registry of finished jobs drops the entries in its periodic upkeep."""


def training_queue(redis: Redis, name: str) -> Queue:
    return Queue(name, connection=redis, serializer=JSONSerializer)


def tenant_queue_name(queue_name: str, tenant: str) -> str:
    """The RQ queue of `tenant`'s jobs in the family `queue_name`."""
    return f"{queue_name}:{tenant}"


def rotation(redis: Redis, queue_name: str) -> Rotation:
    """The turn-taking of the family `queue_name`'s queues."""
    return Rotation(redis, queue_name, Queue.redis_queue_namespace_prefix, Job.redis_job_namespace_prefix)


def enqueue_training(
    redis: Redis, queue_name: str, tenant: str, job_id: str, max_runtime_seconds: int, attempt: int = 0
) -> None:
    """Put `job_id` on its tenant's queue and that queue in the rotation, in one MULTI. RQ's job id
    is descent's (plus the attempt when a job is handed back), so the two can be matched in Redis and
    RQ never mixes up two attempts' records."""
    queue = training_queue(redis, tenant_queue_name(queue_name, tenant))
    with redis.pipeline(transaction=True) as pipe:
        _enqueue(queue, job_id, job_id if attempt == 0 else f"{job_id}-r{attempt}", max_runtime_seconds, pipe)
        rotation(redis, queue_name).mark_ready(queue.name, pipe)
        pipe.execute()


def queue_created(
    redis: Redis, pipeline: Pipeline, queue_name: str, tenant: str, job_id: str, max_runtime_seconds: int
) -> None:
    """Queue on `pipeline`, the transaction that creates job `job_id` (JobStore.create's `then`),
    what `enqueue_training` writes, made only if the creation goes through: one round trip less on
    every job's POST, the worker woken that much sooner, and no job created but not queued. RQ's
    writes are RQ's own: its `enqueue` on a pipeline that records them and is never sent."""
    queue = training_queue(redis, tenant_queue_name(queue_name, tenant))
    recorder = redis.pipeline(transaction=False)
    _enqueue(queue, job_id, job_id, max_runtime_seconds, recorder)
    encode = redis.get_encoder().encode
    writes = [[encode(word) for word in command] for command, _ in recorder.command_stack]
    rotation(redis, queue_name).enqueue_created(keys.job(job_id), job_id, queue.name, writes, pipeline)


def _enqueue(queue: Queue, job_id: str, rq_id: str, max_runtime_seconds: int, pipeline: Pipeline) -> None:
    """RQ's writes of the task for `job_id` (RQ's job `rq_id`), queued on `pipeline`."""
    queue.enqueue(
        TRAIN_TASK,
        job_id,
        job_id=rq_id,
        job_timeout=max_runtime_seconds + TIMEOUT_MARGIN_SECONDS,
        result_ttl=SUCCESS_TTL_SECONDS,
        failure_ttl=FAILURE_TTL_SECONDS,
        pipeline=pipeline,
    )


def ask_server_version(redis: Redis) -> None:
    """RQ asks Redis its version (INFO) on a client's first enqueue and on a worker's first job, then
    keeps it on the client: asked here, at a process's warm-up, neither first job waits for it."""
    get_version(redis)


def queue_depth(redis: Redis, queue_name: str) -> int:
    """Entries waiting on every queue of the family (cancelled jobs' entries until a worker skips them)."""
    return sum(rotation(redis, queue_name).depths().values())
