"""The training queue: only a job id travels through RQ, serialized as JSON.

The API enqueues the task by its dotted path, so it never imports the worker (or torch); the worker
refuses any other function name (see `worker.runner`).
"""

from __future__ import annotations

from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer

TRAIN_TASK = "worker.tasks.train"
"""The only function a descent worker runs."""

TIMEOUT_MARGIN_SECONDS = 300
"""RQ's own timeout is a backstop behind the engine's `max_runtime_seconds` check."""

FAILURE_TTL_SECONDS = 24 * 3600
"""RQ's failure records are diagnostics only (the job record is the truth); keep them a day."""


def training_queue(redis: Redis, name: str) -> Queue:
    return Queue(name, connection=redis, serializer=JSONSerializer)


def enqueue_training(
    redis: Redis, queue_name: str, job_id: str, max_runtime_seconds: int, attempt: int = 0
) -> None:
    """Put `job_id` on the queue. RQ's job id is descent's (plus the attempt when a job is handed
    back), so the two can be matched in Redis and RQ never mixes up two attempts' records."""
    training_queue(redis, queue_name).enqueue(
        TRAIN_TASK,
        job_id,
        job_id=job_id if attempt == 0 else f"{job_id}-r{attempt}",
        job_timeout=max_runtime_seconds + TIMEOUT_MARGIN_SECONDS,
        result_ttl=0,
        failure_ttl=FAILURE_TTL_SECONDS,
    )
