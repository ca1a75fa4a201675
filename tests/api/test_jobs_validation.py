"""POST /v1/jobs validation: every bad field at once, defaults filled, nothing created on rejection."""

from __future__ import annotations

import pytest

from tests.support.api import problem

CSV = "x,y\n1,2\n2,4\n3,6\n4,8\n5,10\n"


@pytest.fixture()
def dataset(client) -> dict:
    return client.post("/v1/datasets", data=CSV, content_type="text/csv").get_json()


def fields(body: dict) -> set[str]:
    return {e["field"] for e in body["errors"]}


def test_defaults_are_filled_in(client, dataset):
    r = client.post("/v1/jobs", json={"dataset_id": dataset["id"], "optimizer": {"type": "gd"}})
    assert r.status_code == 202, r.get_json()
    job = r.get_json()
    assert r.headers["Location"] == f"/v1/jobs/{job['id']}"
    assert job["status"] in ("queued", "running", "succeeded")
    config = job["config"]
    assert config["model"] == {"type": "linear", "bias": True}
    assert config["loss"] == "mse"
    assert config["optimizer"] == {
        "type": "gd",
        "lr": 0.01,
        "weight_decay": 0.0,
        "clip_norm": None,
        "schedule": None,
    }
    assert config["epochs"] == 100 and config["tolerance"] == 1e-7
    assert config["split"] == {"dev": 0.0, "test": 0.0, "stratify": False}
    assert config["early_stopping"] is None and config["positive"] is None
    assert config["features"] == {
        "include": None,
        "exclude": [],
        "impute": "mean",
        "missing_indicator": False,
        "max_categories": 20,
    }
    assert config["smoothing"] == 0.4 and config["standardize"] is True and config["seed"] == 0
    assert config["max_runtime_seconds"] == 3600
    assert job["attempt"] == 0 and job["sweep_id"] is None and job["result"] is None


def test_minibatch_gets_its_default_batch_size(client, dataset):
    job = client.post(
        "/v1/jobs", json={"dataset_id": dataset["id"], "optimizer": {"type": "minibatch"}}
    ).get_json()
    assert job["config"]["optimizer"] == {
        "type": "minibatch",
        "lr": 0.01,
        "weight_decay": 0.0,
        "clip_norm": None,
        "schedule": None,
        "batch_size": 32,
    }


def test_keys_of_other_optimizers_are_accepted_and_ignored(client, dataset):
    r = client.post(
        "/v1/jobs",
        json={"dataset_id": dataset["id"], "optimizer": {"type": "gd", "lr": 0.1, "batch_size": 8}},
    )
    assert r.status_code == 202
    assert r.get_json()["config"]["optimizer"] == {
        "type": "gd",
        "lr": 0.1,
        "weight_decay": 0.0,
        "clip_norm": None,
        "schedule": None,
    }


def test_every_invalid_field_is_reported_at_once(client, dataset):
    body = problem(
        client.post(
            "/v1/jobs",
            json={
                "dataset_id": dataset["id"],
                "optimizer": {"type": "gd", "lr": -1, "typo": 3},
                "epochs": 0,
                "smoothing": 2,
                "tolerance": "small",
                "split": {"dev": 1.5},
                "standardize": 1,
                "bogus": True,
            },
        ),
        400,
    )
    assert fields(body) == {
        "optimizer.lr",
        "optimizer.typo",
        "epochs",
        "smoothing",
        "tolerance",
        "split.dev",
        "standardize",
        "bogus",
    }
    assert "bogus" in body["detail"]


@pytest.mark.parametrize(
    "patch, field",
    [
        ({"optimizer": None}, "optimizer"),
        ({"optimizer": {"type": "newton"}}, "optimizer.type"),
        ({"optimizer": {"type": "exhaustive"}}, "optimizer.grid"),
        (
            {"optimizer": {"type": "exhaustive", "grid": {"w": {"min": 1, "max": 0, "steps": 3}}}},
            "optimizer.grid.w",
        ),
        (
            {"optimizer": {"type": "exhaustive", "grid": {"w": {"min": 0, "max": 1, "steps": 0}}}},
            "optimizer.grid.w.steps",
        ),
        (
            {"optimizer": {"type": "exhaustive", "grid": {"w": [{"min": 0, "max": 1, "steps": 0}]}}},
            "optimizer.grid.w[0].steps",
        ),
        ({"model": {"type": "cnn"}}, "model.type"),
        ({"model": {"type": "linear", "bias": "yes"}}, "model.bias"),
        ({"loss": "hinge"}, "loss"),
        ({"split": {"dev": 0.5, "test": 0.5}}, "split"),
        ({"seed": -1}, "seed"),
        ({"epochs": 10.5}, "epochs"),
        ({"early_stopping": {"patience": 0}}, "early_stopping.patience"),
        ({"max_runtime_seconds": 0}, "max_runtime_seconds"),
        ({"dataset_id": None}, "dataset_id"),
    ],
)
def test_single_bad_field_is_named(client, dataset, patch, field):
    body = {"dataset_id": dataset["id"], "optimizer": {"type": "gd"}}
    body.update(patch)
    body = {k: v for k, v in body.items() if v is not None}
    assert field in fields(problem(client.post("/v1/jobs", json=body), 400))


