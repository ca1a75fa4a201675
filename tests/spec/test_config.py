"""Reading a stored job config (the JSON the service wrote) into the spec model the engine gets."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from descent.settings import Settings
from descent.spec import Adam, Exhaustive, Grid, JobConfig, Minibatch, Range

STORED = {
    "dataset_id": "ds_559b7f25e6073f62eeb2c85530b1c2b2",
    "model": {"type": "linear", "bias": True},
    "loss": "mse",
    "optimizer": {
        "type": "minibatch",
        "lr": 0.01,
        "weight_decay": 0.0,
        "clip_norm": None,
        "schedule": None,
        "batch_size": 32,
    },
    "epochs": 100,
    "tolerance": 1e-7,
    "split": {"dev": 0.2, "test": 0.0, "stratify": False},
    "early_stopping": {"patience": 10, "min_delta": 0.0},
    "smoothing": 0.4,
    "standardize": True,
    "seed": 0,
    "max_runtime_seconds": 3600,
    "features": {"include": None, "exclude": [], "impute": "mean", "missing_indicator": False, "max_categories": 20},
    "data": {"train_fraction": 1.0},
    "positive": None,
    "max_history_points": 100000,
}
"""A config as the service stores it (the README's walk-through shape)."""

BEFORE_FEATURES = {
    **{k: v for k, v in STORED.items() if k not in ("features", "data", "positive")},
    "split": {"dev": 0.2, "test": 0.0},
}
"""The same config as the version before preprocessing stored it."""

BEFORE_SCHEDULES = {**STORED, "optimizer": {"type": "minibatch", "lr": 0.01, "batch_size": 32}}
"""The same config as the version before weight decay, clipping and schedules stored it."""


def read(config: dict[str, Any]) -> JobConfig:
    """As the worker reads it: from the JSON text in Redis."""
    return JobConfig.model_validate_json(json.dumps(config))


def locations(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[Any, ...]]:
    return [tuple(error["loc"]) for error in exc.value.errors()]


def test_a_stored_config_is_read_into_typed_attributes() -> None:
    cfg = read(STORED)
    assert isinstance(cfg.optimizer, Minibatch) and cfg.optimizer.batch_size == 32
    assert cfg.split.dev == 0.2 and cfg.early_stopping is not None and cfg.early_stopping.patience == 10
    assert cfg.max_runtime_seconds == 3600.0 and cfg.max_history_points == 100_000
    assert cfg.log_every is None and not cfg.optimizer.is_search and not cfg.optimizer.auto_lr


def test_a_config_written_back_by_a_worker_is_read() -> None:
    """Once training starts the worker stores `log_every` and the rate "auto" chose."""
    cfg = read({**STORED, "optimizer": {"type": "minibatch", "lr": 0.37, "batch_size": 32}, "log_every": 3})
    assert (cfg.log_every, cfg.optimizer.lr) == (3, 0.37)


@pytest.mark.parametrize("stored", ["missing", None])
def test_a_config_stored_before_max_history_points_existed_takes_the_settings_default(stored) -> None:
    old = {k: v for k, v in STORED.items() if k != "max_history_points"}
    if stored is None:
        old["max_history_points"] = None
    assert read(old).max_history_points == Settings.max_history_points == 100_000


def test_a_config_stored_before_preprocessing_reads_as_it_ran() -> None:
    """Every feature column as it is, no positive class, the shuffled (not stratified) split."""
    cfg = read(BEFORE_FEATURES)
    assert not cfg.split.stratify and cfg.positive is None
    assert cfg.features.include is None and cfg.features.exclude == [] and cfg.features.fitted is None


def test_a_config_stored_before_schedules_reads_as_it_ran() -> None:
    """No weight decay, no clipping, the one rate: the job it was."""
    opt = read(BEFORE_SCHEDULES).optimizer
    assert (opt.weight_decay, opt.clip_norm, opt.schedule) == (0.0, None, None)


def test_a_cosine_schedule_spans_the_jobs_epochs_unless_told() -> None:
    """The config shows the number: a sweep over `epochs` gets a cosine over each child's run."""
    cosine = {**STORED["optimizer"], "schedule": {"type": "cosine", "t_max": None}}
    assert read({**STORED, "optimizer": cosine, "epochs": 40}).optimizer.schedule.t_max == 40
    cosine["schedule"] = {"type": "cosine", "t_max": 7}
    assert read({**STORED, "optimizer": cosine, "epochs": 40}).optimizer.schedule.t_max == 7


def test_the_json_of_a_config_is_what_was_stored() -> None:
    """Round trip: the key order and every value as the service wrote them (log_every absent until
    set, never null)."""
    assert read(STORED).model_dump(mode="json") == STORED
    assert list(read(STORED).model_dump(mode="json")) == list(STORED)
    planned = {**STORED, "log_every": 7}
    assert read(planned).model_dump(mode="json") == planned


def test_an_exhaustive_grid_is_read_as_ranges() -> None:
    grid = {"w": [{"min": 0, "max": 4, "steps": 41}], "b": {"min": -2, "max": 2, "steps": 5}}
    opt = read({**STORED, "optimizer": {"type": "exhaustive", "grid": grid}}).optimizer
    assert isinstance(opt, Exhaustive) and opt.is_search and not opt.auto_lr
    assert opt.grid == Grid(w=[Range(min=0.0, max=4.0, steps=41)], b=Range(min=-2.0, max=2.0, steps=5))


def test_grid_points_are_exact_where_the_formula_is() -> None:
    assert Range(min=0, max=4, steps=41).points()[20] == 2.0
    assert Range(min=0, max=4, steps=5).points() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert Range(min=-3, max=7, steps=1).points() == [-3.0]


def test_adam_keeps_its_own_keys_with_their_values() -> None:
    opt = read({**STORED, "optimizer": {"type": "adam", "lr": "auto", "batch_size": 8, "betas": [0.8, 0.99]}})
    assert isinstance(opt.optimizer, Adam)
    assert (opt.optimizer.lr, opt.optimizer.betas, opt.optimizer.auto_lr) == ("auto", [0.8, 0.99], True)


@pytest.mark.parametrize(
    "change, location",
    [
        ({"optimizer": {"type": "gd", "lr": 0.1, "batch_size": 8}}, ("optimizer", "gd", "batch_size")),
        ({"optimizer": {"type": "exhaustive"}}, ("optimizer", "exhaustive", "grid")),
        ({"optimizer": {"type": "rmsprop"}}, ("optimizer",)),
        (
            {"model": {"type": "mlp", "hidden": [8], "activation": "relu", "bias": True}},
            ("model", "mlp", "bias"),
        ),
        ({"max_history_points": 0}, ("max_history_points",)),
        ({"log_every": 0}, ("log_every",)),
        ({"log_every": 2.5}, ("log_every",)),
        ({"max_runtime_seconds": "3600"}, ("max_runtime_seconds",)),
        ({"dataset_id": None}, ("dataset_id",)),
        ({"result": {}}, ("result",)),
    ],
)
def test_a_config_that_is_not_one_the_service_writes_is_refused(change: dict[str, Any], location) -> None:
    """Only the type's keys, every key valid, nothing unknown: the documented shape, exactly."""
    with pytest.raises(ValidationError) as caught:
        read({**STORED, **change})
    assert location in locations(caught)


def test_a_config_breaking_a_rule_across_fields_is_refused() -> None:
    """The engine never gets an exhaustive search it cannot run (rules.search_errors)."""
    grid = {"w": [{"min": 0, "max": 1, "steps": 2}], "b": None}
    with pytest.raises(ValidationError, match="exhaustive search needs model linear"):
        read(
            {
                **STORED,
                "model": {"type": "mlp", "hidden": [4], "activation": "relu"},
                "optimizer": {"type": "exhaustive", "grid": grid},
            }
        )
