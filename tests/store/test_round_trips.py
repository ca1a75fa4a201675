"""The round trips a job's way saves give the same state as the plain calls (issue 15, point 2).

A script in a pipeline goes as EVAL with its body (no SCRIPT EXISTS first), even into a Redis that
has never seen it; a worker's store reuses the tenant and dataset it read with the record; a job
no worker started has nothing to resume; RQ's heartbeat is one pipeline, renewed at most every few
seconds, its state written when it changes and its suspension flag read at most every second; a
start counts itself in its own script.
"""

from __future__ import annotations

import uuid

import redis as redis_lib

from descent.store import JobStatus, Store, keys
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


def test_remembered_owner_gives_the_same_state_changes(store: Store, redis_url) -> None:
    tenant = "t-" + uuid.uuid4().hex
    dataset_id = make_dataset(store, tenant)
    job_id = make_job(store, tenant, dataset_id)
    worker = Store(Counting.from_url(redis_url))
    record = worker.jobs.fields(job_id, remember=True)
    assert record is not None and record["attempt"] == "0"
    worker.redis.sent.clear()
    assert worker.jobs.start(job_id, "w1", 10_000)
    assert "HMGET" not in worker.redis.sent
    assert worker.jobs.transition(job_id, (JobStatus.RUNNING,), JobStatus.SUCCEEDED, result={"ok": 1})
    assert "HMGET" not in worker.redis.sent
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
