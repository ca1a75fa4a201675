"""The checkpoint-and-resume tests' runs (test_checkpoint_resumed_runs.py, test_checkpoint_signals.py):
CASES, one Case per kind of run with where to interrupt it, and the uninterrupted reference run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from descent.spec import JobConfig
from worker.engine import ListReporter, TrainOutput, train

from .engine import config, linear_data


def _classes(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three Gaussian blobs in 2-D, labels 0..2."""
    rng = np.random.default_rng(seed)
    y = np.arange(rows) % 3
    x = rng.standard_normal((rows, 2)) + np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])[y]
    return x.astype(np.float32), y.astype(np.float32)


def _overfitting(rows: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """More features than training rows: the dev loss falls, then rises (early stopping fires)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, 40)).astype(np.float32)
    y = (x[:, 0] + 0.5 * rng.standard_normal(rows)).astype(np.float32)
    return x, y


def _sine(rows: int) -> tuple[np.ndarray, np.ndarray]:
    """tanh of a noisy linear target in 2-D: the MLP runs' data."""
    x, y = linear_data(rows, [1.0, -1.0], 0.5, noise=0.2)
    return x, np.tanh(y).astype(np.float32)


@dataclass(frozen=True)
class Case:
    """A run, where to interrupt it (counted in updates), and how it must end."""

    data: tuple[np.ndarray, np.ndarray]
    config: JobConfig
    mid: int
    """An update in the middle of an epoch (for gd: just some epoch's end)."""
    boundary: int
    """The last update of an epoch."""
    outcome: str


CASES: dict[str, Case] = {
    # gd: one update per epoch, so every checkpoint is at an epoch end; converges (previous cost)
    "gd": Case(
        linear_data(40, [1.0, -2.0], 0.5, noise=0.3),
        config({"type": "gd", "lr": 0.05}, epochs=300, tolerance=1e-6),
        7,
        30,
        "converged",
    ),
    # 18 rows: 18 updates per epoch, windows of 8 that straddle epochs
    "sgd": Case(
        linear_data(18, [1.0, 2.0], 0.0, noise=0.5),
        config({"type": "sgd", "lr": 0.02}, epochs=4, max_history_points=10),
        25,
        36,
        "max_epochs",
    ),
    # 50 rows in batches of 8: 7 updates per epoch (the last of 2 rows), windows of 3
    "minibatch": Case(
        linear_data(50, [1.0, -1.0, 0.5], 0.2, noise=0.4),
        config(
            {"type": "minibatch", "lr": 0.05, "batch_size": 8}, epochs=8, tolerance=0.0, max_history_points=20
        ),
        10,
        14,
        "max_epochs",
    ),
    # 300k rows in batches of 65,536: 5 updates per epoch, each epoch's order drawn ahead on a
    # thread while the epoch before trains (shuffle.py, from AHEAD_FROM rows): a checkpoint keeps
    # the state before the order in flight
    "minibatch_drawn_ahead": Case(
        linear_data(300_000, [1.0, -1.0, 0.5], 0.2, noise=0.4),
        config(
            {"type": "minibatch", "lr": 0.05, "batch_size": 65_536}, epochs=4, tolerance=0.0, max_history_points=20
        ),
        7,
        10,
        "max_epochs",
    ),
    "momentum": Case(
        linear_data(50, [1.0, -1.0, 0.5], 0.2, noise=0.4),
        config(
            {"type": "momentum", "lr": 0.02, "batch_size": 8, "momentum": 0.9},
            epochs=8,
            tolerance=0.0,
            standardize=False,
            max_history_points=20,
        ),
        10,
        21,
        "max_epochs",
    ),
    "adam": Case(
        linear_data(50, [1.0, -1.0, 0.5], 0.2, noise=0.4),
        config(
            {"type": "adam", "lr": 0.05, "batch_size": 8},
            epochs=8,
            tolerance=0.0,
            split={"dev": 0.2, "test": 0.1},
            max_history_points=20,
        ),
        9,
        15,
        "max_epochs",
    ),
    # 48 training rows in batches of 16: 3 updates per epoch
    "mlp_adam": Case(
        _sine(60),
        config(
            {"type": "adam", "lr": 0.01, "batch_size": 16},
            model={"type": "mlp", "hidden": [8, 4], "activation": "tanh"},
            epochs=10,
            tolerance=0.0,
            split={"dev": 0.2, "test": 0.0},
        ),
        5,
        9,
        "max_epochs",
    ),
    "mlp_cross_entropy": Case(
        _classes(45, 1),
        config(
            {"type": "momentum", "lr": 0.05, "batch_size": 10},
            model={"type": "mlp", "hidden": [6], "activation": "relu"},
            loss="cross_entropy",
            epochs=6,
            tolerance=0.0,
        ),
        7,
        10,
        "max_epochs",
    ),
    # 30 training rows in batches of 8: 4 updates per epoch; best epoch 39, stops after epoch 42;
    # the interruptions fall after the best epoch, with bad epochs counted
    "early_stopping": Case(
        _overfitting(),
        config(
            {"type": "minibatch", "lr": 0.01, "batch_size": 8},
            epochs=500,
            early_stopping={"patience": 3, "min_delta": 0.0},
            split={"dev": 0.5, "test": 0.0},
            tolerance=0.0,
            seed=5,
            max_history_points=300,
        ),
        158,
        164,
        "early_stopped",
    ),
    # schedules mid-way: the rate of the resumed epoch and the schedule's state come from the
    # checkpoint (sgd: compiled; weight decay moves minibatch to dense; clipping and plateau on an MLP)
    "sgd_cosine": Case(
        linear_data(18, [1.0, 2.0], 0.0, noise=0.5),
        config({"type": "sgd", "lr": 0.02, "schedule": {"type": "cosine"}}, epochs=4, max_history_points=10),
        25,
        36,
        "max_epochs",
    ),
    "minibatch_step_weight_decay": Case(
        linear_data(50, [1.0, -1.0, 0.5], 0.2, noise=0.4),
        config(
            {
                "type": "minibatch",
                "lr": 0.05,
                "batch_size": 8,
                "weight_decay": 0.05,
                "schedule": {"type": "step", "step_size": 2, "gamma": 0.5},
            },
            epochs=8,
            tolerance=0.0,
            max_history_points=20,
        ),
        17,
        28,
        "max_epochs",
    ),
    "mlp_adam_plateau_clip": Case(
        _sine(60),
        config(
            {
                "type": "adam",
                "lr": 0.05,
                "batch_size": 16,
                "clip_norm": 0.5,
                "schedule": {"type": "plateau", "factor": 0.5, "patience": 0},
            },
            model={"type": "mlp", "hidden": [8, 4], "activation": "tanh"},
            epochs=12,
            tolerance=0.0,
            split={"dev": 0.2, "test": 0.0},
        ),
        17,
        24,
        "max_epochs",
    ),
    # "auto" by the smoothness rule (no range test)
    "sgd_auto": Case(_sine(30), config({"type": "sgd", "lr": "auto"}, epochs=3), 40, 60, "max_epochs"),
    # "auto" by the range test (its ticks come first; it is not run again on resume)
    "mlp_adam_auto": Case(
        _sine(64),
        config(
            {"type": "adam", "lr": "auto", "batch_size": 16},
            model={"type": "mlp", "hidden": [8], "activation": "tanh"},
            epochs=6,
            tolerance=0.0,
        ),
        6,
        12,
        "max_epochs",
    ),
}
"""The runs by name: every optimizer, path, schedule and way of choosing the rate a checkpoint holds."""


def numbers(out: TrainOutput) -> dict[str, Any]:
    """Everything a run returns but the wall-clock seconds."""
    return out.to_result() | {
        "seconds": None,
        "metrics": out.metrics,
        "lr": out.lr,
        "log_every": out.log_every,
        "params": out.params,
    }


def uninterrupted(case: Case) -> tuple[TrainOutput, ListReporter, int]:
    """The reference run, and the ticks before its first update (the range test's)."""
    reporter = ListReporter()
    out = train(*case.data, case.config, reporter)
    assert out.outcome == case.outcome
    return out, reporter, reporter.ticks - out.steps
