"""The RQ side of a descent worker: a job class that runs only our task, and a non-forking worker.

RQ's job format names a function by dotted path; anyone who can write to Redis could name any
importable function. `DescentJob` refuses every name but `TRAIN_TASK` before importing anything, and
never resolves callbacks. The worker is a `SimpleWorker` (no fork per job): torch is imported once
at start-up, so a job starts in milliseconds, and no fork happens after OpenMP threads exist.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError
from rq.exceptions import StopRequested
from rq.executions import Execution
from rq.job import Job
from rq.queue import Queue
from rq.serializers import JSONSerializer
from rq.utils import now
from rq.worker import SimpleWorker, WorkerStatus

from descent.logs import log_context
from descent.queue import TRAIN_TASK, rotation
from descent.store.holds import HoldStore
from descent.store.trouble import FULL
from worker.dequeue import FairQueue
from worker.heartbeat import CURRENT, STOPPING, WORKER_NAME
from worker.room import until_room
from worker.rq_success import handled_here, write_success

log = logging.getLogger("descent.worker")
HEARTBEAT_SECONDS = 5.0
"""RQ's worker record is renewed at most this often (its TTL is minutes): RQ renews it twice around
each dequeue and once after each job, three round trips on the way from one job to the next."""
SUSPENSION_SECONDS = 1.0
"""RQ's `rq suspend` flag is read at most this often (RQ reads it before every dequeue)."""
clock = time.monotonic
"""The clock those two intervals are measured on (a test sets its own: no verdict on a machine's speed)."""


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

    A full Redis (maxmemory, noeviction) refuses RQ's own writes around a job; none of them ends
    the work loop (`worker.room`): the worker's state and a finished job's records wait for room, and
    a job popped at the edge whose start-up writes are refused goes back to the head of its queue.
    `test_hooks` (DESCENT_TEST_HOOKS): phase holds (`descent.store.holds`) are honoured.
    """

    max_connection_wait_time = 5.0
    """RQ doubles its wait between tries to reach Redis up to this (its default, 60 s, would leave
    a worker idle for up to a minute after Redis is back)."""

    def __init__(self, *args: Any, test_hooks: bool = False, **kwargs: Any) -> None:
        kwargs["serializer"] = JSONSerializer
        kwargs["job_class"] = DescentJob
        kwargs["queue_class"] = FairQueue
        super().__init__(*args, **kwargs)
        self.test_hooks = test_hooks
        self._prepared: str | None = None
        """The job whose start-up writes `execute_job` made (RQ's perform_job would make them again)."""
        self._owed_heartbeat: tuple[str, datetime] | None = None
        """The heartbeat RQ writes as a job ends, left for the transaction that records how it ended."""
        self._beaten = self._suspension_read = float("-inf")
        """When RQ's worker record was last renewed, and its suspension flag last read (monotonic)."""

    # -- a job's start: written whole, or the job goes back ----------------------------------------
    def execute_job(self, job: Job, queue: Queue) -> None:
        """SimpleWorker's, with RQ's start-up writes (execution record, worker busy, job started)
        made before the job is performed, in one transaction (`_start_records`): refused by a full
        Redis, none is made, the popped job goes back to the head of its queue (`_put_back`) and
        the worker waits for room before taking again (its next write, the idle state, waits).
        Descent's own start is in that transaction too; the task finds it made."""
        if self.test_hooks:
            self._held(job, "start")
        try:
            execution = self._start_records(job)
        except FULL as exc:
            self._put_back(job, queue, exc, None)
            return
        try:
            self.procline(f"Processing {job.func_name} from {job.origin} since {time.time()}")
            self._prepared = job.id
        except Exception:  # an entry RQ cannot read, say: perform_job meets it again and fails the job
            log.debug("job %s: start-up left to RQ's perform_job", job.id)
        self.perform_job(job, queue, execution)
        self.set_state(WorkerStatus.IDLE)

    def _start_records(self, job: Job) -> Execution:
        """RQ's `prepare_execution` and `prepare_job_execution` writes (the execution record and
        its registries, the worker busy and its heartbeat, the job started and its heartbeat, the
        job's key kept, its intermediate-queue entry dropped), made in one MULTI where RQ makes two,
        and descent's own start of the job after them in the same MULTI: two round trips fewer
        between a job's pop and its start, and all or none of them on a full Redis.
        tests/api/test_rq_start_records.py holds them equal to RQ's own two calls and the task's
        own start."""
        ttl = self.get_heartbeat_ttl(job)
        with self.connection.pipeline() as pipe:
            execution = Execution.create(job, ttl, pipeline=pipe, worker_name=self.name)
            self.set_state(WorkerStatus.BUSY, pipeline=pipe)
            self.heartbeat(ttl, pipeline=pipe)
            job.heartbeat(now(), ttl, pipeline=pipe)
            job.prepare_for_execution(self.name, pipeline=pipe)
            pipe.persist(job.key)
            if len(self.queues) == 1:
                pipe.lrem(Queue(job.origin, connection=self.connection).intermediate_queue_key, 1, job.id)
            keep = self._queue_start(job, pipe)
            answers = pipe.execute()
        self.executions[execution.id] = execution
        if keep is not None:
            keep(answers[-1])
        return execution

    def _queue_start(self, job: Job, pipe: Any) -> Callable[[Any], None] | None:
        """Descent's start of the job (queued → running, its lease), queued after RQ's start-up
        writes in their transaction: the task then finds it made (worker.tasks.queue_start). None
        for an entry that is not descent's task or cannot be read: RQ's perform_job fails it."""
        try:
            if job.func_name != TRAIN_TASK or not job.args:
                return None
            job_id = str(job.args[0])
        except Exception:
            return None
        from worker.tasks import queue_start

        return queue_start(self.connection, pipe, job.id, job_id)

    def prepare_job_execution(self, job: Job, remove_from_intermediate_queue: bool = False) -> None:
        """Made by `execute_job` already for the job it performs."""
        if self._prepared == job.id:
            self._prepared = None
            return
        super().prepare_job_execution(job, remove_from_intermediate_queue)

    def _put_back(self, job: Job, queue: Queue, exc: Exception, execution: Any) -> None:
        """The job was popped but Redis refused to record its start: back to the head of its queue
        (a script allowed on a full Redis), and RQ's execution record, if it was written, removed
        (deletes, which a full Redis allows outside MULTI). Nothing of descent's was written: the
        job is still queued, on its attempt count of before."""
        for key, made in list(self.executions.items()):
            if made.job_id == job.id:
                del self.executions[key]
        if execution is not None:
            try:
                with self.connection.pipeline(transaction=False) as pipe:
                    execution.delete(job=job, pipeline=pipe)
                    pipe.execute()
            except RedisError as err:  # it expires by itself; RQ's cleanup skips a job not started
                log.warning("job %s: RQ's execution record not removed (%s)", job.id, err)
        rotation(self.connection, self.queues[0].name).put_back(queue.name, job.id)
        log.warning("job %s: popped as redis filled (%s); put back at the head of %s", job.id, exc, queue.name)

    def _held(self, job: Job, phase: str) -> None:
        """Tests only (DESCENT_TEST_HOOKS): wait while the job's dataset is held at `phase`."""
        holds = HoldStore(self.connection)
        try:
            job_id = str(job.args[0]) if job.args else ""
        except Exception:  # an entry that is not descent's: RQ refuses it when it performs it
            return
        while holds.phase_held(job_id, phase) and not STOPPING.wait(0.05):
            pass

    # -- RQ's bookkeeping waits for room -----------------------------------------------------------
    def set_state(self, state: str, pipeline: Any = None) -> None:
        """The worker's state in RQ's records; on its own (not in a pipeline) it waits for room, and
        it is not written again when it has not changed."""
        if pipeline is not None:
            super().set_state(state, pipeline)
            return
        if state == self.get_state():
            return  # RQ writes "idle" after each job and again as its dequeue starts: once is enough
        until_room(lambda: super(DescentWorker, self).set_state(state), f"RQ's worker state ({state})", STOPPING)

    def handle_execution_ended(self, job: Job, queue: Queue, heartbeat_ttl: int) -> None:
        """RQ's first write after a job returned, its heartbeat: owed to the transaction that records
        the job's success (`handle_job_success`), or written before RQ records a failure."""
        job.ended_at = now()
        self._owed_heartbeat = (job.id, now())  # RQ's heartbeat ignores its ttl (3.0)

    def _pay_heartbeat(self, job: Job) -> datetime | None:
        """The heartbeat owed to `job` (None: none), no longer owed."""
        owed, self._owed_heartbeat = self._owed_heartbeat, None
        return owed[1] if owed is not None and owed[0] == job.id else None

    def handle_job_success(self, job: Job, queue: Queue, started_job_registry: Any, execution: Any) -> None:
        """RQ's records of a job that returned, its heartbeat with them, in one transaction
        (worker/rq_success.py) — RQ's own code for a job with repeats; either waits for room."""
        heartbeat = self._pay_heartbeat(job)
        if heartbeat is not None and handled_here(job):
            until_room(lambda: write_success(self, job, heartbeat, execution), f"RQ's records of job {job.id}", STOPPING)
            return
        if heartbeat is not None:
            until_room(lambda: job.heartbeat(heartbeat, 0), f"RQ's end of job {job.id}", STOPPING)
        until_room(
            lambda: super(DescentWorker, self).handle_job_success(job, queue, started_job_registry, execution),
            f"RQ's records of job {job.id}",
            STOPPING,
        )

    def handle_job_failure(
        self, job: Job, queue: Queue, started_job_registry: Any = None, exc_string: str = "", execution: Any = None
    ) -> None:
        """RQ's, after the heartbeat `handle_execution_ended` left owed (waiting for room, as that did)."""
        heartbeat = self._pay_heartbeat(job)
        if heartbeat is not None:
            until_room(lambda: job.heartbeat(heartbeat, 0), f"RQ's end of job {job.id}", STOPPING)
        super().handle_job_failure(job, queue, started_job_registry, exc_string, execution)

    def run_maintenance_tasks(self) -> None:
        """RQ's periodic registry upkeep (transactions, refused on a full Redis) waits for room; a
        stopping worker skips it (the next take ends its loop: `FairQueue.dequeue_any`)."""
        if not STOPPING.is_set():
            until_room(super().run_maintenance_tasks, "RQ's registry upkeep", STOPPING)

    def register_birth(self) -> None:
        """A work loop (re)starting on a full Redis waits here for room to register."""
        until_room(super().register_birth, "RQ's worker registration", STOPPING)

    def teardown(self) -> None:
        """RQ's deregistration as the loop ends: not worth waiting for (the record expires)."""
        try:
            super().teardown()
        except FULL as exc:
            log.warning("worker %s: RQ's deregistration not written, redis full (%s)", self.name, exc)
            self.unsubscribe()

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
        trips more between a job's dequeue and its start, and two more after it). A plain renewal
        (no timeout, no pipeline) within HEARTBEAT_SECONDS of the last is skipped."""
        if timeout is None and pipeline is None and clock() - self._beaten < HEARTBEAT_SECONDS:
            return
        try:
            if pipeline is not None:
                super().heartbeat(timeout, pipeline)
            else:
                with self.connection.pipeline(transaction=False) as own:
                    super().heartbeat(timeout, own)
                    own.execute()
                self._beaten = clock()
        except FULL as exc:
            log.warning("worker %s: RQ heartbeat not written, redis full (%s)", self.name, exc)
        except RedisError as exc:
            if not STOPPING.is_set():
                raise
            # stopping with Redis away: RQ's loop goes on to the take, which ends it (dequeue.py)
            log.debug("worker %s: RQ heartbeat not written while stopping (%s)", self.name, exc)

    def check_for_suspension(self, burst: bool) -> None:
        """RQ's `rq suspend` flag, read at most every SUSPENSION_SECONDS (RQ reads it, one round
        trip, before every dequeue: on the way from one job to the next)."""
        if clock() - self._suspension_read < SUSPENSION_SECONDS:
            return
        self._suspension_read = clock()
        super().check_for_suspension(burst)

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
