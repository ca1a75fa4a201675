"""The round trips a job's way saves give the same state as the plain calls (issue 15, point 2).

A script in a pipeline goes as EVAL with its body (no SCRIPT EXISTS first), even into a Redis that
has never seen it; a worker's start reads the record in its own script, and its store reuses the
tenant and dataset it read there; a job
no worker started has nothing to resume; RQ's heartbeat is one pipeline, renewed at most every few
seconds, its state written when it changes and its suspension flag read at most every second; a
start, an end (with its duration) and a hand-back count themselves in their own scripts; a job's
last flush and its end are one transaction, which writes nothing for a worker that lost the job;
a store remembers the owners of its latest jobs only.
"""

from __future__ import annotations

import uuid

import numpy as np
import redis as redis_lib

from descent.store import JobStatus, Store, keys, scripts
from descent.store.job_end import DURATION_BUCKETS
from descent.store.jobs import OWNERS_KEPT
from descent.store.records import TRAIN_POINT
from descent.store.scripts import KeyedScript, LuaScript
from tests.support.counting import Counting
from tests.support.store_records import make_dataset, make_job


def test_script_in_a_pipeline_runs_even_when_redis_never_saw_it(redis_url) -> None:
    redis = redis_lib.Redis.from_url(redis_url)
    key = "test:eval:" + uuid.uuid4().hex
    script = KeyedScript(redis, LuaScript(f"-- {key}\nreturn redis.call('INCRBY', K.n, ARGV[1])", ("n",)))
    assert not redis.script_exists(script._run.sha)[0]
    pipe = redis.pipeline(transaction=True)
    script(keys={"n": key}, args=[2], client=pipe)
    script(keys={"n": key}, args=[3], client=pipe)
    assert pipe.execute() == [2, 5]
    assert script(keys={"n": key}, args=[1]) == 6  # and outside a pipeline, as before


def _script_exists_calls(redis: redis_lib.Redis) -> int:
    return int(redis.info("commandstats").get("cmdstat_script|exists", {}).get("calls", 0))


def test_a_pipelined_script_sends_no_script_exists(redis_url) -> None:
    redis = redis_lib.Redis.from_url(redis_url)
    script = KeyedScript(redis, LuaScript("return 1", ("n",)))
    before = _script_exists_calls(redis)
    pipe = redis.pipeline(transaction=False)
    script(keys={"n": "test:eval:x"}, client=pipe)
    assert pipe.execute() == [1]
    assert _script_exists_calls(redis) == before


def test_a_start_reads_the_record_and_remembers_its_owner(store: Store, redis_url) -> None:
    """The worker's start is one script that also reads the job (as it was while queued); the
    tenant and dataset it read serve the job's later status changes, with no lookup of their own."""
    tenant = "t-" + uuid.uuid4().hex
    dataset_id = make_dataset(store, tenant)
    job_id = make_job(store, tenant, dataset_id)
    queued = store.jobs.fields(job_id)
    worker = Store(Counting.from_url(redis_url))
    scripts.load_all(worker.redis)  # as a worker's warm-up does: no NOSCRIPT round trip below
    worker.redis.sent.clear()
    started = worker.jobs.start(job_id, "w1", 10_000)
    assert worker.redis.sent == ["EVALSHA"]
    assert started and started.status == JobStatus.QUEUED and started.record == queued
    assert started.record["attempt"] == "0"
    again = Store(redis_lib.Redis.from_url(redis_url)).jobs.start(job_id, "w2", 10_000)
    assert not again and again.status == JobStatus.RUNNING and again.record is None
    missing = worker.jobs.start("job_" + uuid.uuid4().hex, "w1", 10_000)
    assert not missing and missing.status is None
    worker.redis.sent.clear()
    assert worker.jobs.transition(job_id, (JobStatus.RUNNING,), JobStatus.SUCCEEDED, result={"ok": 1})
    assert worker.redis.sent == ["EVALSHA"]
    plain = store.jobs.fields(job_id)
    assert plain["status"] == JobStatus.SUCCEEDED and plain["attempt"] == "1"
    assert job_id.encode() not in store.redis.smembers(keys.dataset_active_jobs(dataset_id))
    assert store.jobs.open_count(tenant) == 0


