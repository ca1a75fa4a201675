"""bce and cross_entropy: accuracy on scikit-learn's data sets, losses, shapes, bad targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_breast_cancer, load_iris

from descent.predict import forward, predict
from tests.support.engine import config, run
from worker.engine import InvalidData

BREAST_CANCER_SETTINGS = {"optimizer": {"type": "gd", "lr": 0.1}, "epochs": 100}
"""Linear bce on load_breast_cancer (569 rows, 30 features), standardize true: ≈ 98 % accuracy."""
IRIS_SETTINGS = {"optimizer": {"type": "adam", "lr": 0.01, "batch_size": 32}, "epochs": 200, "hidden": [16]}
"""MLP (relu) with cross_entropy on load_iris (150 rows, 3 classes), standardize true: ≈ 99 %."""


def _data(loader) -> tuple[np.ndarray, np.ndarray]:
    x, y = loader(return_X_y=True)
    return np.ascontiguousarray(x, dtype=np.float32), y.astype(np.float32)


def test_linear_bce_on_breast_cancer() -> None:
    x, y = _data(load_breast_cancer)
    out, _ = run(
        x,
        y,
        config(BREAST_CANCER_SETTINGS["optimizer"], loss="bce", epochs=BREAST_CANCER_SETTINGS["epochs"]),
    )
    assert out.accuracy >= 0.95 and out.r2 is None
    assert set(out.params) == {"weights", "bias"} and len(out.params["weights"]) == 30
    assert isinstance(out.params["bias"], float)

    model = {"type": "linear", "bias": True}
    logits = forward(out.params, model, x)
    # the reported loss is torch's binary_cross_entropy_with_logits on the raw data, in float64
    expected = F.binary_cross_entropy_with_logits(torch.from_numpy(logits), torch.from_numpy(y).double())
    assert out.train_loss == pytest.approx(float(expected), rel=1e-12)
    answer = predict(out.params, model, "bce", x)
    p = np.array(answer["probability"])
    assert p.shape == (569,) and np.all((p >= 0) & (p <= 1))
    assert answer["y"] == [1.0 if v >= 0.5 else 0.0 for v in p]
    assert out.accuracy == np.mean(np.array(answer["y"]) == y)


def test_mlp_cross_entropy_on_iris() -> None:
    x, y = _data(load_iris)
    model = {"type": "mlp", "hidden": IRIS_SETTINGS["hidden"], "activation": "relu"}
    out, _ = run(
        x,
        y,
        config(IRIS_SETTINGS["optimizer"], model=model, loss="cross_entropy", epochs=IRIS_SETTINGS["epochs"]),
    )
    assert out.accuracy >= 0.95 and out.r2 is None
    assert np.shape(out.params[-1]["weight"]) == (3, 16) and np.shape(out.params[0]["weight"]) == (16, 4)

    logits = forward(out.params, model, x)
    assert logits.shape == (150, 3)
    expected = F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(y.astype(np.int64)))
    assert out.train_loss == pytest.approx(float(expected), rel=1e-12)
    answer = predict(out.params, model, "cross_entropy", x)
    p = np.array(answer["probability"])
    assert p.shape == (150, 3) and np.all((p >= 0) & (p <= 1))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    assert answer["y"] == [float(c) for c in np.argmax(p, axis=1)]
    assert out.accuracy == np.mean(np.array(answer["y"]) == y)


def test_linear_cross_entropy_has_one_row_of_weights_per_class() -> None:
    x, y = _data(load_iris)
    out, _ = run(
        x,
        y,
        config({"type": "gd", "lr": 0.5}, loss="cross_entropy", epochs=200, split={"dev": 0.2, "test": 0.2}),
    )
    assert np.shape(out.params["weights"]) == (3, 4) and np.shape(out.params["bias"]) == (3,)
    assert out.accuracy >= 0.9
    result = out.to_result()
    assert 0.0 <= result["dev_accuracy"] <= 1.0 and 0.0 <= result["test_accuracy"] <= 1.0
    assert result["dev_r2"] is None and result["test_r2"] is None and result["r2"] is None


def test_classes_are_counted_over_every_split() -> None:
    # class 3 only in one row: K = 4 wherever that row lands
    x = np.arange(12, dtype=np.float32).reshape(-1, 1)
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 3], dtype=np.float32)
    out, _ = run(x, y, config({"type": "gd", "lr": 0.1}, loss="cross_entropy", epochs=2, split={"dev": 0.3}))
    assert np.shape(out.params["weights"]) == (4, 1)


def test_classification_targets_are_not_standardized() -> None:
    # the first update's cost is at zero parameters: log 2 for bce, log K for cross_entropy
    x = np.array([[1.0], [2.0], [3.0], [4.0]], dtype=np.float32)
    _, bce = run(x, np.array([0, 1, 0, 1], dtype=np.float32), config({"type": "gd", "lr": 0.1}, loss="bce"))
    _, ce = run(
        x, np.array([0, 1, 2, 1], dtype=np.float32), config({"type": "gd", "lr": 0.1}, loss="cross_entropy")
    )
    assert bce.train["loss"][0] == pytest.approx(np.log(2), rel=1e-6)
    assert ce.train["loss"][0] == pytest.approx(np.log(3), rel=1e-6)


@pytest.mark.parametrize(
    "loss, y, message",
    [
        ("bce", [0, 1, 2, 1], r"loss bce needs targets 0 or 1, but 1 of 4 rows .* row 2, 0-based, with 2\b"),
        ("bce", [0, 1, 0.5, -1], r"but 2 of 4 rows .* row 2, 0-based, with 0.5"),
        (
            "cross_entropy",
            [0, 1, -1, 1],
            r"cross_entropy needs integer class targets .* row 2, 0-based, with -1",
        ),
        (
            "cross_entropy",
            [0, 1.5, 2, 1],
            r"1 of 4 rows are not non-negative integers .* row 1, 0-based, with 1.5",
        ),
    ],
)
def test_targets_that_are_not_classes_are_invalid_data(loss: str, y: list[float], message: str) -> None:
    x = np.ones((4, 1), dtype=np.float32)
    with pytest.raises(InvalidData, match=message) as caught:
        run(x, np.array(y, dtype=np.float32), config({"type": "gd", "lr": 0.1}, loss=loss))
    assert caught.value.kind == "invalid_data"
