"""A job's creation and its queueing in one transaction (`JobStore.create(..., then=queue_created)`):
the Redis state is what creating it and then RQ's own enqueue (`enqueue_training`) leave, in one
round trip instead of two; a refused creation queues nothing, wakes no worker, and a worker takes
the job as it takes any other."""

from __future__ import annotations

import pytest
import redis as redis_lib
from rq.serializers import JSONSerializer

from descent.queue import enqueue_training, queue_created, queue_depth, rotation
from descent.store import OpenJobsLimit, Store, keys
from tests.support.processes import RedisServer
from tests.support.redis_state import redis_state
from tests.support.store_records import make_dataset
from worker.dequeue import FairQueue
from worker.runner import DescentJob

FAMILY = "family"
TIMES = (b"created_at", b"enqueued_at", b"version")
"""Hash fields that hold a clock reading (or, `version`, the random token of a dataset's publish)."""


@pytest.fixture(scope="module")
def server():
    """A Redis of this module's own (emptied by each test): the tests compare its keys and count its
    transactions."""
    server = RedisServer().start()
    yield server
    server.stop()


def fresh_store(server: RedisServer) -> tuple[Store, str]:
    """An emptied Redis's store, and a dataset of the tenant's in it (its id)."""
    redis = redis_lib.Redis.from_url(server.url)
    redis.flushall()
    redis.config_resetstat()
    store = Store(redis, 3600)
    return store, make_dataset(store, "tenant")


def queued_by_hand(store: Store, dataset_id: str, job_id: str, **create: object) -> None:
    """Created, then queued by RQ's own enqueue: the two round trips this replaces."""
    if store.jobs.create("tenant", job_id, {"dataset_id": dataset_id, "epochs": 1}, **create) is not None:
        enqueue_training(store.redis, FAMILY, "tenant", job_id, 60)


def queued_at_once(store: Store, dataset_id: str, job_id: str, **create: object) -> None:
    def then(pipeline: redis_lib.client.Pipeline) -> None:
        queue_created(store.redis, pipeline, FAMILY, "tenant", job_id, 60)

    store.jobs.create("tenant", job_id, {"dataset_id": dataset_id, "epochs": 1}, then=then, **create)


def queueing(redis: redis_lib.Redis) -> dict[str, object]:
    """RQ's keys and the queue family's: what queueing a job writes."""
    return {k: v for k, v in redis_state(redis, {}).items() if k.startswith(("rq:", "descent:queue:"))}


def transactions(redis: redis_lib.Redis) -> int:
    return int(redis.info("commandstats").get("cmdstat_exec", {}).get("calls", 0))


def test_created_and_queued_at_once_leaves_what_rqs_own_enqueue_leaves(server) -> None:
    states, counts = [], []
    for make in (queued_by_hand, queued_at_once):
        store, dataset_id = fresh_store(server)
        before = transactions(store.redis)
        make(store, dataset_id, "job_1")
        counts.append(transactions(store.redis) - before)
        # the job's own created_at is a clock reading too (descent's record, not RQ's)
        states.append(redis_state(store.redis, {"<dataset>": dataset_id}, TIMES))
    assert states[1] == states[0]
    assert "rq:job:job_1" in states[1] and keys.queue_doorbell(FAMILY) in states[1]  # the state compared holds them
    assert counts == [2, 1]


@pytest.mark.parametrize("refusal", ["open jobs limit", "dataset published again", "dataset missing"])
def test_a_refused_creation_queues_nothing_and_wakes_no_worker(server, refusal) -> None:
    store, dataset_id = fresh_store(server)
    before = queueing(store.redis)
    if refusal == "open jobs limit":
        queued_at_once(store, dataset_id, "job_0")
        before = queueing(store.redis)
        with pytest.raises(OpenJobsLimit):
            queued_at_once(store, dataset_id, "job_1", max_open=1)
    elif refusal == "dataset published again":
        queued_at_once(store, dataset_id, "job_1", dataset_version="not-its-token")
    else:
        store.datasets.delete("tenant", dataset_id)
        queued_at_once(store, dataset_id, "job_1")
    assert queueing(store.redis) == before
    assert store.jobs.fields("job_1") is None and not store.redis.exists("rq:job:job_1")


def test_a_worker_takes_a_job_queued_at_once(server) -> None:
    store, dataset_id = fresh_store(server)
    queued_at_once(store, dataset_id, "job_1")
    assert queue_depth(store.redis, FAMILY) == 1
    assert store.redis.lrange(keys.queue_doorbell(FAMILY), 0, -1) == [b"1"]  # an idle worker is woken
    taken = FairQueue.dequeue_any(
        [FairQueue(FAMILY, connection=store.redis, serializer=JSONSerializer)],
        None,
        connection=store.redis,
        job_class=DescentJob,
        serializer=JSONSerializer,
    )
    assert taken is not None
    job, queue = taken
    assert job.args == ["job_1"] and queue.name == f"{FAMILY}:tenant"
    assert rotation(store.redis, FAMILY).depths() == {FAMILY: 0, f"{FAMILY}:tenant": 0}