def test_a_fresh_job_resumes_nothing_a_started_one_reads_its_checkpoint(store: Store, monkeypatch) -> None:
    from worker import tasks

    tenant = "t-" + uuid.uuid4().hex
    job_id = make_job(store, tenant, make_dataset(store, tenant))
    asked: list[str] = []
    monkeypatch.setattr(store.jobs, "checkpoint", lambda j: asked.append(j))
    assert tasks._resume_point(store, job_id, {"attempt": "0"}) is None
    assert asked == []
    assert tasks._resume_point(store, job_id, {"attempt": "1"}) is None
    assert asked == [job_id]


def test_rq_heartbeat_is_one_pipeline(redis_url) -> None:
    from worker.runner import DescentWorker

    redis = Counting.from_url(redis_url)
    worker = DescentWorker(["test-heartbeat-" + uuid.uuid4().hex], connection=redis)
    redis.sent.clear()
    worker.heartbeat()
    assert redis.sent == []  # nothing one by one: HSET and the two EXPIREs went in one pipeline
    assert redis.hget(worker.key, "last_heartbeat") is not None
    assert redis.ttl(worker.key) > 0


def test_start_counts_itself_once_in_its_script(store: Store) -> None:
    tenant = "t-" + uuid.uuid4().hex
    job_id = make_job(store, tenant, make_dataset(store, tenant))
    before = int(store.redis.hget(keys.job_stats(), "started") or 0)
    assert store.jobs.start(job_id, "w1", 10_000)
    assert not store.jobs.start(job_id, "w2", 10_000)  # raced: taken already, not counted again
    assert int(store.redis.hget(keys.job_stats(), "started")) == before + 1


def _counted(store: Store) -> tuple[dict[str, int], dict[str, float]]:
    """The job-event counters and the duration histogram /metrics reads."""
    return store.ops.job_counts(), store.ops.durations()


def _grew(before: dict, after: dict) -> dict:
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


def test_an_end_counts_itself_and_its_duration_in_its_own_script(store: Store, redis_url) -> None:
    """The end of a running job is one script: its status counted and its seconds since the start
    (Redis's clock) in the histogram, without a command of its own."""
    tenant = "t-" + uuid.uuid4().hex
    job_id = make_job(store, tenant, make_dataset(store, tenant))
    worker = Store(Counting.from_url(redis_url))
    scripts.load_all(worker.redis)
    assert worker.jobs.start(job_id, "w1", 10_000)
    counts, durations = _counted(store)
    worker.redis.sent.clear()
    assert worker.jobs.transition(job_id, (JobStatus.RUNNING,), JobStatus.SUCCEEDED, worker="w1", result={})
    assert len(worker.redis.sent) == 1  # the script (EVALSHA), nothing after it
    new_counts, new_durations = _counted(store)
    assert _grew(counts, new_counts) == {"succeeded": 1}
    grown = _grew(durations, new_durations)
    seconds = grown.pop("sum", 0.0)  # absent when it grew by 0
    assert 0 <= seconds < 60  # a moment ago on the same clock (0 on a machine fast enough)
    assert grown == {"+Inf": 1, **{repr(b): 1 for b in DURATION_BUCKETS if b >= seconds}}
    assert not worker.jobs.transition(job_id, (JobStatus.RUNNING,), JobStatus.FAILED)  # ended: not again
    assert _counted(store) == (new_counts, new_durations)


def test_a_job_that_never_ran_ends_counted_without_a_duration(store: Store) -> None:
    tenant = "t-" + uuid.uuid4().hex
    cancelled = make_job(store, tenant, make_dataset(store, tenant))
    failed = make_job(store, tenant, make_dataset(store, tenant))
    counts, durations = _counted(store)
    assert store.jobs.cancel(tenant, cancelled).value == "cancelled"
    assert store.jobs.transition(failed, (JobStatus.QUEUED,), JobStatus.FAILED, error={"type": "internal"})
    after, after_durations = _counted(store)
    assert _grew(counts, after) == {"cancelled": 1, "failed": 1}
    assert after_durations == durations


