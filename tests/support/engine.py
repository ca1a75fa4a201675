"""Job specs and data for the engine's tests: configs as the API stores them, and test data."""

from __future__ import annotations

from typing import Any

import numpy as np

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
