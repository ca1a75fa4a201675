"""A full Redis (maxmemory reached, noeviction) under a running job: the job keeps training and
buffering, keeps its lease, and ends `succeeded` on its first attempt once room is made; /readyz and
/metrics say the store is full meanwhile."""

from __future__ import annotations

from dataclasses import replace

import pytest
import redis as redis_lib

from service import create_app
from tests.support.api import full_history, get_job, submit, upload, wait_job
from tests.support.fill import Filler, full_server_args, gauges, lease_renewals, wait_logged
from tests.support.holds import Hold, wait_held
from tests.support.processes import WORKER_DEADLINE, RedisServer, Worker, wait_beating, wait_for

LEASE_SECONDS = 3.0
HEARTBEAT_SECONDS = 0.5
STORE_GAUGES = ("descent_store_used_bytes", "descent_store_max_bytes", "descent_store_full")


def nonready(client):
    """/readyz's answer when it is not a 200."""
    r = client.get("/readyz")
    return r if r.status_code != 200 else None


@pytest.fixture()
def small_server():
    s = RedisServer(*full_server_args("16mb")).start()
    yield s
    s.stop()


def test_a_full_redis_costs_a_running_job_nothing(settings, small_server):
    """The job is held at step 1,000 of 3,000 (checkpointed, flushing, renewing its lease) while
    Redis is filled until it refuses even a few bytes; then it is released and trains to its end
    with every write refused, so it is still running (its end cannot be written) while the test
    looks: the worker says it is waiting, /readyz and /metrics say full, and the lease is renewed
    more often than a lease lasts. Room is made; the job ends on attempt 1 with every step once."""
    server = small_server
    own = replace(settings, redis_url=server.url)
    client = create_app({"SETTINGS": own}).test_client()
    env = {
        "DESCENT_CHECKPOINT_SECONDS": "0.5",
        "DESCENT_LEASE_SECONDS": str(LEASE_SECONDS),
        "DESCENT_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
    }
    worker = Worker(own, env=env)
    filler = Filler(server.url)
    try:
        rows = "\n".join(f"{i % 17},{(i * 7) % 23},{i % 5}" for i in range(2000))
        ds = upload(client, "a,b,y\n" + rows + "\n")
        body = {
            "dataset_id": ds,
            "model": {"type": "mlp", "hidden": [16]},
            "optimizer": {"type": "adam", "lr": 0.001, "batch_size": 8},
            "epochs": 12,
            "tolerance": 0,
        }
        wait_beating(redis_lib.Redis.from_url(server.url), 1)
        assert client.get("/readyz").status_code == 200
        assert gauges(client, *STORE_GAUGES)["descent_store_full"] == 0
        with Hold(server.url, ds, step=1_000) as hold:
            job = submit(client, **body)["id"]
            wait_held(client, job, 1_000)
            assert filler.fill() > 0
            hold.release()  # a delete: allowed on a full Redis
            filler.fill()  # take back the few bytes the hold's key freed

            ready = wait_for(lambda: nonready(client), 15, interval=0.1, what="/readyz to say not ready")
            assert ready.status_code == 503 and ready.mimetype == "application/problem+json", ready.data
            doc = ready.get_json()
            assert doc["redis"] == "full" and doc["type"].endswith("store-full") and doc["workers"] == 1
            assert doc["max_bytes"] == filler.limit and doc["used_bytes"] > filler.limit
            store = gauges(client, *STORE_GAUGES)
            assert store["descent_store_full"] == 1
            assert store["descent_store_max_bytes"] == filler.limit
            assert store["descent_store_used_bytes"] > filler.limit
            # trained to its end with nothing written: the end waits for room (tasks.persist)
            wait_logged(worker.log, job, "redis full", "retrying")
            lease_renewals(server.url, job, round(2 * LEASE_SECONDS / HEARTBEAT_SECONDS), WORKER_DEADLINE)
            assert get_job(client, job)["status"] == "running"
            assert worker.proc.poll() is None
            filler.free()
        wait_for(lambda: client.get("/readyz").status_code == 200, 15, interval=0.1, what="/readyz ready")
        done = wait_job(client, job)
        assert done["status"] == "succeeded", done
        assert done["attempt"] == 1
        assert done["progress"]["step"] == 3_000
        assert full_history(client, job)["train"]["step"] == list(range(1, 3_001))
        assert worker.proc.poll() is None
        assert gauges(client, *STORE_GAUGES)["descent_store_full"] == 0
    finally:
        if filler.written:
            filler.free()
        worker.stop()