def test_a_hand_back_counts_a_requeue_and_a_lost_job_a_failure(store: Store) -> None:
    tenant = "t-" + uuid.uuid4().hex
    job_id = make_job(store, tenant, make_dataset(store, tenant))
    assert store.jobs.start(job_id, "w1", 10_000)
    counts, durations = _counted(store)
    assert store.jobs.requeue(job_id, "w1", max_attempts=1).value == "requeued"
    assert _grew(counts, store.ops.job_counts()) == {"requeued": 1}
    assert store.ops.durations() == durations  # handed back, not ended
    store.jobs.enqueued(job_id)
    assert store.jobs.start(job_id, "w2", 1)  # its lease lapses at once: the reaper's to take
    store.redis.delete(keys.job_lease(job_id))
    counts = store.ops.job_counts()
    assert store.jobs.requeue(job_id, "", max_attempts=1).value == "lost"
    assert _grew(counts, store.ops.job_counts()) == {"failed": 1}
    assert _grew(durations, store.ops.durations())["+Inf"] == 1


def test_rq_heartbeat_is_renewed_at_most_every_few_seconds(redis_url, monkeypatch) -> None:
    """RQ renews its worker record around every dequeue and after every job; the record's TTL is
    minutes, so a renewal within HEARTBEAT_SECONDS of the last is skipped, one asked with a
    timeout (RQ's own, at start and stop) never."""
    from worker import runner

    now = [1000.0]
    monkeypatch.setattr(runner, "clock", lambda: now[0])
    redis = redis_lib.Redis.from_url(redis_url)
    worker = runner.DescentWorker(["test-heartbeat-" + uuid.uuid4().hex], connection=redis)
    worker.heartbeat()
    assert redis.hget(worker.key, "last_heartbeat") is not None
    redis.delete(worker.key)
    now[0] += runner.HEARTBEAT_SECONDS / 2
    worker.heartbeat()
    assert not redis.exists(worker.key)  # skipped: renewed a moment ago
    worker.heartbeat(timeout=600)
    assert redis.ttl(worker.key) > 0  # asked with a timeout: written
    redis.delete(worker.key)
    now[0] += runner.HEARTBEAT_SECONDS
    worker.heartbeat()
    assert redis.hget(worker.key, "last_heartbeat") is not None


def test_rq_worker_state_is_written_when_it_changes(redis_url) -> None:
    from rq.worker import WorkerStatus

    from worker.runner import DescentWorker

    redis = redis_lib.Redis.from_url(redis_url)
    worker = DescentWorker(["test-state-" + uuid.uuid4().hex], connection=redis)
    worker.set_state(WorkerStatus.IDLE)
    assert redis.hget(worker.key, "state") == b"idle"
    redis.hdel(worker.key, "state")
    worker.set_state(WorkerStatus.IDLE)  # RQ's second "idle" of the way between two jobs
    assert redis.hget(worker.key, "state") is None
    worker.set_state(WorkerStatus.BUSY)
    assert redis.hget(worker.key, "state") == b"busy"
    worker.set_state(WorkerStatus.IDLE)
    assert redis.hget(worker.key, "state") == b"idle"


def test_rq_suspension_is_read_at_most_every_second(redis_url, monkeypatch) -> None:
    from worker import runner

    now = [1000.0]
    monkeypatch.setattr(runner, "clock", lambda: now[0])
    redis = Counting.from_url(redis_url)
    reads: list[int] = []
    pipeline = redis.pipeline

    def counted(*args, **kwargs):  # RQ reads the flag in a pipeline of its own
        reads.append(1)
        return pipeline(*args, **kwargs)

    redis.pipeline = counted
    worker = runner.DescentWorker(["test-suspension-" + uuid.uuid4().hex], connection=redis)
    worker.check_for_suspension(burst=False)
    assert len(reads) == 1
    now[0] += runner.SUSPENSION_SECONDS / 2
    worker.check_for_suspension(burst=False)
    assert len(reads) == 1  # read a moment ago: not again
    now[0] += runner.SUSPENSION_SECONDS
    worker.check_for_suspension(burst=False)
    assert len(reads) == 2


