"""Sweeps: children are ordinary jobs, spread over workers, ranked, cancellable."""

from __future__ import annotations

import itertools
from datetime import datetime

import numpy as np
import pytest
from sklearn.datasets import load_diabetes

from tests.support.api import problem, upload, wait_sweep
from tests.support.data import WORKED
from tests.support.holds import Hold
from tests.support.processes import WORKER_DEADLINE, Worker, wait_for

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture(scope="module")
def second_worker(settings):
    w = Worker(settings)
    yield w
    w.stop()


@pytest.fixture(scope="module")
def diabetes_id(app) -> str:
    data = load_diabetes()
    body = {"name": "diabetes", "x": data.data.tolist(), "y": data.target.astype(np.float64).tolist()}
    return app.test_client().post("/v1/datasets", json=body).get_json()["id"]


def when(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def test_sweep_of_six_on_two_workers_overlaps_and_ranks(client, settings, diabetes_id, second_worker):
    wait_for(
        lambda: client.get("/readyz").get_json()["workers"] >= 2, 60, interval=0.1, what="two live workers"
    )
    body = {
        "dataset_id": diabetes_id,
        "base": {
            "optimizer": {"type": "minibatch", "batch_size": 8},
            "epochs": 60,
            "tolerance": 0,
            "split": {"dev": 0.2},
        },
        "grid": {"optimizer.type": ["sgd", "minibatch"], "optimizer.lr": [0.0001, 0.001, 0.01]},
    }
    with Hold(settings.redis_url, diabetes_id, step=50):  # two children running at once, for sure
        r = client.post("/v1/sweeps", json=body)
        assert r.status_code == 202, r.get_json()
        sweep_id = r.get_json()["id"]

        def two_held() -> bool:
            jobs = client.get(f"/v1/jobs?sweep_id={sweep_id}").get_json()["jobs"]
            return sum(j["status"] == "running" and j["progress"]["step"] >= 50 for j in jobs) == 2

        wait_for(two_held, WORKER_DEADLINE, interval=0.05, what="two children held at once, one on each worker")
    sweep = wait_sweep(client, sweep_id)
    assert sweep["counts"] == {"succeeded": 6} and sweep["ranked_by"] == "dev_loss"
    children = client.get(f"/v1/jobs?sweep_id={sweep_id}").get_json()["jobs"]
    assert len(children) == 6 and all(c["sweep_id"] == sweep_id for c in children)
    best = min(children, key=lambda c: c["result"]["dev_loss"])
    assert sweep["best_job_id"] == best["id"]
    assert [j["dev_loss"] for j in sweep["jobs"]] == sorted(j["dev_loss"] for j in sweep["jobs"])
    overrides = {tuple(sorted(j["overrides"].items())) for j in sweep["jobs"]}
    assert len(overrides) == 6
    intervals = sorted((when(c["started_at"]), when(c["finished_at"])) for c in children)
    overlapping = any(b_start < a_end for (_, a_end), (b_start, _) in itertools.pairwise(intervals))
    assert overlapping, intervals


def test_cancelling_a_sweep_cancels_its_children(client, settings):
    ds = upload(client, WORKED)
    body = {
        "dataset_id": ds,
        "base": {"optimizer": {"type": "sgd", "lr": 0.0001}, "epochs": 5000, "tolerance": 0},
        "grid": {"seed": [1, 2, 3]},
    }
    with Hold(settings.redis_url, ds, step=10):  # one child running, the others queued
        sweep_id = client.post("/v1/sweeps", json=body).get_json()["id"]
        wait_for(
            lambda: any(
                j["status"] == "running" and j["progress"]["step"] >= 10
                for j in client.get(f"/v1/jobs?sweep_id={sweep_id}").get_json()["jobs"]
            ),
            60,
            interval=0.05,
            what="a running child",
        )
        assert client.post(f"/v1/sweeps/{sweep_id}/cancel").status_code == 202
        sweep = wait_sweep(client, sweep_id, timeout=10)
    assert sweep["counts"] == {"cancelled": 3} and sweep["best_job_id"] is None
    problem(client.post(f"/v1/sweeps/{sweep_id}/cancel"), 409)


def test_sweep_validation_names_fields(client):
    ds = upload(client, WORKED)
    body = problem(
        client.post(
            "/v1/sweeps",
            json={"dataset_id": ds, "base": {"dataset_id": ds}, "grid": {"Bad Path": [1], "epochs": []}},
        ),
        400,
    )
    fields = {e["field"] for e in body["errors"]}
    assert {"base.dataset_id", "grid.Bad Path", "grid.epochs"} <= fields
    body = problem(
        client.post(
            "/v1/sweeps",
            json={
                "dataset_id": ds,
                "base": {"optimizer": {"type": "gd"}},
                "grid": {"optimizer.lr": [0.1, -1.0], "epochs": [0, 5]},
            },
        ),
        400,
    )
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"grid.optimizer.lr", "grid.epochs"}
    too_many = {"dataset_id": ds, "base": {"optimizer": {"type": "gd"}}, "grid": {"seed": list(range(65))}}
    assert (
        "DESCENT_MAX_SWEEP_CHILDREN"
        in problem(client.post("/v1/sweeps", json=too_many), 400)["errors"][0]["message"]
    )
    problem(client.post("/v1/sweeps", json={"dataset_id": "ds_nope", "base": {}, "grid": {"seed": [1]}}), 404)
    problem(client.get("/v1/sweeps/sweep_nope"), 404)
    assert client.get(f"/v1/jobs?dataset_id={ds}").get_json()["jobs"] == []
