"""The worker's side of fair queueing: RQ's dequeue, taking from the tenants' queues in turn.

RQ's worker pops with BLPOP over a fixed list of queues in priority order, and a list fixed at
start-up cannot name tenants that appear later. `FairQueue` replaces only that pop (RQ's
`Queue.dequeue_any`, which the worker calls through its `queue_class`): it asks the family's
rotation (`descent.store.fairness`) for the next entry in turn, with RQ's record of its job read in
the same script, and hands RQ the job and queue RQ would have, so RQ's work loop, heartbeats,
registries, timeouts and failure handling run as before. Idle, it blocks on the family's doorbell
(rung by every enqueue) and on the shared queue (entries RQ put there itself); the wait is cut into
WAKE_SECONDS slices, so a wake-up lost with a worker that died holding it costs seconds, not a job.

On a full Redis the take is refused whole (a flagged script): nothing is popped, and the worker
waits for room (`worker.room`) rather than pop a job whose start Redis would refuse.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from redis import Redis
from rq.exceptions import DequeueTimeout, NoSuchJobError, StopRequested
from rq.job import Job, parse_job_id
from rq.queue import Queue

from descent.queue import rotation
from worker.heartbeat import STOPPING
from worker.room import until_room

WAKE_SECONDS = 5.0
"""Longest an idle worker blocks before it looks at the rotation again by itself."""


class FairQueue(Queue):
    """An RQ queue whose `dequeue_any` takes the family's jobs in turn (the family: the worker's
    first queue, DESCENT_QUEUE_NAME)."""

    @classmethod
    def dequeue_any(  # type: ignore[override]
        cls,
        queues: Iterable[Queue],
        timeout: int | None,
        connection: Redis,
        job_class: type[Job] | None = None,
        serializer: Any = None,
        death_penalty_class: Any = None,
    ) -> tuple[Job, Queue] | None:
        """RQ's contract: (job, queue), None when `timeout` is None and nothing waits, or
        DequeueTimeout after `timeout` seconds of waiting."""
        if STOPPING.is_set():
            # Told to stop, and RQ's StopRequested was lost: its signal handler raises it wherever the
            # main thread is, and inside a logging call (RQ logs each failed try while Redis is away)
            # `logging` swallows it. Ending the loop here, before anything is taken, loses no job.
            raise StopRequested()
        family = next(iter(queues)).name
        turns = rotation(connection, family)
        shared_key = cls.redis_queue_namespace_prefix + family
        deadline = None if timeout is None else time.monotonic() + timeout
        job_cls = job_class or cls.job_class
        while True:
            taken = until_room(turns.take, "taking the next job", STOPPING)
            if taken is None:
                if deadline is None:
                    return None
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DequeueTimeout(timeout, [shared_key, turns.doorbell])
                rung = connection.blpop([turns.doorbell, shared_key], min(left, WAKE_SECONDS))
                if rung is None or rung[0].decode() != shared_key:
                    continue  # the doorbell (or a slice ended): ask the rotation
                taken = (family, rung[1].decode(), None)
            name, job_id, record = taken
            options = {"death_penalty_class": death_penalty_class} if death_penalty_class else {}
            queue = cls(name, connection=connection, job_class=job_cls, serializer=serializer, **options)
            try:
                return _job(job_cls, job_id, record, connection, serializer), queue
            except NoSuchJobError:
                continue  # RQ's record is gone (expired): skip the entry, as RQ does


def _job(job_cls: type[Job], job_id: str, record: dict[bytes, bytes] | None, connection: Redis, serializer: Any) -> Job:
    """RQ's job for the entry `job_id`: from `record`, the fields the take read with it (RQ's
    `Job.fetch` without its round trip), or fetched when the entry came another way (None)."""
    if record is None:
        return job_cls.fetch(job_id, connection=connection, serializer=serializer)
    if not record:
        raise NoSuchJobError(f"No such job: {job_id}")
    job = job_cls(parse_job_id(job_id), connection=connection, serializer=serializer)
    job.restore(record)
    return job
