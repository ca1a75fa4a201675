"""`result.metrics` through the API: a real worker trains, and every split's metrics equal
scikit-learn's on what a client gets back — the target column it uploaded and `/predict`'s labels and
probabilities for every row — to 1e-9 relative, counts exactly (API.md, "Evaluation")."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.api import submit, upload, wait_job
from tests.support.data import WORKED
from tests.support.metrics import KEYS, assert_metrics_match, client_reference, task
from tests.support.real_data import csv_text, housing, titanic

pytestmark = pytest.mark.usefixtures("worker")

SPLIT = {"dev": 0.2, "test": 0.2}
ADAM = {"type": "adam", "lr": 0.05, "batch_size": 64}


def test_bce_on_a_string_target_with_a_chosen_positive_class(client) -> None:
    frame = titanic()
    dataset = upload(client, csv_text(frame), "target=Sex")
    body = {"loss": "bce", "positive": "female", "optimizer": ADAM, "epochs": 40, "split": SPLIT}
    job = wait_job(
        client, submit(client, dataset_id=dataset, features={"exclude": ["PassengerId"]}, **body)["id"]
    )
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert result["classes"] == ["male", "female"]  # [other, positive]: the matrices' order
    expected = client_reference(client, job, frame["Sex"].to_numpy())
    for name in ("train", "dev", "test"):
        assert set(result["metrics"][name]) == KEYS["bce"]
        assert_metrics_match(result["metrics"][name], expected[name], name)
    counts = [np.asarray(result["metrics"][name]["confusion_matrix"]) for name in ("train", "dev", "test")]
    assert sum(c.sum() for c in counts) == len(frame)
    assert sum(c[1].sum() for c in counts) == int((frame["Sex"] == "female").sum())  # row 1: true female
    assert result["accuracy"] == result["metrics"]["train"]["accuracy"]
    assert result["dev_accuracy"] == result["metrics"]["dev"]["accuracy"]
    assert result["test_accuracy"] == result["metrics"]["test"]["accuracy"]


def test_an_mlp_with_three_string_classes(client) -> None:
    frame = titanic()
    dataset = upload(client, csv_text(frame), "target=Pclass")
    model = {"type": "mlp", "hidden": [8], "activation": "relu"}
    body = {"loss": "cross_entropy", "model": model, "optimizer": ADAM, "epochs": 40, "split": SPLIT}
    job = wait_job(
        client, submit(client, dataset_id=dataset, features={"exclude": ["PassengerId"]}, **body)["id"]
    )
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert result["classes"] == ["1st", "2nd", "3rd"]
    expected = client_reference(client, job, frame["Pclass"].to_numpy())
    for name in ("train", "dev", "test"):
        assert set(result["metrics"][name]) == KEYS["cross_entropy"]
        assert np.shape(result["metrics"][name]["confusion_matrix"]) == (3, 3)
        assert_metrics_match(result["metrics"][name], expected[name], name)
    assert result["accuracy"] == result["metrics"]["train"]["accuracy"]


def test_regression_with_a_loss_other_than_mse(client) -> None:
    frame = housing()
    dataset = upload(client, csv_text(frame), "target=price")
    body = {"loss": "huber", "optimizer": {"type": "gd", "lr": "auto"}, "epochs": 300, "split": SPLIT}
    job = wait_job(client, submit(client, dataset_id=dataset, **body)["id"])
    assert job["status"] == "succeeded", job
    result = job["result"]
    expected = client_reference(client, job, frame["price"].to_numpy())
    for name in ("train", "dev", "test"):
        assert set(result["metrics"][name]) == KEYS["regression"]
        assert_metrics_match(result["metrics"][name], expected[name], name)
    assert (result["r2"], result["dev_r2"], result["test_r2"]) == tuple(
        result["metrics"][name]["r2"] for name in ("train", "dev", "test")
    )


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_an_exhaustive_search_without_held_out_rows(client, loss: str) -> None:
    text = WORKED if loss == "mse" else "x,y\n-2,0\n-1,0\n0.5,1\n1,0\n2,1\n3,1\n"
    dataset = upload(client, text)
    grid = {"w": {"min": 0, "max": 4, "steps": 41}, "b": {"min": -1, "max": 1, "steps": 21}}
    job = wait_job(
        client,
        submit(client, dataset_id=dataset, loss=loss, optimizer={"type": "exhaustive", "grid": grid})["id"],
    )
    assert job["status"] == "succeeded", job
    metrics = job["result"]["metrics"]
    assert metrics["dev"] is None and metrics["test"] is None
    assert set(metrics["train"]) == KEYS[task(loss)]
    truth = [float(line.split(",")[1]) for line in text.splitlines()[1:]]
    if loss == "bce":
        truth = [int(v) for v in truth]  # the classes a number column gives: [0, 1]
    assert_metrics_match(metrics["train"], client_reference(client, job, truth)["train"], "train")
    if loss == "mse":  # the course's example: w = 2 fits exactly
        assert metrics["train"] == {"mse": 0.0, "rmse": 0.0, "mae": 0.0, "r2": 1.0}
