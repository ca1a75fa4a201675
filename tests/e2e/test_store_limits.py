"""A full Redis answers 503 (never silent loss), and ended jobs and datasets expire on time."""

from __future__ import annotations

from dataclasses import replace

import pytest

from service import create_app
from tests.support.data import WORKED
from tests.support.processes import RedisServer, wait_for


@pytest.fixture()
def tiny_redis():
    server = RedisServer("--maxmemory", "3mb", "--maxmemory-policy", "noeviction").start()
    yield server
    server.stop()


def test_a_full_redis_is_503_on_writes_and_reads_still_work(settings, tiny_redis):
    client = create_app({"SETTINGS": replace(settings, redis_url=tiny_redis.url)}).test_client()
    big = "a,b,c,d,y\n" + "".join(f"{i},{i + 1},{i + 2},{i + 3},{i % 7}\n" for i in range(20000))
    stored = []
    for _ in range(50):
        r = client.post("/v1/datasets", data=big, content_type="text/csv")
        if r.status_code == 503:
            body = r.get_json()
            assert r.mimetype == "application/problem+json" and "full" in body["detail"]
            break
        assert r.status_code == 201
        stored.append(r.get_json()["id"])
    else:
        pytest.fail("Redis never filled up")
    listed = {d["id"] for d in client.get("/v1/datasets?limit=500").get_json()["datasets"]}
    assert listed == set(stored)  # everything acknowledged is there, nothing half-written


def test_ended_jobs_and_unused_datasets_expire(settings, redis_url):
    short = replace(settings, retention_seconds=1, queue_name=settings.queue_name + "-idle")
    client = create_app({"SETTINGS": short}).test_client()
    ds = client.post("/v1/datasets", data=WORKED, content_type="text/csv").get_json()["id"]
    job = client.post("/v1/jobs", json={"dataset_id": ds, "optimizer": {"type": "gd"}}).get_json()["id"]
    client.post(f"/v1/jobs/{job}/cancel")
    wait_for(
        lambda: client.get(f"/v1/jobs/{job}").status_code == 404, 10, interval=0.1, what="the job to expire"
    )
    wait_for(
        lambda: client.get(f"/v1/datasets/{ds}").status_code == 404, 10, interval=0.1, what="the dataset"
    )
    assert job not in {j["id"] for j in client.get("/v1/jobs?limit=500").get_json()["jobs"]}
