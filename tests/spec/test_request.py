"""A job request: what it accepts (each field's type and bounds), and the config it resolves to.

Every field's bounds are exercised through the HTTP API too (tests/api/test_validation_defaults.py
and test_validation_rejections.py draw valid and invalid values of each); here each rule of the
spec model is named once, next to the field it belongs to.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from descent.spec import (
    GRADIENT_TYPES,
    MISSING_FOR_TYPE,
    OPTIMIZER_TYPES,
    SEARCH_TYPES,
    JobConfig,
    JobRequest,
    Optimizer,
)

GRID = {"w": {"min": 0, "max": 1, "steps": 2}}
STEPS = {"weight_decay": 0.0, "clip_norm": None, "schedule": None}
"""What every gradient type's config has around its steps, by default: nothing."""


def request(**fields: Any) -> JobRequest:
    return JobRequest.model_validate({"dataset_id": "d", "optimizer": {"type": "gd"}, **fields})


def resolved(**fields: Any) -> dict[str, Any]:
    return request(**fields).resolve(max_history_points=500).model_dump(mode="json")


def errors(**fields: Any) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        request(**fields)
    return [(tuple(e["loc"]), e["type"]) for e in caught.value.errors()]


def test_a_minimal_request_resolves_to_every_default() -> None:
    assert resolved() == {
        "dataset_id": "d",
        "model": {"type": "linear", "bias": True},
        "loss": "mse",
        "optimizer": {"type": "gd", "lr": 0.01, **STEPS},
        "epochs": 100,
        "tolerance": 1e-7,
        "split": {"dev": 0.0, "test": 0.0, "stratify": False},
        "early_stopping": None,
        "smoothing": 0.4,
        "standardize": True,
        "seed": 0,
        "max_runtime_seconds": 3600,
        "features": {
            "include": None,
            "exclude": [],
            "impute": "mean",
            "missing_indicator": False,
            "max_categories": 20,
        },
        "data": {"train_fraction": 1.0},
        "positive": None,
        "max_history_points": 500,
    }


@pytest.mark.parametrize("loss", ["bce", "cross_entropy"])
def test_a_classifier_splits_stratified_unless_told_otherwise(loss: str) -> None:
    assert resolved(loss=loss)["split"]["stratify"] is True
    assert resolved(loss=loss, split={"dev": 0.2, "stratify": False})["split"]["stratify"] is False


def test_the_worker_alone_sets_what_the_features_resolved_to() -> None:
    assert errors(features={"fitted": {}}) == [(("features", "fitted"), "extra_forbidden")]


def test_the_readme_walk_through_request_gives_the_readme_config_json() -> None:
    """The stored and shown JSON, to the character: a sent 0 is 0.0, a default 3600 stays 3600."""
    sent = {
        "dataset_id": "ds_559b7f25e6073f62eeb2c85530b1c2b2",
        "model": {"type": "linear", "bias": False},
        "optimizer": {"type": "gd", "lr": 0.01},
        "epochs": 100,
        "tolerance": 0,
        "standardize": False,
    }
    config = JobRequest.model_validate(sent).resolve(max_history_points=100000).model_dump()
    assert json.dumps(config, separators=(",", ":")) == (
        '{"dataset_id":"ds_559b7f25e6073f62eeb2c85530b1c2b2","model":{"type":"linear","bias":false},'
        '"loss":"mse","optimizer":{"type":"gd","lr":0.01,"weight_decay":0.0,"clip_norm":null,'
        '"schedule":null},"epochs":100,"tolerance":0.0,'
        '"split":{"dev":0.0,"test":0.0,"stratify":false},"early_stopping":null,"smoothing":0.4,'
        '"standardize":false,"seed":0,"max_runtime_seconds":3600,"features":{"include":null,'
        '"exclude":[],"impute":"mean","missing_indicator":false,"max_categories":20},"data":{"train_fraction":1.0},"positive":null,'
        '"max_history_points":100000}'
    )


