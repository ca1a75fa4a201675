"""momentum and adam against their update rules written out in float64 numpy, batch for batch."""

from __future__ import annotations

import numpy as np
import torch

from tests.support.engine import config, linear_data, run
from worker.engine.data import SHUFFLE_STREAM, generator

ROWS, BATCH, EPOCHS, SEED = 20, 8, 3, 4  # 3 batches per epoch (8, 8, 4): 9 updates


def _batches(rows: int, batch: int, epochs: int, seed: int) -> list[np.ndarray]:
    """The row indices of every update: a fresh seeded permutation per epoch, cut into batches."""
    shuffler = generator(seed, SHUFFLE_STREAM)
    out = []
    for _ in range(epochs):
        order = torch.randperm(rows, generator=shuffler).numpy()
        out += [order[i : i + batch] for i in range(0, rows, batch)]
    return out


def _mse_gradient(theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """∂/∂(w, b) of mean((x·w + b − y)²), float64."""
    residual = x @ theta[:-1] + theta[-1] - y
    return np.r_[2 / len(y) * x.T @ residual, 2 / len(y) * residual.sum()]


def _reference(x: np.ndarray, y: np.ndarray, update) -> np.ndarray:
    theta = np.zeros(x.shape[1] + 1)  # the linear model starts at zero
    state: dict = {}
    for t, idx in enumerate(_batches(ROWS, BATCH, EPOCHS, SEED), start=1):
        theta = update(theta, _mse_gradient(theta, x[idx], y[idx]), t, state)
    return theta


def _trained(x: np.ndarray, y: np.ndarray, optimizer: dict, fast: bool = True) -> np.ndarray:
    cfg = config(optimizer, epochs=EPOCHS, tolerance=0.0, standardize=False, seed=SEED)
    out, _ = run(x, y, cfg, fast=fast)
    assert out.steps == 9
    return np.r_[out.params["weights"], out.params["bias"]]


def test_momentum_is_the_heavy_ball_of_torch_sgd() -> None:
    x, y = linear_data(ROWS, [1.0, -2.0], 0.5, noise=0.3)
    lr, m = 0.02, 0.8

    def heavy_ball(theta, g, t, state):
        # torch.optim.SGD(momentum=m): v₁ = g₁, then v ← m·v + g; w ← w − lr·v
        state["v"] = g if t == 1 else m * state["v"] + g
        return theta - lr * state["v"]

    expected = _reference(x.astype(np.float64), y.astype(np.float64), heavy_ball)
    got = _trained(x, y, {"type": "momentum", "lr": lr, "batch_size": BATCH, "momentum": m})
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_adam_is_kingma_and_bas_update() -> None:
    x, y = linear_data(ROWS, [1.0, -2.0], 0.5, noise=0.3)
    lr, b1, b2, eps = 0.05, 0.8, 0.99, 1e-8

    def adam(theta, g, t, state):
        state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
        state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
        m_hat = state["m"] / (1 - b1**t)
        v_hat = state["v"] / (1 - b2**t)
        return theta - lr * m_hat / (np.sqrt(v_hat) + eps)

    expected = _reference(x.astype(np.float64), y.astype(np.float64), adam)
    got = _trained(x, y, {"type": "adam", "lr": lr, "batch_size": BATCH, "betas": [b1, b2]})
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_momentum_0_is_minibatch() -> None:
    x, y = linear_data(ROWS, [1.0, -2.0], 0.5, noise=0.3)
    minibatch = {"type": "minibatch", "lr": 0.05, "batch_size": BATCH}
    momentum = {"type": "momentum", "lr": 0.05, "batch_size": BATCH, "momentum": 0.0}
    # the plain loop: torch.optim.SGD's update is the same code with or without a zero momentum
    np.testing.assert_array_equal(_trained(x, y, minibatch, fast=False), _trained(x, y, momentum, fast=False))
    # the fast paths (compiled minibatch, fused momentum) compute it differently: float rounding apart
    np.testing.assert_allclose(_trained(x, y, minibatch), _trained(x, y, momentum), rtol=1e-6, atol=1e-7)
