"""A job handed back to the queue reaches the queue, whatever Redis does between the two steps.

Requeueing is "running → queued" in the store, then an RQ queue entry (worker/requeue.py). Here
Redis really fails between them — it refuses the second step (an ACL that lets the worker's user
touch only descent's keys, not RQ's), or it is stopped — and the tests check that a later heartbeat
puts the job on the queue instead of leaving it queued with nothing to run it, forever.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

import numpy as np
import pytest
import redis as redis_lib

from descent.queue import tenant_queue_name, training_queue
from descent.store import JobStatus, Store, keys
from tests.support.processes import RedisServer, wait_for
from worker.heartbeat import Heartbeat
from worker.requeue import enqueue_owed, requeue

PASSWORD = "requeue-test"


@pytest.fixture()
def server():
    s = RedisServer("--appendonly", "yes", "--appendfsync", "always").start()
    yield s
    s.stop()


TENANT = "t"


def running_job(store: Store, worker: str, lease_ms: int) -> str:
    """A job of TENANT that `worker` started, holding a lease of `lease_ms`."""
    tenant, dataset_id, job_id = TENANT, "ds_" + uuid.uuid4().hex, "job_" + uuid.uuid4().hex
    x, y = np.ones((3, 1), dtype=np.float32), np.ones(3, dtype=np.float32)
    store.datasets.put(tenant, {"id": dataset_id, "rows": 3, "features": 1, "created_score": 1.0}, x, y)
    config = {"dataset_id": dataset_id, "epochs": 3, "max_runtime_seconds": 60}
    assert store.jobs.create(tenant, job_id, config) is not None
    assert store.jobs.start(job_id, worker, lease_ms)
    return job_id


def queued_ids(admin: redis_lib.Redis, queue_name: str) -> list[str]:
    """What waits on TENANT's queue of the family `queue_name`."""
    return training_queue(admin, tenant_queue_name(queue_name, TENANT)).job_ids


@pytest.mark.parametrize("who", ["reaper", "stopping worker"])
def test_queue_entry_refused_after_the_requeue_is_written_by_a_later_beat(settings, server, who):
    admin = redis_lib.Redis(port=server.port)
    # The worker's user may use descent's keys, not RQ's: the store's step succeeds, RQ's fails.
    admin.execute_command("ACL", "SETUSER", "worker", "on", f">{PASSWORD}", f"~{keys.PREFIX}*", "+@all")
    limited = redis_lib.Redis(port=server.port, username="worker", password=PASSWORD)
    own = replace(settings, redis_url=server.url, heartbeat_seconds=0.0)
    store, limited_store = Store(admin), Store(limited)
    if who == "reaper":
        job_id = running_job(store, "dead-worker", lease_ms=1)
        wait_for(lambda: not admin.exists(keys.job_lease(job_id)), 5, what="the lease to lapse")
        Heartbeat(limited_store, own).beat()  # reaps: requeued, and the queue entry refused
    else:
        job_id = running_job(store, "stopping-worker", lease_ms=60_000)
        requeue(limited_store, own, job_id, "stopping-worker")
    assert store.jobs.fields(job_id)["status"] == JobStatus.QUEUED
    assert queued_ids(admin, own.queue_name) == []

    Heartbeat(limited_store, own).beat()  # still refused: nothing lost, nothing duplicated
    assert queued_ids(admin, own.queue_name) == []
    admin.execute_command("ACL", "SETUSER", "worker", "allkeys")  # Redis lets the worker through again
    Heartbeat(limited_store, own).beat()
    assert queued_ids(admin, own.queue_name) == [f"{job_id}-r1"]
    Heartbeat(limited_store, own).beat()  # paid once
    assert queued_ids(admin, own.queue_name) == [f"{job_id}-r1"]
    assert store.jobs.fields(job_id)["status"] == JobStatus.QUEUED


def test_redis_stopped_between_requeue_and_enqueue_the_job_reaches_the_queue(settings, server):
    own = replace(settings, redis_url=server.url, heartbeat_seconds=0.0)
    client = redis_lib.Redis(port=server.port, socket_connect_timeout=0.5)
    store = Store(client)
    job_id = running_job(store, "dead-worker", lease_ms=1)
    wait_for(lambda: not client.exists(keys.job_lease(job_id)), 5, what="the lease to lapse")
    # The reaper's first step, then Redis stops before the second could run.
    assert store.jobs.requeue(job_id, "", own.max_attempts) == "requeued"
    server.stop(keep_data=True)
    with pytest.raises(redis_lib.exceptions.ConnectionError):
        enqueue_owed(store, own, job_id)  # the second step, as the reaper would run it now
    server.start(wait=False)

    def beat_and_look() -> list[str]:
        try:
            Heartbeat(store, own).beat()
            return queued_ids(client, own.queue_name)
        except redis_lib.exceptions.ConnectionError:  # the server is still starting
            return []

    assert wait_for(beat_and_look, 15, interval=0.05, what="the job on the queue") == [f"{job_id}-r1"]
    assert store.jobs.fields(job_id)["status"] == JobStatus.QUEUED
