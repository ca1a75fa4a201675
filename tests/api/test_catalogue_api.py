"""The catalogue through HTTP: MLPs, classification losses, momentum/adam, auto lr, predict, export."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import load as load_safetensors
from sklearn.datasets import load_breast_cancer, load_iris

from tests.support.api import problem, safetensors_metadata, submit, upload, wait_job
from tests.support.data import WORKED
from tests.support.data import diabetes as diabetes_data

pytestmark = pytest.mark.usefixtures("worker")


def upload_xy(client, x: np.ndarray, y: np.ndarray, name: str) -> str:
    r = client.post("/v1/datasets", json={"name": name, "x": x.tolist(), "y": y.tolist()})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def train(client, **body) -> dict:
    job = wait_job(client, submit(client, **body)["id"])
    assert job["status"] == "succeeded", job
    return job


def forward(params, x: np.ndarray, activation: str | None = None) -> np.ndarray:
    """The exported parameters applied by hand, as a client would."""
    if isinstance(params, dict):
        return x @ np.asarray(params["weights"]).T + np.asarray(params["bias"])
    act = {
        "relu": lambda z: np.maximum(z, 0),
        "tanh": np.tanh,
        "identity": lambda z: z,
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    }[activation]
    h = x
    for i, layer in enumerate(params):
        h = h @ np.asarray(layer["weight"]).T + np.asarray(layer["bias"])
        if i < len(params) - 1:
            h = act(h)
    return h


@pytest.fixture(scope="module")
def diabetes() -> tuple[np.ndarray, np.ndarray]:
    return diabetes_data()[1:]


# The settings of tests/engine/test_least_squares.py's DIABETES_SETTINGS, quoted in the README.
DIABETES_RUNS = {
    "sgd": {"type": "sgd", "lr": 0.001},
    "minibatch": {"type": "minibatch", "lr": 0.02, "batch_size": 32},
    "momentum": {"type": "momentum", "lr": 0.002, "batch_size": 32, "momentum": 0.9},
    "adam": {"type": "adam", "lr": 0.01, "batch_size": 32},
}


@pytest.mark.parametrize("name", list(DIABETES_RUNS))
def test_optimizers_reach_least_squares_on_diabetes(client, diabetes, name):
    x, y = diabetes
    ds = upload_xy(client, x, y, "diabetes")
    epochs = 20 if name == "sgd" else 100
    job = train(client, dataset_id=ds, optimizer=DIABETES_RUNS[name], epochs=epochs, tolerance=0)
    design = np.hstack([x, np.ones((len(x), 1))])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    optimum = float(np.mean((design @ coef - y) ** 2))
    assert job["result"]["train_loss"] <= optimum * 1.03


def test_bce_classifier_predicts_and_exports(client):
    data = load_breast_cancer()
    x, y = data.data, data.target.astype(np.float64)
    ds = upload_xy(client, x, y, "cancer")
    job = train(client, dataset_id=ds, loss="bce", optimizer={"type": "adam", "lr": 0.01}, epochs=100)
    assert job["result"]["accuracy"] >= 0.95 and job["result"]["r2"] is None
    pred = client.post(f"/v1/jobs/{job['id']}/predict", json={"x": x[:50].tolist()}).get_json()
    p = np.asarray(pred["probability"])
    assert ((p >= 0) & (p <= 1)).all()
    exported = client.get(f"/v1/jobs/{job['id']}/model").get_json()
    assert exported["output"] == "sigmoid"
    logits = forward(exported["params"], x[:50])
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-logits)), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(pred["y"], (p >= 0.5).astype(float))


def test_mlp_cross_entropy_on_iris(client):
    data = load_iris()
    x, y = data.data, data.target.astype(np.float64)
    ds = upload_xy(client, x, y, "iris")
    model = {"type": "mlp", "hidden": [16], "activation": "tanh"}
    job = train(
        client,
        dataset_id=ds,
        model=model,
        loss="cross_entropy",
        optimizer={"type": "adam", "lr": 0.01, "batch_size": 16},
        epochs=200,
    )
    assert job["result"]["accuracy"] >= 0.95
    pred = client.post(f"/v1/jobs/{job['id']}/predict", json={"x": x.tolist()}).get_json()
    probs = np.asarray(pred["probability"])
    assert probs.shape == (150, 3) and np.allclose(probs.sum(axis=1), 1) and (probs >= 0).all()
    blob = client.get(f"/v1/jobs/{job['id']}/model?format=safetensors")
    assert blob.status_code == 200
    again = [client.get(f"/v1/jobs/{job['id']}/model?format=safetensors").data for _ in range(5)]
    assert all(data == blob.data for data in again)  # the same model, the same bytes
    assert safetensors_metadata(blob.data)["loss"] == '"cross_entropy"'
    tensors = load_safetensors(blob.data)
    assert set(tensors) == {"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"}
    layers = [{"weight": tensors[f"layers.{i}.weight"], "bias": tensors[f"layers.{i}.bias"]} for i in (0, 1)]
    logits = forward(layers, x, "tanh")
    soft = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(probs, soft / soft.sum(axis=1, keepdims=True), rtol=1e-9, atol=1e-12)


def test_regression_predict_equals_exported_params(client, diabetes):
    x, y = diabetes
    ds = upload_xy(client, x, y, "diabetes")
    job = train(
        client,
        dataset_id=ds,
        model={"type": "mlp", "hidden": [8], "activation": "relu"},
        optimizer={"type": "adam", "lr": 0.01},
        epochs=20,
    )
    pred = client.post(f"/v1/jobs/{job['id']}/predict", json={"x": x[:20].tolist()}).get_json()
    assert "probability" not in pred
    params = client.get(f"/v1/jobs/{job['id']}/model").get_json()["params"]
    np.testing.assert_allclose(pred["y"], forward(params, x[:20], "relu")[:, 0], rtol=1e-9)
    bad = problem(client.post(f"/v1/jobs/{job['id']}/predict", json={"x": [[1.0, 2.0]]}), 400)
    assert bad["errors"][0]["field"] == "x[0]" and "10 features" in bad["errors"][0]["message"]


def test_auto_lr_and_the_stability_bound_on_the_worked_example(client):
    ds = upload(client, WORKED)
    common = {"dataset_id": ds, "model": {"type": "linear", "bias": False}, "standardize": False}
    auto = train(client, optimizer={"type": "gd", "lr": "auto"}, epochs=100, **common)
    assert abs(auto["result"]["params"]["weights"][0] - 2) < 1e-6
    assert auto["config"]["optimizer"]["lr"] == pytest.approx(3 / 28)
    bad = wait_job(client, submit(client, optimizer={"type": "gd", "lr": 1.0}, **common)["id"])
    assert bad["error"]["type"] == "diverged" and "0.214" in bad["error"]["message"]


def test_early_stopping_reports_the_best_dev_epoch(client, diabetes):
    x, y = diabetes
    ds = upload_xy(client, x[:120], y[:120], "small")
    job = train(
        client,
        dataset_id=ds,
        model={"type": "mlp", "hidden": [64, 64], "activation": "relu"},
        optimizer={"type": "adam", "lr": 0.01, "batch_size": 16},
        epochs=2000,
        tolerance=0,
        split={"dev": 0.3},
        early_stopping={"patience": 20, "min_delta": 0.0},
    )
    result = job["result"]
    assert result["outcome"] == "early_stopped" and result["epochs_run"] < 2000
    assert result["dev_loss"] == job["metrics"]["best_dev_loss"]


def test_classification_losses_check_the_target_at_submission(client):
    for csv, loss, needle in (
        (WORKED, "bce", "two distinct values; 'y' has 3"),
        ("x,y\n1,5\n2,5\n3,5\n", "cross_entropy", "2 or more classes; 'y' has 1"),
        ("x,y\n1,a\n2,b\n3,c\n", "mse", "needs a number target; 'y' is a category"),
    ):
        ds = upload(client, csv)
        body = problem(
            client.post("/v1/jobs", json={"dataset_id": ds, "loss": loss, "optimizer": {"type": "gd"}}), 400
        )
        assert body["errors"][0]["field"] == "loss" and needle in body["errors"][0]["message"]


def test_predict_and_export_need_a_succeeded_job(client):
    ds = upload(client, WORKED)
    bad = wait_job(
        client, submit(client, dataset_id=ds, standardize=False, optimizer={"type": "gd", "lr": 5.0})["id"]
    )
    assert bad["status"] == "failed"
    problem(client.post(f"/v1/jobs/{bad['id']}/predict", json={"x": [[1.0]]}), 409)
    problem(client.get(f"/v1/jobs/{bad['id']}/model"), 409)
    problem(client.get("/v1/jobs/job_nope/model"), 404)
