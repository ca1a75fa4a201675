"""Property test of job-request validation (service/validation.py), through the real app: any request
built from valid values of every field is accepted (202), and its config is the request with every
default filled in, exactly as an independent oracle here computes it."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given

from service.schemas import JobConfig
from tests.support.job_requests import LIMITS, PROPERTY_SETTINGS, job_requests

# -- the oracle: API.md's defaults ----------------------------------------------------------------


def expected_config(req: dict[str, Any]) -> dict[str, Any]:
    model = req.get("model", {})
    if model.get("type") == "mlp":
        model = {
            "type": "mlp",
            "hidden": model.get("hidden", [16]),
            "activation": model.get("activation", "relu"),
        }
    else:
        model = {"type": "linear", "bias": model.get("bias", True)}
    given = req["optimizer"]
    kind = given["type"]
    optimizer: dict[str, Any] = {"type": kind}
    if kind == "exhaustive":
        w = given["grid"]["w"]
        optimizer["grid"] = {"w": w if isinstance(w, list) else [w], "b": given["grid"].get("b")}
    else:
        default_lr = 0.001 if kind == "adam" else 0.01
        optimizer["lr"] = default_lr if given.get("lr") is None else given["lr"]
        optimizer["weight_decay"] = given.get("weight_decay") or 0.0
        optimizer["clip_norm"] = given.get("clip_norm")
        optimizer["schedule"] = expected_schedule(given.get("schedule"), req.get("epochs", 100))
    if kind in ("minibatch", "momentum", "adam"):
        optimizer["batch_size"] = given.get("batch_size") or 32
    if kind == "momentum":
        optimizer["momentum"] = 0.9 if given.get("momentum") is None else given["momentum"]
    if kind == "adam":
        optimizer["betas"] = [0.9, 0.999] if given.get("betas") is None else given["betas"]
    stopping = req.get("early_stopping")
    if stopping is not None:
        stopping = {"patience": stopping.get("patience", 10), "min_delta": stopping.get("min_delta", 0.0)}
    split = req.get("split", {})
    return {
        "dataset_id": req["dataset_id"],
        "model": model,
        "loss": req.get("loss", "mse"),
        "optimizer": optimizer,
        "epochs": req.get("epochs", 100),
        "tolerance": req.get("tolerance", 1e-7),
        "split": {
            "dev": split.get("dev", 0.0),
            "test": split.get("test", 0.0),
            "stratify": split.get("stratify", req.get("loss") in ("bce", "cross_entropy")),
        },
        "early_stopping": stopping,
        "smoothing": req.get("smoothing", 0.4),
        "standardize": req.get("standardize", True),
        "seed": req.get("seed", 0),
        "max_runtime_seconds": req.get("max_runtime_seconds", 3600),
        "features": {
            "include": None,
            "exclude": [],
            "impute": "mean",
            "missing_indicator": False,
            "max_categories": 20,
            **req.get("features", {}),
        },
        "data": {"train_fraction": 1.0, **req.get("data", {})},
        "positive": req.get("positive"),
        "max_history_points": LIMITS.max_history_points,
    }


def expected_schedule(given: dict[str, Any] | None, epochs: int) -> dict[str, Any] | None:
    """torch's defaults (step's gamma 0.1; plateau's factor 0.1, patience 10); cosine over the run."""
    if given is None:
        return None
    defaults = {
        "step": {"gamma": 0.1},
        "exponential": {},
        "cosine": {"t_max": epochs},
        "plateau": {"factor": 0.1, "patience": 10},
    }[given["type"]]
    return {**defaults, **{k: v for k, v in given.items() if v is not None}}


def integer_fields(config: dict[str, Any]) -> list[Any]:
    values = [config["epochs"], config["seed"]]
    if config["model"]["type"] == "mlp":
        values += config["model"]["hidden"]
    if "batch_size" in config["optimizer"]:
        values.append(config["optimizer"]["batch_size"])
    if config["early_stopping"]:
        values.append(config["early_stopping"]["patience"])
    schedule = config["optimizer"].get("schedule") or {}
    values += [schedule[k] for k in ("step_size", "t_max", "patience") if k in schedule]
    if "grid" in config["optimizer"]:
        grid = config["optimizer"]["grid"]
        values += [r["steps"] for r in grid["w"] + ([grid["b"]] if grid["b"] else [])]
    return values


@PROPERTY_SETTINGS
@given(req=job_requests())
def test_any_valid_request_is_accepted_with_every_default_filled(api, dataset_id, req):
    req = {**req, "dataset_id": dataset_id}
    r = api.post("/v1/jobs", json=req)
    assert r.status_code == 202, (req, r.get_json())
    config = r.get_json()["config"]
    assert config == expected_config(req)
    assert all(type(v) is int for v in integer_fields(config)), config  # 10.0 is stored as 10
    JobConfig.model_validate(config)  # exactly the documented shape


def test_the_oracle_knows_every_default():
    """The defaults API.md lists, once: a minimal request's config is exactly them."""
    config = expected_config({"dataset_id": "d", "optimizer": {"type": "gd"}})
    assert config["model"] == {"type": "linear", "bias": True} and config["optimizer"]["lr"] == 0.01
    assert math.isclose(config["tolerance"], 1e-7) and config["smoothing"] == 0.4
