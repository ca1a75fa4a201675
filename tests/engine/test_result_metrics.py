"""`result.metrics` of trained runs: every split's metrics equal scikit-learn's on the predictions
descent.predict gives for that split's rows (to 1e-9 relative, counts exactly), for each task, for
linear models, MLPs and exhaustive searches; the flat v1 fields are the same numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from tests.support.engine import config, linear_data, run
from tests.support.metrics import KEYS, assert_metrics_match, engine_reference, task

SPLIT = {"dev": 0.2, "test": 0.2}
MLP = {"type": "mlp", "hidden": [8], "activation": "tanh"}
GD = {"type": "gd", "lr": 0.1}
ADAM = {"type": "adam", "lr": 0.01, "batch_size": 32}
GRID_W = {"w": {"min": -3, "max": 3, "steps": 61}, "b": {"min": -2, "max": 2, "steps": 41}}

CASES = {
    "linear mse": ("diabetes", GD, {"loss": "mse", "epochs": 50}),
    "linear mae": ("diabetes", ADAM, {"loss": "mae", "epochs": 30}),
    "mlp huber": ("diabetes", ADAM, {"loss": "huber", "epochs": 20, "model": MLP}),
    "linear bce": ("breast_cancer", GD, {"loss": "bce", "epochs": 50}),
    "mlp bce": ("breast_cancer", ADAM, {"loss": "bce", "epochs": 20, "model": MLP}),
    "linear cross_entropy": ("iris", GD, {"loss": "cross_entropy", "epochs": 30}),
    "mlp cross_entropy": ("iris", ADAM, {"loss": "cross_entropy", "epochs": 30, "model": MLP}),
    "exhaustive mse": ("one_feature", {"type": "exhaustive", "grid": GRID_W}, {"loss": "mse"}),
    "exhaustive bce": ("one_feature_classes", {"type": "exhaustive", "grid": GRID_W}, {"loss": "bce"}),
}
"""Each task on data of its kind: (data, optimizer, config overrides)."""


def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name == "one_feature":
        return linear_data(200, [1.5], -0.5, noise=0.3, seed=4)
    if name == "one_feature_classes":
        x, y = linear_data(200, [1.5], -0.5, noise=1.0, seed=5)
        return x, (y > 0).astype(np.float32)
    loader = {"diabetes": load_diabetes, "breast_cancer": load_breast_cancer, "iris": load_iris}[name]
    x, y = loader(return_X_y=True)
    return np.ascontiguousarray(x, dtype=np.float32), y.astype(np.float32)


@pytest.mark.parametrize("split", [SPLIT, {"dev": 0.0, "test": 0.0}], ids=["dev and test", "train only"])
@pytest.mark.parametrize("case", list(CASES))
def test_every_split_equals_scikit_learn(case: str, split: dict[str, float]) -> None:
    data, optimizer, overrides = CASES[case]
    x, y = _data(data)
    cfg = config(optimizer, split=split, seed=1, **overrides)
    out, _ = run(x, y, cfg)
    result = out.to_result()
    metrics = result["metrics"]
    assert set(metrics) == {"train", "dev", "test"}
    expected = engine_reference(out, cfg, x, y)
    for name in ("train", "dev", "test"):
        if expected[name] is None:
            assert metrics[name] is None, name
            continue
        assert set(metrics[name]) == KEYS[task(cfg.loss)]
        assert_metrics_match(metrics[name], expected[name], f"{case}, {name}")
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    # the flat v1 fields stay, and are the same numbers
    for prefix, name in (("", "train"), ("dev_", "dev"), ("test_", "test")):
        part = metrics[name]
        if task(cfg.loss) == "regression":
            assert result[f"{prefix}r2"] == (None if part is None else part["r2"])
            assert result[f"{prefix}accuracy"] is None
        else:
            assert result[f"{prefix}accuracy"] == (None if part is None else part["accuracy"])
            assert result[f"{prefix}r2"] is None
    if cfg.loss == "mse":  # the reported loss is the metric
        assert result["train_loss"] == metrics["train"]["mse"]