@pytest.mark.parametrize(
    "optimizer, config",
    [
        ({"type": "exhaustive", "grid": GRID}, {"type": "exhaustive", "grid": {"w": [GRID["w"]], "b": None}}),
        ({"type": "sgd"}, {"type": "sgd", "lr": 0.01, **STEPS}),
        ({"type": "minibatch"}, {"type": "minibatch", "lr": 0.01, **STEPS, "batch_size": 32}),
        ({"type": "momentum"}, {"type": "momentum", "lr": 0.01, **STEPS, "batch_size": 32, "momentum": 0.9}),
        ({"type": "adam"}, {"type": "adam", "lr": 0.001, **STEPS, "batch_size": 32, "betas": [0.9, 0.999]}),
        (
            {"type": "adam", "lr": 0.1, "betas": [0.8, 0.99]},
            {"type": "adam", "lr": 0.1, **STEPS, "batch_size": 32, "betas": [0.8, 0.99]},
        ),
        (
            {
                "type": "sgd",
                "weight_decay": 1e-4,
                "clip_norm": 5,
                "schedule": {"type": "step", "step_size": 10},
            },
            {
                "type": "sgd",
                "lr": 0.01,
                "weight_decay": 1e-4,
                "clip_norm": 5.0,
                "schedule": {"type": "step", "step_size": 10, "gamma": 0.1},
            },
        ),
        (
            {"type": "gd", "schedule": {"type": "cosine"}},  # over the job's 100 epochs
            {"type": "gd", "lr": 0.01, **STEPS, "schedule": {"type": "cosine", "t_max": 100}},
        ),
    ],
)
def test_each_optimizer_type_resolves_to_its_own_keys_and_defaults(optimizer, config) -> None:
    assert resolved(optimizer=optimizer)["optimizer"] == config


def test_keys_of_other_types_are_checked_then_dropped() -> None:
    """So a sweep can vary the type over one base: a batch_size is fine for gd, but must be valid."""
    every = {"lr": 0.5, "batch_size": 8, "momentum": 0.5, "betas": [0.5, 0.5], "grid": GRID}
    assert resolved(optimizer={"type": "gd", **every})["optimizer"] == {"type": "gd", "lr": 0.5, **STEPS}
    assert resolved(optimizer={"type": "exhaustive", **every})["optimizer"]["type"] == "exhaustive"
    assert errors(optimizer={"type": "gd", "batch_size": 0}) == [
        (("optimizer", "batch_size"), "greater_than_equal")
    ]


def test_the_generated_optimizer_has_every_key_of_every_type() -> None:
    assert set(Optimizer.model_fields) == {
        "type",
        "lr",
        "weight_decay",
        "clip_norm",
        "schedule",
        "batch_size",
        "momentum",
        "betas",
        "grid",
    }
    assert set(OPTIMIZER_TYPES) == {*SEARCH_TYPES, *GRADIENT_TYPES}
    assert OPTIMIZER_TYPES == ("exhaustive", "gd", "sgd", "minibatch", "momentum", "adam")


def test_a_key_the_type_requires_is_named() -> None:
    assert errors(optimizer={"type": "exhaustive"}) == [(("optimizer",), MISSING_FOR_TYPE)]
    assert errors(optimizer={"type": "exhaustive", "grid": None}) == [(("optimizer",), MISSING_FOR_TYPE)]


@pytest.mark.parametrize("kind", GRADIENT_TYPES)
def test_lr_auto_stays_auto_in_the_config_of_every_descent_type(kind: str) -> None:
    config = request(optimizer={"type": kind, "lr": "auto"}).resolve(100)
    assert config.optimizer.lr == "auto" and config.optimizer.auto_lr


def test_a_model_without_type_is_linear_and_an_mlp_has_its_defaults() -> None:
    assert resolved(model={"bias": False})["model"] == {"type": "linear", "bias": False}
    assert resolved(model={"type": "mlp"})["model"] == {"type": "mlp", "hidden": [16], "activation": "relu"}


def test_a_whole_number_is_an_integer() -> None:
    """JSON has one number type: 10.0 is 10, kept as an int."""
    config = request(epochs=10.0, seed=3.0, model={"type": "mlp", "hidden": [4.0]}).resolve(100)
    assert type(config.epochs) is int and type(config.seed) is int and config.model.hidden == [4]


