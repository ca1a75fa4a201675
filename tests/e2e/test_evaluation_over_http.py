"""`result.metrics` end to end: docker-compose.yml's redis, api (gunicorn) and worker commands started
natively, driven over real HTTP — the metrics of each split equal scikit-learn's on `/predict`'s
answer, null for a split that does not exist, and the job conforms to the served /openapi.json."""

from __future__ import annotations

import pytest

from tests.support.api import HttpClient, submit, upload, wait_job
from tests.support.metrics import KEYS, assert_documented, assert_metrics_match, client_reference
from tests.support.real_data import csv_text, titanic
from tests.support.stack import compose_stack


@pytest.fixture(scope="module")
def client():
    with compose_stack() as stack:
        yield HttpClient(stack.base)


def test_a_classifier_and_a_regressor_report_their_metrics_over_http(client) -> None:
    frame = titanic()
    document = client.get("/openapi.json").get_json()
    classes = upload(client, csv_text(frame), "target=Pclass")
    fares = upload(client, csv_text(frame[["Age", "Pclass", "Fare"]].dropna()), "target=Fare")
    classifier = submit(
        client,
        dataset_id=classes,
        loss="cross_entropy",
        features={"exclude": ["PassengerId"]},
        optimizer={"type": "gd", "lr": 0.5},
        epochs=100,
        split={"dev": 0.25},
    )
    regressor = submit(client, dataset_id=fares, optimizer={"type": "gd", "lr": "auto"}, epochs=200)

    job = wait_job(client, classifier["id"])
    assert job["status"] == "succeeded", job
    assert_documented(document, "JobResource", job)
    metrics = job["result"]["metrics"]
    assert metrics["test"] is None and set(metrics["dev"]) == KEYS["cross_entropy"]
    expected = client_reference(client, job, frame["Pclass"].to_numpy())
    for name in ("train", "dev"):
        assert_metrics_match(metrics[name], expected[name], name)

    job = wait_job(client, regressor["id"])
    assert job["status"] == "succeeded", job
    assert_documented(document, "JobResource", job)
    metrics = job["result"]["metrics"]
    assert metrics["dev"] is None and metrics["test"] is None
    fare = frame[["Age", "Pclass", "Fare"]].dropna()["Fare"].to_numpy()
    assert_metrics_match(metrics["train"], client_reference(client, job, fare)["train"], "train")
    assert (
        metrics["train"]["r2"] == job["result"]["r2"]
        and metrics["train"]["mse"] == job["result"]["train_loss"]
    )