def _transactions(redis: redis_lib.Redis) -> int:
    return int(redis.info("commandstats").get("cmdstat_exec", {}).get("calls", 0))


def test_a_jobs_last_flush_and_its_end_are_one_transaction(redis_url) -> None:
    """The worker's end (worker/tasks.py): the last points and the status move in one round trip,
    on a Redis of its own (its transactions counted)."""
    from tests.support.processes import RedisServer

    server = RedisServer().start()
    try:
        redis = Counting.from_url(server.url)
        store = Store(redis)
        tenant = "t-" + uuid.uuid4().hex
        job_id = make_job(store, tenant, make_dataset(store, tenant))
        assert store.jobs.start(job_id, "w1", 10_000)
        store.jobs.plan(job_id, log_every=1, steps_per_epoch=4, config={})
        point = np.zeros(1, dtype=TRAIN_POINT).tobytes()
        counter = redis_lib.Redis.from_url(server.url)
        before = _transactions(counter)
        redis.sent.clear()

        def end(pipe) -> None:
            store.jobs.queue_transition(pipe, job_id, (JobStatus.RUNNING,), JobStatus.SUCCEEDED, worker="w1", result={})

        flushed = store.jobs.flush(job_id, point, b"", None, None, worker="w1", written=(0, 0), then=end)
        assert redis.sent == [] and _transactions(counter) - before == 1  # nothing on its own: one EXEC
        assert flushed.mine and flushed.written == (len(point), 0) and flushed.then == (1,)
        assert store.jobs.get(tenant, job_id)["status"] == "succeeded"
        assert redis.get(keys.job_train_history(job_id)) == point
    finally:
        server.stop()


def test_an_end_for_a_worker_that_lost_the_job_writes_nothing(store: Store) -> None:
    tenant = "t-" + uuid.uuid4().hex
    job_id = make_job(store, tenant, make_dataset(store, tenant))
    assert store.jobs.start(job_id, "w2", 10_000)  # another worker's now
    store.jobs.plan(job_id, log_every=1, steps_per_epoch=4, config={})

    def end(pipe) -> None:
        store.jobs.queue_transition(pipe, job_id, (JobStatus.RUNNING,), JobStatus.SUCCEEDED, worker="w1", result={})

    point = np.zeros(1, dtype=TRAIN_POINT).tobytes()
    flushed = store.jobs.flush(job_id, point, b"", None, None, worker="w1", written=(0, 0), then=end)
    assert not flushed.mine and flushed.then == (b"not_yours",)  # the transition refused it too
    assert store.jobs.get(tenant, job_id)["status"] == "running"
    assert not store.redis.exists(keys.job_train_history(job_id))


def test_a_store_remembers_the_owners_of_its_latest_jobs_only(store: Store, redis_url) -> None:
    """A worker keeps one store for all its jobs (worker/tasks.py): what it remembers is bounded."""
    tenant = "t-" + uuid.uuid4().hex
    dataset_id = make_dataset(store, tenant)
    jobs = [make_job(store, tenant, dataset_id) for _ in range(OWNERS_KEPT + 1)]
    worker = Store(Counting.from_url(redis_url))
    scripts.load_all(worker.redis)
    for job_id in jobs:
        assert worker.jobs.start(job_id, "w1", 10_000)
    for job_id, sent in ((jobs[-1], ["EVALSHA"]), (jobs[0], ["HMGET", "EVALSHA"])):
        worker.redis.sent.clear()
        assert worker.jobs.transition(job_id, (JobStatus.RUNNING,), JobStatus.SUCCEEDED, worker="w1", result={})
        assert worker.redis.sent == sent  # the oldest job's owner is read again
    assert len(worker.jobs._owners) == OWNERS_KEPT
