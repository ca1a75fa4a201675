"""RQ's records of a job that returned, made by `DescentWorker` in one transaction
(worker/rq_success.py), are the writes RQ's own `handle_execution_ended` and `handle_job_success`
make in four round trips; a job that failed gets RQ's own records, its heartbeat first as RQ writes it."""

from __future__ import annotations

import redis as redis_lib
from rq.job import JobStatus
from rq.serializers import JSONSerializer
from rq.utils import now, utcparse
from rq.worker import SimpleWorker

from descent.queue import enqueue_training, training_queue
from tests.support.processes import RedisServer
from tests.support.redis_state import redis_state
from worker.dequeue import FairQueue
from worker.runner import DescentJob, DescentWorker

TIMES = (
    b"last_heartbeat", b"started_at", b"created_at", b"enqueued_at", b"ended_at",
    b"total_working_time", b"execution_started_at", b"execution_ended_at",
)
"""Fields that hold a clock reading (or a span of one)."""


def _calls(redis: redis_lib.Redis) -> dict[str, int]:
    stats = redis.info("commandstats")
    return {name: int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("exec", "watch", "hset", "smembers")}


def _ended(server: RedisServer, merged: bool, failed: bool = False) -> tuple[dict, dict[str, int], bool]:
    """A fresh Redis's state after a job's pop, its start-up writes and the records of its success
    (or failure), descent's or RQ's own; the commands those records took; and whether the job's
    heartbeat was renewed as it ended (a clock field: the state shows it as present only)."""
    redis = redis_lib.Redis.from_url(server.url)
    redis.flushall()
    enqueue_training(redis, "family", "tenant", "job_1", 60)
    worker = DescentWorker(["family"], connection=redis, name="worker_1")
    queue = training_queue(redis, "family")
    taken = FairQueue.dequeue_any([queue], None, connection=redis, job_class=DescentJob, serializer=JSONSerializer)
    assert taken is not None
    job = taken[0]
    execution = worker._start_records(job)
    before = _calls(redis)
    ending = now()
    job._status = JobStatus.FAILED if failed else JobStatus.FINISHED
    cls = DescentWorker if merged else SimpleWorker
    cls.handle_execution_ended(worker, job, queue, job.success_callback_timeout)
    if failed:
        cls.handle_job_failure(worker, job, queue, queue.started_job_registry, "Traceback: raised", execution)
    else:
        cls.handle_job_success(worker, job, queue, queue.started_job_registry, execution)
    after = _calls(redis)
    renewed = utcparse(redis.hget(job.key, "last_heartbeat").decode()) >= ending
    return redis_state(redis, {"<execution>": execution.id}, TIMES), {k: after[k] - before[k] for k in after}, renewed


def test_success_records_are_rqs_own_in_one_transaction() -> None:
    server = RedisServer().start()
    try:
        own, own_calls, own_renewed = _ended(server, merged=False)
        merged, merged_calls, merged_renewed = _ended(server, merged=True)
    finally:
        server.stop()
    assert merged == own
    assert own_renewed and merged_renewed
    assert any(key.startswith("rq:results") for key in merged)  # the state holds the records compared
    assert merged["rq:job:job_1"][2] == own["rq:job:job_1"][2]
    assert own_calls["watch"] == 1 and own_calls["smembers"] == 1 and own_calls["exec"] == 1
    assert merged_calls["watch"] == 0 and merged_calls["smembers"] == 0 and merged_calls["exec"] == 1


def test_a_failure_writes_the_heartbeat_rq_would_have() -> None:
    """`handle_execution_ended` leaves the heartbeat owed; a failure writes it before RQ's records."""
    server = RedisServer().start()
    try:
        own, _, own_renewed = _ended(server, merged=False, failed=True)
        merged, _, merged_renewed = _ended(server, merged=True, failed=True)
    finally:
        server.stop()
    assert merged == own
    assert own_renewed and merged_renewed
