"""descent.predict (numpy) against the trained torch model itself, on the same raw features."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from descent.predict import forward, predict, sigmoid, softmax
from descent.spec import JobConfig
from tests.support.engine import config
from worker.engine import ListReporter
from worker.engine.data import split_data
from worker.engine.deadline import Deadline
from worker.engine.loop import GradientDescentRun
from worker.engine.losses import LOSSES

ROOT = Path(__file__).resolve().parents[2]
MLP = {"type": "mlp", "hidden": [6, 5], "activation": "tanh"}
LINEAR = {"type": "linear", "bias": True}


def _data(loss: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((50, 3)) * [1.0, 10.0, 0.1] + [5.0, -20.0, 1.0]).astype(np.float32)
    score = (x - [5.0, -20.0, 1.0]) / [1.0, 10.0, 0.1] @ [1.0, -1.0, 0.5]
    if loss == "bce":
        return x, (score > 0).astype(np.float32)
    if loss == "cross_entropy":
        return x, np.digitize(score, [-0.7, 0.7]).astype(np.float32)
    return x, (30.0 + 8.0 * score + rng.standard_normal(50)).astype(np.float32)


def _trained(cfg: JobConfig, x: np.ndarray, y: np.ndarray) -> tuple[GradientDescentRun, object]:
    """Train as train() does, keeping the run to reach its torch model."""
    splits = split_data(x, y, cfg.split, cfg.seed)
    run = GradientDescentRun(splits, cfg, ListReporter(), Deadline(60.0), LOSSES[cfg.loss].outputs(y))
    return run, run.run()


def _torch_output(run: GradientDescentRun, x: np.ndarray) -> np.ndarray:
    """The torch model on raw x: standardized as in training, the output mapped back to y's units."""
    scaling = run.scaling
    with torch.no_grad():
        out = run.model(torch.from_numpy(scaling.features(x))).double().numpy()
    return out * scaling.y_scale + scaling.y_center if run.loss.regression else out


@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("model", [LINEAR, MLP], ids=["linear", "mlp"])
@pytest.mark.parametrize("loss", ["mse", "huber", "bce", "cross_entropy"])
def test_predict_equals_the_trained_torch_model(loss: str, model: dict, standardize: bool) -> None:
    x, y = _data(loss)
    cfg = config({"type": "adam", "lr": 0.05}, model=model, loss=loss, epochs=10, standardize=standardize)
    run, out = _trained(cfg, x, y)
    reference = _torch_output(run, x)

    raw = forward(out.params, model, x)
    assert raw.dtype == np.float64 and raw.shape == reference.shape
    scale = max(1.0, float(np.abs(reference).max()))
    np.testing.assert_allclose(raw, reference, rtol=1e-5, atol=1e-5 * scale)
    answer = predict(out.params, model, loss, x)
    if loss in ("mse", "huber"):
        assert answer["probability"] is None
        np.testing.assert_allclose(answer["y"], reference, rtol=1e-5, atol=1e-5 * scale)
        assert out.r2 is not None and out.accuracy is None
    elif loss == "bce":
        p = torch.sigmoid(torch.from_numpy(reference)).numpy()
        np.testing.assert_allclose(answer["probability"], p, rtol=1e-5, atol=1e-6)
        assert out.accuracy == np.mean(np.array(answer["y"]) == y)
    else:
        p = torch.softmax(torch.from_numpy(reference), dim=1).numpy()
        assert np.shape(answer["probability"]) == (50, 3)
        np.testing.assert_allclose(answer["probability"], p, rtol=1e-5, atol=1e-6)
        assert answer["y"] == [float(c) for c in np.argmax(reference, axis=1)]
        assert out.accuracy == np.mean(np.array(answer["y"]) == y)


def test_a_model_without_bias_and_json_lists() -> None:
    params = {"weights": [2.0, -1.0], "bias": 0.0}
    x = np.array([[1.0, 1.0], [3.0, 2.0]])
    assert predict(params, {"type": "linear", "bias": False}, "mse", x) == {
        "y": [1.0, 4.0],
        "probability": None,
    }
    layers = [
        {"weight": [[1.0, 0.0], [0.0, -1.0]], "bias": [0.0, 0.0]},
        {"weight": [[1.0, 1.0]], "bias": [0.5]},
    ]
    relu = predict(layers, {"type": "mlp", "hidden": [2], "activation": "relu"}, "mse", x)
    assert relu["y"] == [1.5, 3.5]  # relu(x₀) + relu(−x₁) + 0.5
    ident = predict(layers, {"type": "mlp", "hidden": [2], "activation": "identity"}, "mse", x)
    assert ident["y"] == [0.5, 1.5]


def test_sigmoid_and_softmax_are_stable_at_extremes() -> None:
    z = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        p = sigmoid(z)
        q = softmax(np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]]))
    np.testing.assert_allclose(p, torch.sigmoid(torch.from_numpy(z)).numpy(), rtol=1e-15, atol=0)
    np.testing.assert_allclose(q, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-15)
    answer = predict({"weights": [1.0], "bias": 0.0}, LINEAR, "bce", np.array([[-1e6], [0.0], [1e6]]))
    assert answer == {"y": [0.0, 1.0, 1.0], "probability": [0.0, 0.5, 1.0]}


@pytest.mark.parametrize(
    "params, model, x, message",
    [
        ({"weights": [1.0, 2.0], "bias": 0.0}, LINEAR, np.zeros((2, 3)), "takes 2 features"),
        ({"weights": [1.0], "bias": 0.0}, LINEAR, np.zeros(3), "shape"),
        ({"weights": [1.0]}, LINEAR, np.zeros((1, 1)), "linear params"),
        (
            [{"weight": [[1.0]], "bias": [0.0]}, {"weight": [[1.0]], "bias": [0.0]}],
            MLP,
            np.zeros((1, 1)),
            "hidden",
        ),
        ([{"weight": [[1.0]], "bias": [0.0, 1.0]}], {"type": "mlp"}, np.zeros((1, 1)), "do not fit"),
    ],
)
def test_malformed_input_is_a_value_error(params: object, model: dict, x: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        forward(params, model, x)


def test_predict_imports_numpy_only() -> None:
    code = "import descent.predict, sys; assert 'torch' not in sys.modules, 'torch imported'"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
