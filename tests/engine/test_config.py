"""Reading the stored job config: defaults, ignored keys, and what is rejected."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from tests.support.engine import config, linear_data, run
from worker.engine import TrainConfig, losses, models, optimizers
from worker.engine.config import DESCENT_TYPES, LOSS_TYPES, MODEL_TYPES, Grid, GridRange

STORED = {
    "dataset_id": "d1",
    "model": {"type": "linear", "bias": True},
    "loss": "mse",
    "optimizer": {"type": "minibatch", "lr": 0.01, "batch_size": 32, "momentum": 0.9},
    "epochs": 100,
    "tolerance": 1e-7,
    "split": {"dev": 0.2, "test": 0.0},
    "early_stopping": {"patience": 10, "min_delta": 0.0},
    "smoothing": 0.4,
    "standardize": True,
    "seed": 0,
    "max_runtime_seconds": 3600,
    "log_every": 3,
}


def test_a_stored_config_is_read_and_extra_keys_ignored() -> None:
    cfg = TrainConfig.from_dict(STORED)
    assert cfg.optimizer.type == "minibatch" and cfg.optimizer.batch_size == 32
    assert cfg.split.dev == 0.2 and cfg.early_stopping is not None and cfg.early_stopping.patience == 10
    assert cfg.max_history_points == 100_000  # missing → default
    assert cfg.max_runtime_seconds == 3600.0
    assert TrainConfig.from_dict({**STORED, "max_history_points": None}).max_history_points == 100_000
    assert TrainConfig.from_dict({**STORED, "max_history_points": 7}).max_history_points == 7


def test_an_exhaustive_grid_single_range_or_list() -> None:
    single = {"w": {"min": 0, "max": 4, "steps": 41}, "b": None}
    listed = {"w": [{"min": 0, "max": 4, "steps": 41}], "b": {"min": -2, "max": 2, "steps": 5}}
    a = TrainConfig.from_dict({**STORED, "optimizer": {"type": "exhaustive", "grid": single}})
    b = TrainConfig.from_dict({**STORED, "optimizer": {"type": "exhaustive", "grid": listed}})
    assert a.optimizer.grid == Grid(w=(GridRange(0.0, 4.0, 41),), b=None)
    assert b.optimizer.grid is not None and b.optimizer.grid.b == GridRange(-2.0, 2.0, 5)
    assert GridRange(0.0, 4.0, 41).points()[20] == 2.0


@pytest.mark.parametrize(
    "change, field",
    [
        ({"model": {"type": "cnn"}}, "model.type"),
        ({"model": {"type": "mlp", "hidden": []}}, "model.hidden"),
        ({"model": {"type": "mlp", "hidden": 16}}, "model.hidden"),
        ({"model": {"type": "mlp", "hidden": [8, 0]}}, "model.hidden.1"),
        ({"model": {"type": "mlp", "activation": "gelu"}}, "model.activation"),
        ({"loss": "hinge"}, "loss"),
        ({"optimizer": {"type": "rmsprop", "lr": 0.001}}, "optimizer.type"),
        ({"optimizer": {"type": "gd", "lr": 0}}, "optimizer.lr"),
        ({"optimizer": {"type": "gd", "lr": "fast"}}, "optimizer.lr"),
        ({"optimizer": {"type": "momentum", "lr": 0.01, "momentum": 1.0}}, "optimizer.momentum"),
        ({"optimizer": {"type": "momentum", "lr": 0.01, "momentum": -0.1}}, "optimizer.momentum"),
        ({"optimizer": {"type": "adam", "betas": [0.9]}}, "optimizer.betas"),
        ({"optimizer": {"type": "adam", "betas": [0.9, 1.0]}}, "optimizer.betas.1"),
        ({"optimizer": {"type": "adam", "batch_size": 0}}, "optimizer.batch_size"),
        (
            {
                "model": {"type": "mlp"},
                "optimizer": {"type": "exhaustive", "grid": {"w": {"min": 0, "max": 1, "steps": 2}}},
            },
            "optimizer.type",
        ),
        (
            {
                "loss": "cross_entropy",
                "optimizer": {"type": "exhaustive", "grid": {"w": {"min": 0, "max": 1, "steps": 2}}},
            },
            "loss",
        ),
        ({"optimizer": {"type": "minibatch", "lr": 0.1, "batch_size": 0}}, "optimizer.batch_size"),
        ({"optimizer": {"type": "exhaustive"}}, "optimizer.grid"),
        ({"optimizer": {"type": "exhaustive", "grid": {"w": []}}}, "optimizer.grid.w"),
        (
            {"optimizer": {"type": "exhaustive", "grid": {"w": {"min": 1, "max": 0, "steps": 3}}}},
            "optimizer.grid.w.0",
        ),
        (
            {
                "model": {"type": "linear", "bias": False},
                "optimizer": {
                    "type": "exhaustive",
                    "grid": {"w": {"min": 0, "max": 1, "steps": 3}, "b": {"min": 0, "max": 1, "steps": 3}},
                },
            },
            "optimizer.grid.b",
        ),
        ({"optimizer": None}, "optimizer"),
        ({"epochs": 0}, "epochs"),
        ({"epochs": True}, "epochs"),
        ({"split": {"dev": 0.6, "test": 0.4}}, "split"),
        ({"smoothing": 0.0}, "smoothing"),
        ({"early_stopping": {"patience": 0}}, "early_stopping.patience"),
        ({"max_runtime_seconds": 0}, "max_runtime_seconds"),
        ({"max_history_points": 0}, "max_history_points"),
        ({"standardize": "yes"}, "standardize"),
    ],
)
def test_inconsistent_or_unsupported_configs_raise_value_error(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field.replace('.', '[.]')}:"):
        TrainConfig.from_dict({**STORED, **change})


def test_new_models_losses_and_optimizers_with_their_defaults() -> None:
    mlp = TrainConfig.from_dict({**STORED, "model": {"type": "mlp"}, "loss": "cross_entropy"})
    assert (mlp.model.hidden, mlp.model.activation, mlp.loss) == ((16,), "relu", "cross_entropy")
    deep = TrainConfig.from_dict(
        {**STORED, "model": {"type": "mlp", "hidden": [8, 4.0], "activation": "tanh"}}
    )
    assert (deep.model.hidden, deep.model.activation) == ((8, 4), "tanh")

    momentum = TrainConfig.from_dict({**STORED, "optimizer": {"type": "momentum"}}).optimizer
    assert (momentum.lr, momentum.batch_size, momentum.momentum) == (0.01, 32, 0.9)
    adam = TrainConfig.from_dict({**STORED, "optimizer": {"type": "adam", "momentum": 0.5}}).optimizer
    assert (adam.lr, adam.batch_size, adam.betas) == (0.001, 32, (0.9, 0.999))
    custom = TrainConfig.from_dict({**STORED, "optimizer": {"type": "adam", "lr": 0.1, "betas": [0.8, 0.99]}})
    assert (custom.optimizer.lr, custom.optimizer.betas) == (0.1, (0.8, 0.99))


@pytest.mark.parametrize("kind", DESCENT_TYPES)
def test_lr_auto_is_accepted_by_every_descent_optimizer(kind: str) -> None:
    cfg = TrainConfig.from_dict({**STORED, "optimizer": {"type": kind, "lr": "auto"}})
    assert cfg.optimizer.lr is None and cfg.optimizer.auto_lr


def test_every_configured_name_has_an_implementation() -> None:
    assert set(models.MODELS) == set(MODEL_TYPES)
    assert set(losses.LOSSES) == set(LOSS_TYPES)
    assert set(optimizers.METHODS) == set(DESCENT_TYPES)


def test_batch_size_is_ignored_by_gd_and_sgd() -> None:
    x, y = linear_data(20, [1.0], 0.0, noise=0.1)
    gd, reporter = run(x, y, config({"type": "gd", "lr": 0.1, "batch_size": "not used"}, epochs=3))
    assert reporter.plans[0]["steps_per_epoch"] == 1 and gd.steps == 3


def test_to_result_is_plain_json() -> None:
    x, y = linear_data(30, [1.0, 2.0], 0.5, noise=0.1)
    out, _ = run(x, y, config({"type": "gd", "lr": 0.1}, epochs=5, split={"dev": 0.2, "test": 0.2}))
    result = out.to_result()
    assert set(result) == {
        "outcome", "params", "train_loss", "dev_loss", "test_loss", "r2", "accuracy",
        "dev_r2", "test_r2", "dev_accuracy", "test_accuracy", "epochs_run", "steps", "seconds",
    }  # fmt: skip
    assert json.loads(json.dumps(result)) == result
    assert all(type(v) is float for v in result["params"]["weights"])
    assert type(result["params"]["bias"]) is float and type(result["train_loss"]) is float
    assert result["accuracy"] is None and result["outcome"] == "max_epochs"
    assert np.isfinite(result["dev_loss"]) and np.isfinite(result["test_loss"])
    assert np.isfinite(result["dev_r2"]) and np.isfinite(result["test_r2"])
    assert result["dev_accuracy"] is None and result["test_accuracy"] is None
    assert out.lr == 0.1
