"""scikit-learn's metrics as the reference for a job's `result.metrics` (API.md, "Evaluation").

`reference` computes, with sklearn.metrics, what each split's metrics must be for the targets, the
predictions and the probabilities a client has (from `/predict`, or descent.predict on the split's
rows); `assert_metrics_match` holds a job's numbers to them: equal to 1e-9 relative, counts exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn import metrics as sk

from descent.predict import predict
from descent.spec import JobConfig
from worker.engine.data import stratified_split

RELATIVE = 1e-9
"""How close a metric must be to scikit-learn's."""

KEYS = {
    "regression": {"mse", "rmse", "mae", "r2"},
    "bce": {"accuracy", "log_loss", "roc_auc", "precision", "recall", "f1", "confusion_matrix"},
    "cross_entropy": {"accuracy", "log_loss", "macro_f1", "confusion_matrix"},
}
"""The metrics of each task, by the job's loss (mse, mae and huber are "regression")."""


def task(loss: str) -> str:
    return loss if loss in ("bce", "cross_entropy") else "regression"


def reference(
    loss: str,
    y_true: Sequence[Any] | np.ndarray,
    y_pred: Sequence[Any] | np.ndarray,
    probability: np.ndarray | None = None,
    classes: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """scikit-learn's numbers for one split. Classifiers: `y_true` and `y_pred` are labels (the
    target's own values, as `/predict` answers, or class indices with `classes` = range(K));
    `probability` is P(positive) per row for bce (`classes` = [other, positive]), (rows, K) for
    cross_entropy; `classes` in `result.classes` order."""
    kind = task(loss)
    if kind == "regression":
        truth, pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
        return {
            "mse": sk.mean_squared_error(truth, pred),
            "rmse": sk.root_mean_squared_error(truth, pred),
            "mae": sk.mean_absolute_error(truth, pred),
            "r2": sk.r2_score(truth, pred),
        }
    assert probability is not None and classes is not None
    labels = list(classes)
    truth, pred = np.asarray(y_true), np.asarray(y_pred)
    common = {
        "accuracy": sk.accuracy_score(truth, pred),
        "confusion_matrix": sk.confusion_matrix(truth, pred, labels=labels).tolist(),
    }
    if kind == "cross_entropy":
        return {
            **common,
            "log_loss": sk.log_loss(_codes(truth, labels), probability, labels=list(range(len(labels)))),
            "macro_f1": sk.f1_score(truth, pred, average="macro", zero_division=0),
        }
    positive = labels[1]
    is_positive = (truth == positive).astype(int)
    one_class = len(set(is_positive.tolist())) < 2
    return {
        **common,
        "log_loss": sk.log_loss(is_positive, probability, labels=[0, 1]),
        "roc_auc": None if one_class else sk.roc_auc_score(is_positive, probability),
        "precision": sk.precision_score(truth, pred, labels=labels, pos_label=positive, zero_division=0),
        "recall": sk.recall_score(truth, pred, labels=labels, pos_label=positive, zero_division=0),
        "f1": sk.f1_score(truth, pred, labels=labels, pos_label=positive, zero_division=0),
    }


def _codes(labels: np.ndarray, classes: list[Any]) -> np.ndarray:
    """Labels as their index in `classes` (scikit-learn sorts labels; classes are in the API's order)."""
    index = {label: k for k, label in enumerate(classes)}
    return np.array([index[v] for v in labels.tolist()], dtype=np.int64)


def assert_metrics_match(ours: dict[str, Any], expected: dict[str, Any], where: str = "") -> None:
    """The same keys; every float within RELATIVE of scikit-learn's, counts and nulls equal, and each
    value a plain JSON number (int counts, float scores)."""
    assert set(ours) == set(expected), f"{where}: keys {sorted(ours)} != {sorted(expected)}"
    for name, want in expected.items():
        got = ours[name]
        if name == "confusion_matrix":
            assert got == want, f"{where}: confusion_matrix {got} != {want}"
            assert all(type(c) is int for row in got for c in row), f"{where}: counts must be ints"
        elif want is None:
            assert got is None, f"{where}: {name} = {got}, scikit-learn: undefined"
        else:
            assert type(got) is float, f"{where}: {name} is {type(got).__name__}"
            assert close(got, float(want)), f"{where}: {name} = {got!r}, scikit-learn {float(want)!r}"


def close(a: float, b: float, relative: float = RELATIVE) -> bool:
    """Equal, or within `relative` of the larger magnitude."""
    return a == b or math.isclose(a, b, rel_tol=relative, abs_tol=0.0)


def split_rows(job: dict[str, Any], y: np.ndarray) -> dict[str, np.ndarray]:
    """Each split's row indices into `y` (every labelled row, as the job encoded its target: 0/1 with
    1 the positive class, class indices, or the number), drawn by the engine's own rule from the
    job's config."""
    spec = JobConfig.model_validate(job["config"])
    train, dev, test = stratified_split(np.asarray(y, dtype=np.float32), spec)
    return {"train": train, "dev": dev, "test": test}


def engine_reference(out: Any, config: JobConfig, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """scikit-learn's metrics of each split of an engine run (`out`, a TrainOutput, of `train(x, y,
    config)`): descent.predict applied to the split's rows, as a client holding the parameters does;
    None for a split without rows. Classes are the indices 0..K-1 the engine trains on."""
    model = config.model.model_dump(mode="json")
    train, dev, test = stratified_split(np.asarray(y, dtype=np.float32), config)
    expected: dict[str, Any] = {}
    for name, rows in (("train", train), ("dev", dev), ("test", test)):
        if rows.size == 0:
            expected[name] = None
            continue
        answer = predict(out.params, model, config.loss, x[rows])
        probability = None if answer["probability"] is None else np.asarray(answer["probability"])
        k = 2 if probability is None or probability.ndim == 1 else probability.shape[1]
        classes = [float(c) for c in range(k)]
        expected[name] = reference(config.loss, y[rows], answer["y"], probability, classes)
    return expected


def client_reference(client: Any, job: dict[str, Any], truth: Sequence[Any] | np.ndarray) -> dict[str, Any]:
    """scikit-learn's metrics of each split of a succeeded job, from what a client holds: the target
    column `truth` of its dataset (no value missing; numbers as the dataset stores them, float32) and
    `/predict`'s answer for every row of that dataset (labels and probabilities, as the API gives
    them); None for a split without rows."""
    response = client.post(f"/v1/jobs/{job['id']}/predict", json={"dataset_id": job["dataset_id"]})
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    loss, classes = job["config"]["loss"], job["result"].get("classes")
    truth = np.asarray(truth)
    if classes is None:  # a number target, as the dataset stores it: float32
        truth = encoded = truth.astype(np.float32).astype(np.float64)
    elif loss == "bce":
        encoded = (truth == classes[1]).astype(np.float64)
    else:
        encoded = np.array([classes.index(v) for v in truth.tolist()], dtype=np.float64)
    predicted = np.asarray(answer["y"])
    probability = None if answer.get("probability") is None else np.asarray(answer["probability"])
    expected: dict[str, Any] = {}
    for name, rows in split_rows(job, encoded).items():
        chosen = None if probability is None else probability[rows]
        expected[name] = reference(loss, truth[rows], predicted[rows], chosen, classes) if rows.size else None
    return expected


def assert_documented(document: dict[str, Any], component: str, value: Any) -> None:
    """`value` conforms to the schema `component` of an OpenAPI `document` (its /openapi.json)."""
    from jsonschema import Draft202012Validator

    schema = {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
    problems = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in Draft202012Validator(schema).iter_errors(value)
    ]
    assert not problems, "; ".join(problems[:5])
