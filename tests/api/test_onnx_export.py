"""The ONNX export (`GET /v1/jobs/{id}/model?format=onnx`, descent/onnx_export.py): the whole
pipeline as one model, checked by onnxruntime against `predict` on the same raw rows — with
missing cells and a category never seen in training — for a linear regressor on a table of every
column kind, a bce classifier with a string target and a tanh MLP classifier of three classes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import onnx
import onnxruntime
import pandas as pd
import pytest

from descent.onnx_export import ACTIVATIONS
from descent.predict import ACTIVATION_FUNCTIONS
from descent.preprocess import parse_datetime
from tests.support.api import upload, wait_job
from tests.support.real_data import csv_text, serving_mixed, titanic

pytestmark = pytest.mark.usefixtures("worker")


def train(client, frame: pd.DataFrame, target: str, **job: Any) -> dict[str, Any]:
    dataset = upload(client, csv_text(frame), f"target={target}")
    r = client.post("/v1/jobs", json={"dataset_id": dataset, "epochs": 40, "tolerance": 0, **job})
    assert r.status_code == 202, r.get_json()
    done = wait_job(client, r.get_json()["id"])
    assert done["status"] == "succeeded", done
    return done


def served_rows(frame: pd.DataFrame, target: str) -> list[dict[str, Any]]:
    """Twenty rows as a client sends them: nulls where cells are missing, one more null in every
    column, and a colour or class never seen in training."""
    rows = frame.drop(columns=[target]).head(20).astype(object).where(frame.notna(), None).to_dict("records")
    for k, name in enumerate(rows[0]):
        rows[k + 1][name] = None
    category = next(n for n, v in rows[0].items() if isinstance(v, str) and not v[:1].isdigit())
    rows[-1][category] = "never-seen"
    return rows


def feeds(session: onnxruntime.InferenceSession, rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Each ONNX input from the rows: float32 numbers (NaN missing), strings ("" missing), datetimes
    as float64 epoch seconds (NaN missing)."""
    out = {}
    for item in session.get_inputs():
        values = [row.get(item.name) for row in rows]
        if item.type == "tensor(string)":
            column = np.array([["" if v is None else str(v)] for v in values], dtype=object)
        elif item.type == "tensor(double)":
            column = np.array([[math.nan if v is None else parse_datetime(v)] for v in values], dtype=np.float64)
        else:
            column = np.array([[math.nan if v is None else float(v)] for v in values], dtype=np.float32)
        out[item.name] = column
    return out


def served(client, job_id: str, rows: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """`predict`'s answer and onnxruntime's outputs on the same rows."""
    r = client.get(f"/v1/jobs/{job_id}/model?format=onnx")
    assert r.status_code == 200 and r.mimetype == "application/octet-stream"
    model = onnx.load_from_string(r.data)
    onnx.checker.check_model(model, full_check=True)
    session = onnxruntime.InferenceSession(r.data, providers=["CPUExecutionProvider"])
    outputs = session.run(None, feeds(session, rows))
    predicted = client.post(f"/v1/jobs/{job_id}/predict", json={"rows": rows}).get_json()
    return predicted, dict(zip([o.name for o in session.get_outputs()], outputs, strict=True))


def test_a_linear_regressor_on_every_column_kind_serves_as_predict_does(client):
    frame = serving_mixed()
    job = train(
        client,
        frame,
        "price",
        optimizer={"type": "adam", "lr": 0.05, "batch_size": 16},
        features={"max_categories": 3, "missing_indicator": True},
    )
    fitted = job["config"]["features"]["fitted"]
    assert {c["kind"] for c in fitted["columns"]} == {"number", "category", "datetime"}
    assert any(c.get("other") for c in fitted["columns"])  # a folded `(other)` column
    rows = served_rows(frame, "price")
    predicted, ours = served(client, job["id"], rows)
    assert "warnings" in predicted  # the unseen colour
    np.testing.assert_allclose(ours["y"], predicted["y"], rtol=1e-5)


def test_a_bce_classifier_with_a_string_target_serves_labels_and_probabilities(client):
    frame = titanic().drop(columns=["Name", "PassengerId"])
    frame["Survived"] = np.where(frame["Survived"] == 1, "survived", "died")
    job = train(client, frame, "Survived", loss="bce", positive="survived", optimizer={"type": "adam", "lr": 0.05, "batch_size": 32})
    rows = served_rows(frame, "Survived")
    predicted, ours = served(client, job["id"], rows)
    assert list(ours["label"]) == predicted["y"]
    np.testing.assert_allclose(ours["probability"], predicted["probability"], rtol=1e-5)


def test_a_tanh_mlp_of_three_classes_serves_labels_and_probabilities(client):
    frame = titanic().drop(columns=["Name", "PassengerId"])
    job = train(
        client,
        frame,
        "Pclass",
        loss="cross_entropy",
        model={"type": "mlp", "hidden": [8, 8], "activation": "tanh"},
        optimizer={"type": "adam", "lr": 0.02, "batch_size": 32},
    )
    rows = served_rows(frame, "Pclass")
    predicted, ours = served(client, job["id"], rows)
    assert list(ours["label"]) == predicted["y"]
    np.testing.assert_allclose(ours["probability"], predicted["probability"], rtol=1e-5)


def test_the_onnx_activations_are_predicts() -> None:
    assert set(ACTIVATIONS) == set(ACTIVATION_FUNCTIONS)


@pytest.mark.parametrize("model", [{"type": "linear"}, {"type": "mlp", "hidden": [6], "activation": "relu"}])
@pytest.mark.parametrize("loss", ["mse", "mae", "huber", "bce", "cross_entropy"])
def test_every_model_and_loss_serves_as_predict_does(client, model, loss):
    """Every column kind (numbers with an indicator, folded categories, a timestamp) under every
    model type and loss: a regression target, or the colour (3 kept values) as classes."""
    frame = serving_mixed().dropna(subset=["colour"])
    target = "price"
    if loss in ("bce", "cross_entropy"):
        target = "garden" if loss == "bce" else "colour"
        frame = frame.dropna(subset=[target])
    job = train(
        client,
        frame,
        target,
        loss=loss,
        model=model,
        epochs=5,
        optimizer={"type": "adam", "lr": 0.01, "batch_size": 32},
        features={"max_categories": 2, "missing_indicator": True},
    )
    rows = served_rows(frame, target)
    predicted, ours = served(client, job["id"], rows)
    if loss in ("bce", "cross_entropy"):
        assert list(ours["label"]) == predicted["y"]
        np.testing.assert_allclose(ours["probability"], predicted["probability"], rtol=1e-5)
    else:
        np.testing.assert_allclose(ours["y"], predicted["y"], rtol=1e-5)
