"""Gradient-based training against the closed-form least-squares optimum (numpy, float64)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_diabetes

from .helpers import config, least_squares, raw_mse, run


@pytest.fixture(scope="module")
def diabetes() -> tuple[np.ndarray, np.ndarray]:
    x, y = load_diabetes(return_X_y=True)
    return np.ascontiguousarray(x, dtype=np.float32), y.astype(np.float32)


def test_gd_reaches_the_least_squares_cost(diabetes: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = diabetes
    _, _, best = least_squares(x, y)
    out, _ = run(x, y, config({"type": "gd", "lr": 0.1}, epochs=2000, tolerance=0.0))

    assert out.outcome == "max_epochs" and out.epochs_run == 2000 and out.steps == 2000
    assert best <= out.train_loss <= best * 1.005
    # a client applying the reported params to the raw features gets the reported cost
    assert raw_mse(x, y, out.params) == pytest.approx(out.train_loss, rel=1e-9)
    pred = x.astype(np.float64) @ np.array(out.params["weights"]) + out.params["bias"]
    y64 = y.astype(np.float64)
    r2 = 1 - np.sum((pred - y64) ** 2) / np.sum((y64 - y64.mean()) ** 2)
    assert out.r2 == pytest.approx(r2, rel=1e-9)
    assert out.accuracy is None and out.dev_loss is None and out.test_loss is None


@pytest.mark.parametrize(
    "optimizer, epochs",
    [
        # one sample per update: a small step keeps the noise floor low (within ~2 % over seeds)
        ({"type": "sgd", "lr": 0.001}, 20),
        # batches of 32: 14 updates per epoch
        ({"type": "minibatch", "lr": 0.02, "batch_size": 32}, 100),
    ],
)
def test_stochastic_optimizers_get_close(
    diabetes: tuple[np.ndarray, np.ndarray], optimizer: dict, epochs: int
) -> None:
    x, y = diabetes
    _, _, best = least_squares(x, y)
    out, reporter = run(x, y, config(optimizer, epochs=epochs, tolerance=0.0))

    per_epoch = -(-442 // (1 if optimizer["type"] == "sgd" else 32))
    assert reporter.plans == [
        {
            "epochs": epochs,
            "steps_per_epoch": per_epoch,
            "log_every": 1,
            "total_steps": epochs * per_epoch,
        }
    ]
    assert out.steps == epochs * per_epoch
    assert best <= out.train_loss <= best * 1.03
    assert raw_mse(x, y, out.params) == pytest.approx(out.train_loss, rel=1e-9)
