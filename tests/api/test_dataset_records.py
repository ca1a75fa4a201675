"""A job's POST on a dataset the API process has seen reads no dataset record
(service/dataset_records.py), and what it keeps never lets a job through that the stored dataset
refuses: a dataset deleted or published again behind the process's back is read afresh."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import redis as redis_lib

from descent.store import Store
from descent.table import Column, Table
from service import create_app
from service.tables import describe
from tests.support.processes import RedisServer


@pytest.fixture()
def server():
    started = RedisServer().start()
    yield started
    started.stop()


@pytest.fixture()
def api(settings, server):
    """The app on a Redis of its own: its commands are the only ones counted there."""
    app = create_app({"SETTINGS": replace(settings, redis_url=server.url), "TESTING": True})
    return app.test_client()


def _reads(server: RedisServer) -> int:
    """HMGETs the Redis has answered (a dataset's record is one)."""
    stats = redis_lib.Redis.from_url(server.url).info("commandstats")
    return int(stats.get("cmdstat_hmget", {}).get("calls", 0))


def _dataset(api) -> str:
    rows = [[float(i), float(i % 3)] for i in range(20)]
    r = api.post("/v1/datasets", json={"x": rows, "y": [float(i) for i in range(20)]})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def _job(dataset_id: str, **extra: Any) -> dict[str, Any]:
    return {"dataset_id": dataset_id, "optimizer": {"type": "gd", "lr": 0.1}, "epochs": 2, **extra}


def test_a_second_job_reads_no_dataset_record(api, server) -> None:
    dataset_id = _dataset(api)
    assert api.post("/v1/jobs", json=_job(dataset_id)).status_code == 202
    before = _reads(server)
    second = api.post("/v1/jobs", json=_job(dataset_id))
    assert second.status_code == 202, second.get_json()
    assert _reads(server) == before
    assert api.get(f"/v1/jobs/{second.get_json()['id']}").get_json()["status"] == "queued"


def test_a_dataset_deleted_behind_the_process_takes_no_job(api, server) -> None:
    dataset_id = _dataset(api)
    assert api.post("/v1/jobs", json=_job(dataset_id)).status_code == 202
    store = Store(redis_lib.Redis.from_url(server.url))
    redis_lib.Redis.from_url(server.url).delete(f"descent:dataset:{dataset_id}")  # as another process would
    assert store.datasets.described(dataset_id) is None
    refused = api.post("/v1/jobs", json=_job(dataset_id))
    assert refused.status_code == 404, refused.get_json()
    assert refused.get_json()["errors"] == [{"field": "dataset_id", "message": "no such dataset"}]


def _publish_again(api, server, dataset_id: str) -> None:
    """The dataset published again under its id with columns a, b and y, as a store-level call
    would (no API route does): the API process still keeps the first description."""
    store = Store(redis_lib.Redis.from_url(server.url))
    old = api.get(f"/v1/datasets/{dataset_id}").get_json()
    values = np.arange(20, dtype=np.float32)
    columns = (Column("a", "number", values), Column("b", "number", values % 3), Column("y", "number", values))
    table = Table(columns, "y", 20)
    store.datasets.put_table("public", {**old, **describe(table), "created_score": 1.0}, table)


@pytest.mark.parametrize("first", ["stale", "fresh"])
def test_a_dataset_published_again_is_checked_as_stored(api, server, first: str) -> None:
    """A request the kept description takes but the stored one does not is refused, and one only
    the stored description takes is accepted, whichever comes first."""
    dataset_id = _dataset(api)
    assert api.post("/v1/jobs", json=_job(dataset_id, features={"include": ["x1"]})).status_code == 202
    _publish_again(api, server, dataset_id)
    stale, fresh = _job(dataset_id, features={"include": ["x1"]}), _job(dataset_id, features={"include": ["a"]})
    for request in ([stale, fresh] if first == "stale" else [fresh, stale]):
        answer = api.post("/v1/jobs", json=request)
        assert answer.status_code == (400 if request is stale else 202), answer.get_json()