@pytest.mark.parametrize(
    "fields, location, kind",
    [
        ({"dataset_id": ""}, ("dataset_id",), "string_too_short"),
        ({"dataset_id": "d" * 101}, ("dataset_id",), "string_too_long"),
        ({"bogus": 1}, ("bogus",), "extra_forbidden"),
        ({"model": {"type": "cnn"}}, ("model",), "union_tag_invalid"),
        ({"model": {"type": "linear", "bias": 1}}, ("model", "linear", "bias"), "bool_type"),
        ({"model": {"type": "mlp", "hidden": []}}, ("model", "mlp", "hidden"), "too_short"),
        ({"model": {"type": "mlp", "hidden": [1] * 9}}, ("model", "mlp", "hidden"), "too_long"),
        ({"model": {"type": "mlp", "hidden": [4097]}}, ("model", "mlp", "hidden"), "value_error"),
        ({"model": {"type": "mlp", "activation": "gelu"}}, ("model", "mlp", "activation"), "literal_error"),
        ({"loss": "hinge"}, ("loss",), "literal_error"),
        ({"optimizer": {"type": "newton"}}, ("optimizer", "type"), "literal_error"),
        ({"optimizer": {"type": "gd", "lr": 0}}, ("optimizer", "lr"), "value_error"),
        ({"optimizer": {"type": "gd", "lr": "fast"}}, ("optimizer", "lr"), "value_error"),
        ({"optimizer": {"type": "gd", "lr": True}}, ("optimizer", "lr"), "value_error"),
        ({"optimizer": {"type": "momentum", "momentum": 1}}, ("optimizer", "momentum"), "less_than"),
        (
            {"optimizer": {"type": "momentum", "momentum": -0.1}},
            ("optimizer", "momentum"),
            "greater_than_equal",
        ),
        ({"optimizer": {"type": "adam", "betas": [0.9]}}, ("optimizer", "betas"), "value_error"),
        ({"optimizer": {"type": "adam", "betas": [0.9, 1.0]}}, ("optimizer", "betas"), "value_error"),
        ({"optimizer": {"type": "adam", "batch_size": 1.5}}, ("optimizer", "batch_size"), "int_type"),
        (
            {"optimizer": {"type": "gd", "weight_decay": -0.1}},
            ("optimizer", "weight_decay"),
            "greater_than_equal",
        ),
        (
            {"optimizer": {"type": "gd", "weight_decay": float("nan")}},
            ("optimizer", "weight_decay"),
            "finite_number",
        ),
        ({"optimizer": {"type": "gd", "weight_decay": "0.1"}}, ("optimizer", "weight_decay"), "float_type"),
        ({"optimizer": {"type": "gd", "clip_norm": 0}}, ("optimizer", "clip_norm"), "greater_than"),
        ({"optimizer": {"type": "gd", "clip_norm": -1}}, ("optimizer", "clip_norm"), "greater_than"),
        (
            {"optimizer": {"type": "gd", "clip_norm": float("inf")}},
            ("optimizer", "clip_norm"),
            "finite_number",
        ),
        (
            {"optimizer": {"type": "gd", "schedule": {"type": "linear"}}},
            ("optimizer", "schedule"),
            "union_tag_invalid",
        ),
        ({"optimizer": {"type": "gd", "schedule": {}}}, ("optimizer", "schedule"), "union_tag_not_found"),
        (
            {"optimizer": {"type": "gd", "schedule": "step"}},
            ("optimizer", "schedule"),
            "model_attributes_type",
        ),
        (
            {"optimizer": {"type": "gd", "schedule": {"type": "step"}}},
            ("optimizer", "schedule", "step", "step_size"),
            "missing",
        ),
        (
            {"optimizer": {"type": "gd", "schedule": {"type": "step", "step_size": 0}}},
            ("optimizer", "schedule", "step", "step_size"),
            "greater_than_equal",
        ),
        (
            {"optimizer": {"type": "gd", "schedule": {"type": "step", "step_size": 2, "gamma": 1.5}}},
            ("optimizer", "schedule", "step", "gamma"),
            "less_than_equal",
        ),
        (
            {"optimizer": {"type": "gd", "schedule": {"type": "exponential"}}},
            ("optimizer", "schedule", "exponential", "gamma"),
            "missing",
        ),
        (
            {"optimizer": {"type": "gd", "schedule": {"type": "exponential", "gamma": 0}}},
            ("optimizer", "schedule", "exponential", "gamma"),
            "greater_than",
        ),
        (
            {"optimizer": {"type": "gd", "schedule": {"type": "cosine", "t_max": 0}}},
            ("optimizer", "schedule", "cosine", "t_max"),
            "greater_than_equal",
        ),
        (
            {"optimizer": {"type": "gd", "schedule": {"type": "plateau", "factor": 1.0}}},
            ("optimizer", "schedule", "plateau", "factor"),
            "less_than",
        ),
        (
            {"optimizer": {"type": "gd", "schedule": {"type": "plateau", "patience": -1}}},
            ("optimizer", "schedule", "plateau", "patience"),
            "greater_than_equal",
        ),
        (
            {"optimizer": {"type": "gd", "schedule": {"type": "step", "step_size": 2, "warmup": 3}}},
            ("optimizer", "schedule", "step", "warmup"),
            "extra_forbidden",
        ),
        ({"optimizer": {"type": "exhaustive", "grid": {"w": []}}}, ("optimizer", "grid", "w"), "too_short"),
        (
            {"optimizer": {"type": "exhaustive", "grid": {"w": {"min": 1, "max": 0, "steps": 3}}}},
            ("optimizer", "grid", "w", 0),
            "value_error",
        ),
        (
            {"optimizer": {"type": "exhaustive", "grid": {"w": {"min": 0, "max": 1, "steps": 0}}}},
            ("optimizer", "grid", "w", 0, "steps"),
            "greater_than_equal",
        ),
        (
            {"optimizer": {"type": "exhaustive", "grid": {**GRID, "b": {"min": "0", "max": 1, "steps": 1}}}},
            ("optimizer", "grid", "b", "min"),
            "float_type",
        ),
        ({"epochs": 0}, ("epochs",), "greater_than_equal"),
        ({"epochs": True}, ("epochs",), "int_type"),
        ({"epochs": "5"}, ("epochs",), "int_type"),
        ({"tolerance": -1e-9}, ("tolerance",), "greater_than_equal"),
        ({"split": {"dev": 1.0}}, ("split", "dev"), "less_than"),
        ({"split": {"dev": 0.6, "test": 0.4}}, ("split",), "value_error"),
        ({"early_stopping": {"patience": 0}}, ("early_stopping", "patience"), "greater_than_equal"),
        ({"early_stopping": {"min_delta": -1}}, ("early_stopping", "min_delta"), "greater_than_equal"),
        ({"smoothing": 0}, ("smoothing",), "greater_than"),
        ({"smoothing": 1.01}, ("smoothing",), "less_than_equal"),
        ({"standardize": "yes"}, ("standardize",), "bool_type"),
        ({"seed": -1}, ("seed",), "greater_than_equal"),
        ({"seed": 2**63}, ("seed",), "less_than_equal"),
        ({"max_runtime_seconds": 0}, ("max_runtime_seconds",), "greater_than"),
        ({"max_runtime_seconds": float("inf")}, ("max_runtime_seconds",), "finite_number"),
        ({"max_history_points": 10}, ("max_history_points",), "extra_forbidden"),
        ({"log_every": 10}, ("log_every",), "extra_forbidden"),
    ],
)
def test_each_field_rejects_what_it_does_not_take(fields: dict[str, Any], location, kind: str) -> None:
    assert (location, kind) in errors(**fields)


def test_every_invalid_field_is_reported_at_once() -> None:
    found = {loc for loc, _ in errors(epochs=0, smoothing=2, optimizer={"type": "gd", "lr": -1, "typo": 3})}
    assert found == {("epochs",), ("smoothing",), ("optimizer", "lr"), ("optimizer", "typo")}


def test_a_config_is_a_request_with_what_the_service_and_worker_add() -> None:
    assert set(JobConfig.model_fields) - set(JobRequest.model_fields) == {"max_history_points", "log_every"}
