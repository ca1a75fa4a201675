"""Job specs and data for the engine's tests: configs as the API stores them, and test data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from descent.settings import Settings
from descent.spec import JobConfig, JobRequest
from worker.engine import ListReporter, TrainOutput, train


def config(optimizer: dict[str, Any], **overrides: Any) -> JobConfig:
    """The config the service makes of a request (every field given, with `overrides`): validated
    by the spec's JobRequest, resolved with `max_history_points` (an override, or the default)."""
    history = overrides.pop("max_history_points", Settings.max_history_points)
    raw: dict[str, Any] = {
        "dataset_id": "ignored-by-the-engine",
        "model": {"type": "linear", "bias": True},
        "loss": "mse",
        "optimizer": optimizer,
        "epochs": 100,
        "tolerance": 1e-7,
        "split": {"dev": 0.0, "test": 0.0},
        "early_stopping": None,
        "smoothing": 0.4,
        "standardize": True,
        "seed": 0,
        "max_runtime_seconds": 3600,
    }
    raw.update(overrides)
    return JobRequest.model_validate(raw).resolve(history)


def run(
    x: np.ndarray, y: np.ndarray, cfg: JobConfig, fast: bool = True
) -> tuple[TrainOutput, ListReporter]:
    """Train with a fresh ListReporter and return both (`fast`: as train()'s)."""
    reporter = ListReporter()
    return train(x, y, cfg, reporter, fast=fast), reporter


def linear_data(
    rows: int, weights: list[float], bias: float, noise: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """x uniform in [-2, 3), y = x·weights + bias + Gaussian noise, float32."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 3.0, size=(rows, len(weights)))
    y = x @ np.array(weights) + bias + noise * rng.standard_normal(rows)
    return x.astype(np.float32), y.astype(np.float32)


def raw_mse(x: np.ndarray, y: np.ndarray, params: dict[str, Any]) -> float:
    """What a client computes from reported params and raw data: float64 MSE."""
    pred = x.astype(np.float64) @ np.array(params["weights"], dtype=np.float64) + params["bias"]
    return float(np.mean((pred - y.astype(np.float64)) ** 2))


def least_squares(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Closed-form optimum with a bias column, float64: (weights, bias, cost)."""
    a = np.c_[x.astype(np.float64), np.ones(len(x))]
    sol = np.linalg.lstsq(a, y.astype(np.float64), rcond=None)[0]
    cost = float(np.mean((a @ sol - y.astype(np.float64)) ** 2))
    return sol[:-1], float(sol[-1]), cost


def _close(a: Any, b: Any, rtol: float, atol: float) -> None:
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=rtol, atol=atol)


def flat_params(params: Any) -> list[np.ndarray]:
    """A result's `params` (a linear model's dict or an MLP's layers) as flat float arrays."""
    if isinstance(params, dict):
        return [np.ravel(np.asarray(params["weights"], dtype=float)), np.ravel(np.asarray(params["bias"]))]
    return [
        np.ravel(np.asarray(v, dtype=float)) for layer in params for v in (layer["weight"], layer["bias"])
    ]


def assert_fast_run_is_the_plain_run(x: np.ndarray, y: np.ndarray, cfg: JobConfig) -> None:
    """The fast path (compiled or dense) and the autograd loop on the same job: the same schedule
    (steps, epochs, plan, points, outcome, learning rates) and the same numbers within float32
    rounding — the fast paths compute the same updates in another order of float32 operations."""
    plain, fast = ListReporter(), ListReporter()
    ref = train(x, y, cfg, plain, fast=False)
    out = train(x, y, cfg, fast, fast=True)

    assert fast.plans == plain.plans
    assert fast.train["step"] == plain.train["step"] and fast.train["epoch"] == plain.train["epoch"]
    assert fast.train["lr"] == plain.train["lr"]
    assert fast.dev["step"] == plain.dev["step"]
    assert (out.outcome, out.steps, out.epochs_run, out.log_every) == (
        ref.outcome,
        ref.steps,
        ref.epochs_run,
        ref.log_every,
    )
    # single-sample sgd losses may be near 0: atol
    scale = float(np.var(y))
    _close(fast.train["loss"], plain.train["loss"], 2e-4, 1e-6 * scale)
    _close(fast.train["smoothed"], plain.train["smoothed"], 2e-4, 1e-6 * scale)
    _close(fast.dev["loss"], plain.dev["loss"], 2e-4, 1e-6 * scale)
    _close(np.hstack(flat_params(out.params)), np.hstack(flat_params(ref.params)), 2e-4, 2e-5)
    for key in ("train_loss", "r2", "dev_loss", "dev_r2", "test_loss"):
        got, want = getattr(out, key), getattr(ref, key)
        assert (got is None) == (want is None)
        if want is not None:
            assert got == pytest.approx(want, rel=2e-4, abs=1e-7), key
    assert out.lr == ref.lr
