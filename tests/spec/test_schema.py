"""The JSON schemas the spec models give: the request's, and the resolved config's the API shows."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from descent.spec import OPTIMIZER_TYPES, JobConfig, JobRequest, Optimizer

GRID = {"w": [{"min": 0, "max": 1, "steps": 3}, {"min": -1, "max": 1, "steps": 2}], "b": None}
OPTIMIZERS = [{"type": kind, **({"grid": GRID} if kind == "exhaustive" else {})} for kind in OPTIMIZER_TYPES]


def config_schema() -> Draft202012Validator:
    return Draft202012Validator(JobConfig.model_json_schema())


def resolved(**fields: Any) -> dict[str, Any]:
    req = JobRequest.model_validate({"dataset_id": "d", **fields})
    return req.resolve(max_history_points=1000).model_dump(mode="json")


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=OPTIMIZER_TYPES)
def test_the_config_schema_accepts_every_resolved_config(optimizer: dict[str, Any]) -> None:
    schema = config_schema()
    for model in ({}, {"type": "mlp", "hidden": [3, 2]}):
        if model and optimizer["type"] == "exhaustive":
            continue
        config = resolved(optimizer=optimizer, model=model, early_stopping={})
        schema.validate(config)
        schema.validate({**config, "log_every": 4})


@pytest.mark.parametrize(
    "change",
    [
        {"optimizer": {"type": "gd", "lr": 0.01, "batch_size": 32}},  # a key gd does not use
        {"optimizer": {"type": "minibatch", "lr": 0.01}},  # a key minibatch uses, missing
        {"optimizer": {"type": "exhaustive", "grid": {"w": GRID["w"]}}},  # b is shown, null or a range
        {"model": {"type": "linear"}},
        {"log_every": None},
        {"log_every": 0},
        {"max_history_points": None},
        {"early_stopping": {"patience": 3}},
        {"extra": 1},
    ],
)
def test_the_config_schema_states_every_key_of_the_shape(change: dict[str, Any]) -> None:
    config = {**resolved(optimizer={"type": "gd"}), **change}
    assert not config_schema().is_valid(config)


def test_a_config_without_max_history_points_is_read_but_not_documented() -> None:
    """Configs stored before the key existed still load (test_config.py); the API shows it set."""
    config = resolved(optimizer={"type": "gd"})
    del config["max_history_points"]
    assert not config_schema().is_valid(config)
    assert JobConfig.model_validate(config).max_history_points > 0


def test_the_request_schema_leaves_defaults_out() -> None:
    schema = JobRequest.model_json_schema()
    assert set(schema["required"]) == {"dataset_id", "optimizer"}
    Draft202012Validator(schema).validate({"dataset_id": "d", "optimizer": {"type": "gd", "batch_size": 8}})


def test_the_request_optimizer_says_which_types_use_a_key_and_its_defaults() -> None:
    properties = Optimizer.model_json_schema()["properties"]
    assert properties["lr"]["description"].endswith(
        "(gd, sgd, minibatch, momentum, adam; default 0.01, adam 0.001)"
    )
    assert properties["batch_size"]["description"].endswith("(minibatch, momentum, adam; default 32)")
    assert properties["batch_size"]["anyOf"][0] == {"type": "integer", "minimum": 1}
    assert properties["grid"]["description"].endswith("(exhaustive; required)")


def test_the_request_schema_requires_what_a_type_requires() -> None:
    schema = Draft202012Validator(JobRequest.model_json_schema())
    assert not schema.is_valid({"dataset_id": "d", "optimizer": {"type": "exhaustive"}})
    assert schema.is_valid(
        {"dataset_id": "d", "optimizer": {"type": "exhaustive", "grid": {"w": GRID["w"][0]}}}
    )
