"""The fast-path tests' jobs (test_fast_paths_agreement.py, test_fast_paths_resume.py): CASES, each
named job with the update path it takes, and `job()` that builds one; both modules run them."""

from __future__ import annotations

from typing import Any

import numpy as np

from descent.spec import JobConfig
from worker.engine.updates import UpdatePath

from .engine import config, linear_data

COMPILED, DENSE, PLAIN = UpdatePath.COMPILED, UpdatePath.DENSE, UpdatePath.AUTOGRAD
"""The three update paths (worker/engine/updates.py), as the tests name them."""


def sine(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A smooth nonlinear target, tanh of a noisy linear one, for the MLP cases."""
    x, y = linear_data(rows, [1.0, -1.0, 0.5], 0.5, noise=0.2, seed=seed)
    return x, np.tanh(y).astype(np.float32)


MLP = {"type": "mlp", "hidden": [8, 6], "activation": "relu"}
"""The MLP the MLP cases train (other activations given per case)."""

CASES: dict[str, tuple[str, dict[str, Any]]] = {
    # the compiled path: linear model, mse, gd / sgd / minibatch
    "gd": (COMPILED, {"optimizer": {"type": "gd", "lr": 0.1}, "epochs": 60}),
    "gd_no_bias_raw": (
        COMPILED,
        {
            "optimizer": {"type": "gd", "lr": 0.01},
            "epochs": 60,
            "model": {"type": "linear", "bias": False},
            "standardize": False,
        },
    ),
    "gd_auto": (COMPILED, {"optimizer": {"type": "gd", "lr": "auto"}, "epochs": 20}),
    # a full batch of several kernels.BLOCK_ROWS blocks, the last one short
    "gd_blocks": (COMPILED, {"optimizer": {"type": "gd", "lr": 0.1}, "epochs": 20, "rows": 5000}),
    "sgd": (COMPILED, {"optimizer": {"type": "sgd", "lr": 0.01}, "epochs": 4}),
    "sgd_windows_dev": (
        COMPILED,
        {
            "optimizer": {"type": "sgd", "lr": 0.005},
            "epochs": 5,
            "split": {"dev": 0.2, "test": 0.1},
            "max_history_points": 70,
        },
    ),
    "minibatch": (COMPILED, {"optimizer": {"type": "minibatch", "lr": 0.05, "batch_size": 16}, "epochs": 10}),
    "minibatch_big_batches": (
        # batches larger than kernels.BLOCK_ROWS, the last one short
        COMPILED,
        {"optimizer": {"type": "minibatch", "lr": 0.05, "batch_size": 2500}, "epochs": 5, "rows": 6000},
    ),
    "minibatch_early_stopping": (
        COMPILED,
        {
            "optimizer": {"type": "minibatch", "lr": 0.02, "batch_size": 8},
            "epochs": 40,
            "split": {"dev": 0.3},
            "early_stopping": {"patience": 2},
        },
    ),
    # schedules on the compiled path: the kernel takes each epoch's rate
    "gd_step_schedule": (
        COMPILED,
        {
            "optimizer": {
                "type": "gd",
                "lr": 0.1,
                "schedule": {"type": "step", "step_size": 10, "gamma": 0.5},
            },
            "epochs": 60,
        },
    ),
    "sgd_exponential": (
        COMPILED,
        {
            "optimizer": {"type": "sgd", "lr": 0.01, "schedule": {"type": "exponential", "gamma": 0.7}},
            "epochs": 4,
        },
    ),
    "minibatch_cosine": (
        # t_max 4 of 10 epochs: down to 0 and up again
        COMPILED,
        {
            "optimizer": {
                "type": "minibatch",
                "lr": 0.05,
                "batch_size": 16,
                "schedule": {"type": "cosine", "t_max": 4},
            }
        },
    ),
    "minibatch_plateau_dev": (
        COMPILED,
        {
            "optimizer": {
                "type": "minibatch",
                "lr": 0.05,
                "batch_size": 16,
                "schedule": {"type": "plateau", "factor": 0.5, "patience": 1},
            },
            "epochs": 20,
            "split": {"dev": 0.25},
        },
    ),
    # weight decay or clipping: the dense path, also for the linear model with gd, sgd, minibatch
    "gd_weight_decay": (DENSE, {"optimizer": {"type": "gd", "lr": 0.1, "weight_decay": 0.1}, "epochs": 60}),
    "minibatch_clip": (
        DENSE,
        {"optimizer": {"type": "minibatch", "lr": 0.05, "batch_size": 16, "clip_norm": 0.1}, "epochs": 10},
    ),
    "sgd_weight_decay_clip_step": (
        DENSE,
        {
            "optimizer": {
                "type": "sgd",
                "lr": 0.01,
                "weight_decay": 0.02,
                "clip_norm": 0.5,
                "schedule": {"type": "step", "step_size": 1, "gamma": 0.5},
            },
            "epochs": 3,
        },
    ),
    "linear_adam_weight_decay_clip": (
        DENSE,
        {
            "optimizer": {
                "type": "adam",
                "lr": 0.02,
                "batch_size": 16,
                "weight_decay": 0.01,
                "clip_norm": 0.5,
                "schedule": {"type": "exponential", "gamma": 0.9},
            },
            "epochs": 8,
        },
    ),
    # the dense path: other optimizers on the linear model, and MLPs, under mse
    "linear_momentum": (
        DENSE,
        {"optimizer": {"type": "momentum", "lr": 0.01, "batch_size": 16}, "epochs": 8},
    ),
    "linear_adam": (DENSE, {"optimizer": {"type": "adam", "lr": 0.02, "batch_size": 16}, "epochs": 8}),
    "mlp_adam_relu": (DENSE, {"optimizer": {"type": "adam", "lr": 0.01, "batch_size": 32}, "model": MLP}),
    "mlp_momentum_tanh": (
        DENSE,
        {
            "optimizer": {"type": "momentum", "lr": 0.01, "batch_size": 16},
            "model": {**MLP, "activation": "tanh"},
        },
    ),
    "mlp_gd_sigmoid": (
        DENSE,
        {"optimizer": {"type": "gd", "lr": 0.1}, "model": {**MLP, "activation": "sigmoid"}, "epochs": 50},
    ),
    "mlp_sgd_identity": (
        DENSE,
        {"optimizer": {"type": "sgd", "lr": 0.002}, "model": {**MLP, "activation": "identity"}, "epochs": 2},
    ),
    "mlp_momentum_weight_decay_cosine": (
        DENSE,
        {
            "optimizer": {
                "type": "momentum",
                "lr": 0.01,
                "batch_size": 16,
                "weight_decay": 0.05,
                "schedule": {"type": "cosine"},
            },
            "model": {**MLP, "activation": "tanh"},
        },
    ),
    "mlp_adam_clip_plateau": (
        DENSE,
        {
            "optimizer": {
                "type": "adam",
                "lr": 0.03,
                "batch_size": 32,
                "weight_decay": 0.001,
                "clip_norm": 0.2,
                "schedule": {"type": "plateau", "factor": 0.5, "patience": 0},
            },
            "model": MLP,
            "epochs": 20,
            "split": {"dev": 0.25},
        },
    ),
    "mlp_minibatch_dev": (
        DENSE,
        {
            "optimizer": {"type": "minibatch", "lr": 0.05, "batch_size": 10},
            "model": MLP,
            "split": {"dev": 0.25},
        },
    ),
}
"""Named jobs: (the path `choose_path()` must pick for it, its request fields besides the defaults)."""


def job(name: str) -> tuple[str, np.ndarray, np.ndarray, JobConfig]:
    """CASES[name] as (the path it takes, x, y, config): 300 rows unless it says `rows`, 10 epochs and
    tolerance 0 unless it says otherwise; MLP cases train on `sine`, the others on linear data."""
    path, raw = CASES[name]
    raw = dict(raw)
    rows = raw.pop("rows", 300)
    raw.setdefault("epochs", 10)
    raw.setdefault("tolerance", 0.0)
    x, y = (
        sine(rows)
        if raw.get("model", {}).get("type") == "mlp"
        else linear_data(rows, [1.5, -2.0, 0.7], 0.4, 0.5)
    )
    return path, x, y, config(raw.pop("optimizer"), **raw)


def numbers(out: Any) -> dict[str, Any]:
    """What a run returns but the wall-clock seconds (two runs that agree bit for bit agree here)."""
    return out.to_result() | {"seconds": None, "metrics": out.metrics, "lr": out.lr}