@pytest.mark.parametrize(
    "patch, field, needle",
    [
        ({"epochs": 10**9}, "epochs", "DESCENT_MAX_EPOCHS"),
        ({"max_runtime_seconds": 10**9}, "max_runtime_seconds", "DESCENT_MAX_RUNTIME_SECONDS"),
        (
            {
                "optimizer": {
                    "type": "exhaustive",
                    "grid": {
                        "w": {"min": 0, "max": 1, "steps": 10**4},
                        "b": {"min": 0, "max": 1, "steps": 10**4},
                    },
                }
            },
            "optimizer.grid",
            "DESCENT_MAX_GRID_POINTS",
        ),
        (
            {"optimizer": {"type": "exhaustive", "grid": {"w": [{"min": 0, "max": 1, "steps": 3}] * 2}}},
            "optimizer.grid.w",
            "one per feature",
        ),
        ({"split": {"dev": 0.1}}, "split.dev", "no row"),
        (
            {
                "model": {"type": "linear", "bias": False},
                "optimizer": {
                    "type": "exhaustive",
                    "grid": {"w": {"min": 0, "max": 1, "steps": 3}, "b": {"min": 0, "max": 1, "steps": 3}},
                },
            },
            "optimizer.grid.b",
            "no bias",
        ),
        (
            {
                "loss": "cross_entropy",
                "optimizer": {"type": "exhaustive", "grid": {"w": {"min": 0, "max": 1, "steps": 3}}},
            },
            "loss",
            "exhaustive search supports loss mse, mae, huber, bce, not cross_entropy (its model has one output",
        ),
        (
            {
                "loss": "bce",
                "optimizer": {"type": "exhaustive", "grid": {"w": {"min": 0, "max": 1, "steps": 3}}},
            },
            "loss",
            "bce needs a target with two distinct values",
        ),
    ],
)
def test_limits_and_dataset_fit(client, dataset, patch, field, needle):
    body = {"dataset_id": dataset["id"], "optimizer": {"type": "gd"}, **patch}
    err = problem(client.post("/v1/jobs", json=body), 400)
    match = [e for e in err["errors"] if e["field"] == field]
    assert match and needle in match[0]["message"]


def test_unknown_dataset_is_404(client):
    body = problem(client.post("/v1/jobs", json={"dataset_id": "ds_nope", "optimizer": {"type": "gd"}}), 404)
    assert body["errors"][0]["field"] == "dataset_id"


def test_body_must_be_a_json_object(client):
    problem(client.post("/v1/jobs", json=[1, 2]), 400)
    problem(client.post("/v1/jobs", data="x", content_type="text/plain"), 415)
    problem(client.post("/v1/jobs", data="{nope", content_type="application/json"), 400)


def test_rejected_requests_create_no_job(client, dataset):
    bad = [
        {"dataset_id": dataset["id"]},
        {"dataset_id": dataset["id"], "optimizer": {"type": "gd", "lr": 0}},
        {"dataset_id": dataset["id"], "optimizer": {"type": "gd"}, "epochs": -3},
        {"dataset_id": dataset["id"], "optimizer": {"type": "gd"}, "split": {"dev": 0.1}},
    ]
    for body in bad:
        assert client.post("/v1/jobs", json=body).status_code == 400
    assert client.get(f"/v1/jobs?dataset_id={dataset['id']}").get_json()["jobs"] == []


def test_unknown_job_routes_are_404(client):
    for path in ("/v1/jobs/job_x", "/v1/jobs/job_x/history", "/v1/jobs/job_x/surface"):
        problem(client.get(path), 404)
    problem(client.post("/v1/jobs/job_x/cancel"), 404)
    problem(client.delete("/v1/jobs/job_x"), 404)


def test_list_filters_are_validated(client):
    problem(client.get("/v1/jobs?status=sleeping"), 400)
    problem(client.get("/v1/jobs?limit=abc"), 400)
    problem(client.get("/v1/jobs/job_x/history?after=-1"), 404)
