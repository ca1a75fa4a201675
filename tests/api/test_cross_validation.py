"""Cross-validation sweeps (`validation.folds`): one child per candidate and fold, the folds a
partition of the rows, each candidate's mean and standard deviation from its children; the sweeps
list. The fold rows each child trained without are tied to its own dev loss: the loss its
parameters give on those rows, recomputed here in numpy, equals the one it reported."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

from descent.spec import Split
from tests.support.api import problem, upload, wait_sweep
from tests.support.data import WORKED, diabetes
from worker.engine.data import split_indices

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture(scope="module")
def diabetes_id(app) -> str:
    return upload(app.test_client(), diabetes()[0], "name=diabetes")


def children(client, sweep_id: str) -> dict[str, dict]:
    jobs = client.get(f"/v1/jobs?sweep_id={sweep_id}&limit=500").get_json()["jobs"]
    return {j["id"]: j for j in jobs}


def dev_rows(job: dict, rows: int, strata: np.ndarray | None = None) -> np.ndarray:
    config = job["config"]
    return split_indices(rows, Split.model_validate(config["split"]), config["seed"], strata)[1]


def test_five_folds_on_diabetes_partition_the_rows_and_give_each_candidate_its_mean_and_std(client, diabetes_id):
    _, x, y = diabetes()
    body = {
        "dataset_id": diabetes_id,
        "base": {"optimizer": {"type": "gd"}, "epochs": 30, "tolerance": 0, "seed": 3},
        "grid": {"optimizer.lr": [0.01, 0.1]},
        "validation": {"folds": 5},
    }
    r = client.post("/v1/sweeps", json=body)
    assert r.status_code == 202, r.get_json()
    sweep = wait_sweep(client, r.get_json()["id"])
    assert sweep["counts"] == {"succeeded": 10} and sweep["ranked_by"] == "dev_loss"
    assert sweep["validation"] == {"folds": 5} and len(sweep["candidates"]) == 2
    jobs = children(client, sweep["id"])
    for candidate in sweep["candidates"]:
        members = [jobs[job_id] for job_id in candidate["job_ids"]]
        assert [m["config"]["split"]["fold"] for m in members] == [0, 1, 2, 3, 4]
        assert all(m["config"]["split"]["folds"] == 5 for m in members)
        assert all(m["config"]["optimizer"]["lr"] == candidate["overrides"]["optimizer.lr"] for m in members)
        folds = [dev_rows(m, len(y)) for m in members]
        everything = np.sort(np.concatenate(folds))
        np.testing.assert_array_equal(everything, np.arange(len(y)))  # disjoint, and every row once
        assert max(f.size for f in folds) - min(f.size for f in folds) <= 1
        losses = []
        for member, rows in zip(members, folds, strict=True):
            result = member["result"]
            assert result["dev_rows"] == rows.size and result["train_rows"] == len(y) - rows.size
            params = result["params"]
            predicted = x[rows] @ np.array(params["weights"]) + params["bias"]
            assert result["dev_loss"] == pytest.approx(np.mean((predicted - y[rows]) ** 2), rel=1e-6)
            losses.append(result["dev_loss"])
        assert candidate["mean_dev_loss"] == pytest.approx(np.mean(losses), rel=1e-12)
        assert candidate["std_dev_loss"] == pytest.approx(np.std(losses), rel=1e-9)
        assert candidate["succeeded"] == 5
        for metric in ("mse", "rmse", "mae", "r2"):  # the mean over the folds of each dev metric
            folds_metric = [m["result"]["metrics"]["dev"][metric] for m in members]
            assert candidate["metrics"][metric] == pytest.approx(np.mean(folds_metric), rel=1e-12)
    means = [c["mean_dev_loss"] for c in sweep["candidates"]]
    assert means == sorted(means) and sweep["best_overrides"] == sweep["candidates"][0]["overrides"]
    assert {j["fold"] for j in sweep["jobs"]} == {0, 1, 2, 3, 4}


def test_a_classifiers_folds_keep_the_class_shares_and_plain_cross_validation_needs_no_grid(client):
    data = load_breast_cancer()
    x, y = data.data.astype(np.float32), data.target.astype(np.float32)
    body = {"name": "cancer", "x": x.tolist(), "y": y.tolist()}
    dataset_id = client.post("/v1/datasets", json=body).get_json()["id"]
    r = client.post(
        "/v1/sweeps",
        json={
            "dataset_id": dataset_id,
            "base": {"loss": "bce", "optimizer": {"type": "adam", "lr": 0.05}, "epochs": 20, "seed": 1},
            "validation": {"folds": 4},
        },
    )
    assert r.status_code == 202, r.get_json()
    sweep = wait_sweep(client, r.get_json()["id"])
    (candidate,) = sweep["candidates"]
    assert candidate["overrides"] == {} and sweep["grid"] == {} and candidate["succeeded"] == 4
    jobs = children(client, sweep["id"])
    share = y.mean()
    folds = []
    for job_id in candidate["job_ids"]:
        job = jobs[job_id]
        assert job["config"]["split"]["stratify"] is True
        rows = dev_rows(job, len(y), y)
        folds.append(rows)
        assert abs(y[rows].sum() - share * rows.size) <= 1  # each fold: the class share, to a row
        weights, bias = np.array(job["result"]["params"]["weights"]), job["result"]["params"]["bias"]
        logits = x[rows].astype(np.float64) @ weights + bias
        bce = np.mean(np.logaddexp(0, logits) - y[rows] * logits)
        assert job["result"]["dev_loss"] == pytest.approx(bce, rel=1e-6)
    np.testing.assert_array_equal(np.sort(np.concatenate(folds)), np.arange(len(y)))
    assert candidate["mean_dev_loss"] == pytest.approx(np.mean([jobs[j]["result"]["dev_loss"] for j in jobs]))


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"validation": {"folds": 1}}, "validation.folds", "integer >= 2"),
        ({"validation": {"folds": "5"}}, "validation.folds", "integer >= 2"),
        ({"validation": {"folds": 5, "shuffle": True}}, "validation.shuffle", "not a known field"),
        ({"validation": {"folds": 1000}}, "validation.folds", "exceed DESCENT_MAX_SWEEP_CHILDREN"),
        ({"validation": {"folds": 5}, "base": {"optimizer": {"type": "gd"}, "split": {"dev": 0.2}}}, "base.split.dev", "leave base.split.dev out"),
        ({"validation": {"folds": 5}, "grid": {"split.fold": [0, 1]}}, "grid.split.fold", "set by validation.folds"),
        ({"grid": None}, "grid", "is required"),
        ({"validation": [5]}, "validation", "must be an object"),
    ],
)
def test_a_bad_cross_validation_request_is_a_precise_400(client, diabetes_id, change, field, words):
    body = {"dataset_id": diabetes_id, "base": {"optimizer": {"type": "gd"}}, "grid": {"optimizer.lr": [0.1]}}
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    errors = problem(client.post("/v1/sweeps", json=body), 400)["errors"]
    assert any(e["field"] == field and words in e["message"] for e in errors), errors


def test_more_folds_than_rows_is_a_400_naming_validation_folds(client):
    dataset_id = upload(client, WORKED)
    body = {"dataset_id": dataset_id, "base": {"optimizer": {"type": "gd"}}, "validation": {"folds": 4}}
    errors = problem(client.post("/v1/sweeps", json=body), 400)["errors"]
    assert errors == [{"field": "validation.folds", "message": "4 folds of 3 rows (those not in test) leave a fold empty"}]


def test_the_sweeps_list_pages_newest_first(client, diabetes_id):
    ids = []
    for lr in (0.01, 0.02, 0.03):
        body = {"dataset_id": diabetes_id, "base": {"optimizer": {"type": "gd"}, "epochs": 1}, "grid": {"optimizer.lr": [lr]}}
        ids.append(client.post("/v1/sweeps", json=body).get_json()["id"])
    first = client.get("/v1/sweeps?limit=2").get_json()
    second = client.get(f"/v1/sweeps?limit=2&cursor={first['next_cursor']}").get_json()
    listed = [s["id"] for s in first["sweeps"] + second["sweeps"]]
    assert listed[:3] == ids[::-1]
    assert set(first["sweeps"][0]) >= {"id", "dataset_id", "status", "counts", "best_job_id", "created_at"}
    assert "jobs" not in first["sweeps"][0]
    problem(client.get("/v1/sweeps?cursor=nonsense"), 400)
