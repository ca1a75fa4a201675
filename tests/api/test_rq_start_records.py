"""RQ's start-up writes for a job, made by `DescentWorker._start_records` in one transaction, are the
writes RQ's own `prepare_execution` and `prepare_job_execution` make in two."""

from __future__ import annotations

import redis as redis_lib
from rq.serializers import JSONSerializer
from rq.worker import SimpleWorker

from descent.queue import enqueue_training, training_queue
from tests.support.processes import RedisServer
from tests.support.redis_state import redis_state
from worker.dequeue import FairQueue
from worker.runner import DescentJob, DescentWorker

TIMES = (b"last_heartbeat", b"started_at", b"created_at", b"enqueued_at")
"""Hash fields that hold a clock reading."""


def _transactions(redis: redis_lib.Redis) -> int:
    return int(redis.info("commandstats").get("cmdstat_exec", {}).get("calls", 0))


def _started(server: RedisServer, merged: bool) -> tuple[dict, int]:
    """A fresh Redis's state after a job's pop and RQ's start-up writes (merged or RQ's own), and
    how many transactions those writes took."""
    redis = redis_lib.Redis.from_url(server.url)
    redis.flushall()
    enqueue_training(redis, "family", "tenant", "job_1", 60)
    worker = DescentWorker(["family"], connection=redis, name="worker_1")
    taken = FairQueue.dequeue_any(
        [training_queue(redis, "family")], None, connection=redis, job_class=DescentJob, serializer=JSONSerializer
    )
    assert taken is not None
    job = taken[0]
    before = _transactions(redis)
    if merged:
        execution = worker._start_records(job)
    else:
        execution = SimpleWorker.prepare_execution(worker, job)
        SimpleWorker.prepare_job_execution(worker, job, remove_from_intermediate_queue=True)
    assert worker.executions == {execution.id: execution}
    return redis_state(redis, {"<execution>": execution.id}, TIMES), _transactions(redis) - before


def test_start_records_are_rqs_own_two_transactions_in_one() -> None:
    server = RedisServer().start()
    try:
        own, own_transactions = _started(server, merged=False)
        merged, merged_transactions = _started(server, merged=True)
    finally:
        server.stop()
    assert merged == own
    assert any(key.startswith("rq:execution") for key in merged)  # the state holds the records compared
    assert (own_transactions, merged_transactions) == (2, 1)
