"""RQ's start-up writes for a job, made by `DescentWorker._start_records` in one transaction, are the
writes RQ's own `prepare_execution` and `prepare_job_execution` make in two."""

from __future__ import annotations

import redis as redis_lib
from rq.serializers import JSONSerializer
from rq.worker import SimpleWorker

from descent.queue import enqueue_training, training_queue
from descent.store import Store
from tests.support.processes import RedisServer
from tests.support.redis_state import redis_state
from tests.support.store_records import make_dataset
from worker import tasks
from worker.dequeue import FairQueue
from worker.heartbeat import WORKER_NAME
from worker.runner import DescentJob, DescentWorker

TIMES = (b"last_heartbeat", b"started_at", b"created_at", b"enqueued_at")
"""Hash fields that hold a clock reading."""


def _transactions(redis: redis_lib.Redis) -> int:
    return int(redis.info("commandstats").get("cmdstat_exec", {}).get("calls", 0))


def _popped(redis: redis_lib.Redis) -> tuple[DescentWorker, DescentJob]:
    """A worker, and job_1 queued and popped as the worker pops it."""
    enqueue_training(redis, "family", "tenant", "job_1", 60)
    worker = DescentWorker(["family"], connection=redis, name="worker_1")
    taken = FairQueue.dequeue_any(
        [training_queue(redis, "family")], None, connection=redis, job_class=DescentJob, serializer=JSONSerializer
    )
    assert taken is not None
    return worker, taken[0]


def _started(server: RedisServer, merged: bool) -> tuple[dict, int]:
    """A fresh Redis's state after a job's pop and RQ's start-up writes (merged or RQ's own), and
    how many transactions those writes took."""
    redis = redis_lib.Redis.from_url(server.url)
    redis.flushall()
    worker, job = _popped(redis)
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


def _round_trips(redis: redis_lib.Redis) -> int:
    """Transactions and scripts sent on their own (a script inside a transaction is EVAL, counted
    by the transaction)."""
    stats = redis.info("commandstats")
    return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("exec", "evalsha"))


def _descent_started(server: RedisServer, merged: bool) -> tuple[dict, int, str | None, dict[str, str]]:
    """As `_started`, for a job descent created: RQ's start-up writes and descent's start of the
    job, merged into one transaction or made as RQ and the task make them alone. Also what the task
    is handed: the start's status and the record (its clock reading out, the dataset's id named)."""
    redis = redis_lib.Redis.from_url(server.url)
    redis.flushall()
    store = Store(redis, 3600)
    dataset_id = make_dataset(store, "tenant")
    assert store.jobs.create("tenant", "job_1", {"dataset_id": dataset_id, "epochs": 1}) is not None
    worker, job = _popped(redis)
    settings, _ = tasks.process_store(redis)  # the worker's store, made before its first job
    before = _round_trips(redis)
    if merged:
        execution = worker._start_records(job)
        started = tasks._STARTED.pop(job.id)
    else:
        execution = SimpleWorker.prepare_execution(worker, job)
        SimpleWorker.prepare_job_execution(worker, job, remove_from_intermediate_queue=True)
        started = store.jobs.start("job_1", WORKER_NAME, int(settings.lease_seconds * 1000))
    names = {"<execution>": execution.id, "<dataset>": dataset_id}
    state = redis_state(redis, names, (*TIMES, b"started_clock", b"version"))
    assert started.record is not None
    record = {k: v.replace(dataset_id, "<dataset>") for k, v in started.record.items() if k != "created_at"}
    return state, _round_trips(redis) - before, started.status, record


def test_descents_start_is_made_with_rqs_start_records() -> None:
    """The job's start (running, its lease, the counters) is written with RQ's start-up records:
    the same state as RQ's two transactions and the task's own start, in one round trip instead of
    three, and the task finds the start made (the record as it was while queued)."""
    server = RedisServer().start()
    try:
        merged, merged_trips, merged_status, merged_record = _descent_started(server, merged=True)
        own, own_trips, own_status, own_record = _descent_started(server, merged=False)  # the script cached
    finally:
        server.stop()
    assert merged == own
    assert own["descent:job:job_1"][2][-1] == ("worker", WORKER_NAME)  # the state holds the start
    assert (own_trips, merged_trips) == (3, 1)
    assert merged_status == own_status == "queued"
    assert merged_record == own_record
