"""The RQ side of a descent worker: a job class that runs only our task, and a non-forking worker.

RQ's job format names a function by dotted path; anyone who can write to Redis could name any
importable function. `DescentJob` refuses every name but `TRAIN_TASK` before importing anything, and
never resolves callbacks. The worker is a `SimpleWorker` (no fork per job): torch is imported once
at start-up, so a job starts in milliseconds, and no fork happens after OpenMP threads exist.
"""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import RedisError
from rq.exceptions import StopRequested
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.worker import SimpleWorker

from descent.logs import log_context
from descent.queue import TRAIN_TASK, rotation
from descent.store.trouble import FULL
from worker.dequeue import FairQueue
from worker.heartbeat import CURRENT, STOPPING, WORKER_NAME

log = logging.getLogger("descent.worker")


class ForeignTaskRefused(RuntimeError):
    """A queue entry named a function other than descent's training task."""


class DescentJob(Job):
    """An RQ job that can only ever call `worker.tasks.train`."""

    @property
    def func(self) -> Any:
        if self.func_name != TRAIN_TASK or self.instance is not None:
            raise ForeignTaskRefused(f"refusing to run {self.func_name!r}: only {TRAIN_TASK} may run")
        from worker.tasks import train

        return train

    def perform(self) -> Any:
        """Run with the job's id on every log line."""
        job_id = self.args[0] if self.args else None
        with log_context(job_id=job_id, worker=WORKER_NAME):
            return super().perform()

    @property
    def success_callback(self) -> None:
        return None

    @property
    def failure_callback(self) -> None:
        return None

    @property
    def stopped_callback(self) -> None:
        return None


class DescentWorker(SimpleWorker):
    """A SimpleWorker with the JSON serializer, `DescentJob` and `FairQueue` fixed: started on
    DESCENT_QUEUE_NAME, it takes the jobs of every tenant's queue of that family, in turn.

    On SIGTERM (``docker compose stop``) RQ waits for the running job; descent's job notices
    `STOPPING`, saves a checkpoint and hands itself back to the queue, so the wait is short and no
    work is lost.
    """

    max_connection_wait_time = 5.0
    """RQ doubles its wait between tries to reach Redis up to this (its default, 60 s, would leave
    a worker idle for up to a minute after Redis is back)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["serializer"] = JSONSerializer
        kwargs["job_class"] = DescentJob
        kwargs["queue_class"] = FairQueue
        super().__init__(*args, **kwargs)

    def clean_registries(self) -> None:
        """RQ's periodic upkeep for every queue of the family, not only the one the worker was
        started on (the tenants' queues appear as tenants queue jobs); and any queue whose
        entries RQ's own tools pushed (``rq requeue``) is put back in the rotation."""
        started_on = self.queues
        family = started_on[0].name
        turns = rotation(self.connection, family)
        self.queues = [
            FairQueue(name, connection=self.connection, job_class=self.job_class, serializer=self.serializer)
            for name in turns.queues()
        ]
        try:
            super().clean_registries()
        finally:
            self.queues = started_on
        for name in turns.rejoin():
            log.warning("queue %s had entries outside the rotation; put back in it", name)

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        """RQ's own heartbeat (its worker record's TTL, minutes long): a full Redis refusing one is
        no reason to end the work loop; the next one, after the job, tries again. Its three
        commands go in one round trip (RQ sends them one by one when given no pipeline: two round
        trips more between a job's dequeue and its start, and two more after it)."""
        try:
            if pipeline is not None:
                super().heartbeat(timeout, pipeline)
            else:
                with self.connection.pipeline(transaction=False) as own:
                    super().heartbeat(timeout, own)
                    own.execute()
        except FULL as exc:
            log.warning("worker %s: RQ heartbeat not written, redis full (%s)", self.name, exc)

    def request_stop(self, signum: Any, frame: Any) -> None:
        STOPPING.set()
        try:
            super().request_stop(signum, frame)
        except RedisError:
            # RQ asks Redis whether a job runs, and Redis is gone: decide from what this process knows.
            # A running job sees STOPPING and hands itself back; an idle worker stops now.
            self._stop_requested = True
            if CURRENT.get() is None:
                raise StopRequested() from None
