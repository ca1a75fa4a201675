"""Property tests of job-request validation (service/validation.py), through the real app.

- Any request built from valid values of every field is accepted (202), and its config is the
  request with every default filled in, exactly as an independent oracle here computes it.
- Changing any single field of such a request to an invalid value is a 400 whose `errors` name
  exactly that field, by its dotted path as the request wrote it.
- A key nothing knows, at any level, is a 400 naming it, both in a job request and in a sweep's
  `base`.

The app's queue has no worker, so accepted jobs stay queued and nothing trains. The dataset has
100 rows, 3 features and a 0/1 target, so every loss, split and grid drawn here fits it.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from descent.settings import Settings
from service import create_app
from service.schemas import MAX_SEED, OPTIMIZER_TYPES, JobConfig

ROWS, FEATURES = 100, 3
LIMITS = Settings()
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@pytest.fixture(scope="module")
def api(settings):
    app = create_app(
        {
            "SETTINGS": replace(
                settings, queue_name=settings.queue_name + "-properties", max_open_jobs=10**9
            ),
            "TESTING": True,
        }
    )
    return app.test_client()


@pytest.fixture(scope="module")
def dataset_id(api) -> str:
    rows = [[i, (i * 7) % 11, (i % 5) / 2] for i in range(ROWS)]
    body = {"x": rows, "y": [float(i % 2) for i in range(ROWS)]}
    r = api.post("/v1/datasets", json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


# -- valid values ---------------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False)
non_negative = st.floats(min_value=0, allow_infinity=False)
positive = st.floats(min_value=0, exclude_min=True, allow_infinity=False)
fraction = st.floats(min_value=0, max_value=1, exclude_max=True)


def integral(ints: st.SearchStrategy[int]) -> st.SearchStrategy[int | float]:
    """An integer, sometimes written 10.0: JSON has one number type."""
    return ints.flatmap(lambda n: st.sampled_from([n, float(n)]) if abs(n) < 2**53 else st.just(n))


def maybe(draw, target: dict[str, Any], key: str, values: st.SearchStrategy) -> None:
    if draw(st.booleans()):
        target[key] = draw(values)


@st.composite
def ranges(draw) -> dict[str, Any]:
    a, b = draw(finite), draw(finite)
    return {"min": min(a, b), "max": max(a, b), "steps": draw(integral(st.integers(1, 8)))}


@st.composite
def grids(draw, bias_range: bool) -> dict[str, Any]:
    w = draw(
        st.one_of(
            ranges(),
            st.lists(ranges(), min_size=1, max_size=1),
            st.lists(ranges(), min_size=FEATURES, max_size=FEATURES),
        )
    )
    grid: dict[str, Any] = {"w": w}
    if bias_range:
        grid["b"] = draw(ranges())
    elif draw(st.booleans()):
        grid["b"] = None
    return grid


@st.composite
def schedules(draw, plateau: bool) -> dict[str, Any]:
    """A valid `optimizer.schedule`; plateau only when the job has a dev split."""
    kind = draw(st.sampled_from(["step", "exponential", "cosine"] + (["plateau"] if plateau else [])))
    decay = st.floats(min_value=0, max_value=1, exclude_min=True)
    schedule: dict[str, Any] = {"type": kind}
    if kind == "step":
        schedule["step_size"] = draw(integral(st.integers(1, 1000)))
        maybe(draw, schedule, "gamma", decay)
    elif kind == "exponential":
        schedule["gamma"] = draw(decay)
    elif kind == "cosine":
        maybe(draw, schedule, "t_max", st.one_of(st.none(), integral(st.integers(1, 10**6))))
    else:
        factors = st.floats(min_value=0, max_value=1, exclude_min=True, exclude_max=True)
        maybe(draw, schedule, "factor", factors)
        maybe(draw, schedule, "patience", integral(st.integers(0, 1000)))
    return schedule


split_fraction = st.one_of(st.just(0), st.just(0.0), st.floats(min_value=0.01, max_value=0.45))


@st.composite
def job_requests(draw) -> dict[str, Any]:
    """A request every field of which is valid, for the module's dataset (dataset_id is added later)."""
    kind = draw(st.sampled_from(OPTIMIZER_TYPES))
    exhaustive = kind == "exhaustive"
    req: dict[str, Any] = {}
    if exhaustive or draw(st.booleans()):
        model: dict[str, Any] = {}
        maybe(draw, model, "type", st.just("linear"))
        maybe(draw, model, "bias", st.booleans())
    else:
        model = {"type": "mlp"}
        maybe(draw, model, "hidden", st.lists(integral(st.integers(1, 32)), min_size=1, max_size=3))
        maybe(draw, model, "activation", st.sampled_from(["relu", "sigmoid", "tanh", "identity"]))
    if model != {} or draw(st.booleans()):
        req["model"] = model
    maybe(
        draw,
        req,
        "loss",
        st.sampled_from(["mse", "mae", "huber", "bce"] + ([] if exhaustive else ["cross_entropy"])),
    )
    optimizer: dict[str, Any] = {"type": kind}
    maybe(draw, optimizer, "lr", st.one_of(st.none(), st.just("auto"), positive))
    maybe(draw, optimizer, "batch_size", st.one_of(st.none(), integral(st.integers(1, 10**6))))
    maybe(draw, optimizer, "momentum", st.one_of(st.none(), fraction))
    maybe(draw, optimizer, "betas", st.one_of(st.none(), st.lists(fraction, min_size=2, max_size=2)))
    if exhaustive or draw(st.booleans()):
        bias = model.get("type", "linear") == "linear" and model.get("bias", True)
        optimizer["grid"] = draw(grids(bias_range=bool(bias) and draw(st.booleans())))
    req["optimizer"] = optimizer
    maybe(draw, req, "epochs", integral(st.integers(1, LIMITS.max_epochs)))
    maybe(draw, req, "tolerance", non_negative)
    split: dict[str, Any] = {}
    maybe(draw, split, "dev", split_fraction)
    maybe(draw, split, "test", split_fraction)
    if split or draw(st.booleans()):
        req["split"] = split
    if exhaustive:  # the search takes no step options but their defaults
        maybe(draw, optimizer, "weight_decay", st.sampled_from([None, 0, 0.0]))
        maybe(draw, optimizer, "clip_norm", st.none())
        maybe(draw, optimizer, "schedule", st.none())
    else:
        maybe(draw, optimizer, "weight_decay", st.one_of(st.none(), non_negative))
        maybe(draw, optimizer, "clip_norm", st.one_of(st.none(), positive))
        maybe(draw, optimizer, "schedule", st.one_of(st.none(), schedules(plateau=split.get("dev", 0) > 0)))
    if draw(st.booleans()):
        stopping: dict[str, Any] = {}
        maybe(draw, stopping, "patience", integral(st.integers(1, 1000)))
        maybe(draw, stopping, "min_delta", non_negative)
        req["early_stopping"] = draw(st.sampled_from([None, stopping]))
    maybe(draw, req, "smoothing", st.floats(min_value=0, max_value=1, exclude_min=True))
    maybe(draw, req, "standardize", st.booleans())
    maybe(draw, req, "seed", integral(st.integers(0, MAX_SEED)))
    maybe(
        draw,
        req,
        "max_runtime_seconds",
        st.floats(min_value=0, max_value=LIMITS.max_runtime_seconds, exclude_min=True),
    )
    return req


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


# -- one invalid field ----------------------------------------------------------------------------

INDEX = re.compile(r"\[(\d+)\]")


def parts(path: str) -> list[str | int]:
    out: list[str | int] = []
    for piece in path.split("."):
        name, *indexes = INDEX.split(piece)
        out.append(name)
        out += [int(i) for i in indexes if i]
    return out


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    """doc at `path` = value, making the objects on the way (a null one included)."""
    *ups, last = parts(path)
    node: Any = doc
    for key in ups:
        if isinstance(key, str) and not isinstance(node.get(key), dict | list):
            node[key] = {}
        node = node[key]
    node[last] = value


def delete_path(doc: dict[str, Any], path: str) -> None:
    *ups, last = parts(path)
    node: Any = doc
    for key in ups:
        node = node[key]
    del node[last]


def range_paths(req: dict[str, Any]) -> list[str]:
    grid = req["optimizer"].get("grid")
    if not grid:
        return []
    w = grid["w"]
    found = [f"optimizer.grid.w[{i}]" for i in range(len(w))] if isinstance(w, list) else ["optimizer.grid.w"]
    return found + (["optimizer.grid.b"] if isinstance(grid.get("b"), dict) else [])


BAD_FRACTIONS = [-0.1, 1.0, 1.5, "0.1", True, None]


def invalid_changes(req: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    """(path, values each invalid by itself) for every field of `req`, present or not."""
    changes: list[tuple[str, list[Any]]] = [
        ("dataset_id", ["", 5, None, "d" * 101]),
        ("model", ["linear", 5, []]),
        ("model.type", ["cnn", 1, None]),
        ("loss", ["hinge", 3, None]),
        ("optimizer", ["gd", 5, None]),
        ("optimizer.type", ["newton", 3, None]),
        ("optimizer.lr", [0, -1.5, "fast", True, []]),
        ("optimizer.batch_size", [0, -4, 1.5, "8", True]),
        ("optimizer.momentum", [1, 1.5, -0.1, "x", True]),
        ("optimizer.betas", [[1.0, 0.5], [0.5], [0.5, 0.5, 0.5], "x", 0.9]),
        ("optimizer.weight_decay", [-0.1, "0.1", True, []]),
        ("optimizer.clip_norm", [0, -1.0, "1", True]),
        ("optimizer.schedule", ["step", 5, [], {}]),
        ("optimizer.schedule.type", ["linear", 3, None]),
        ("epochs", [0, -1, 1.5, "5", True, None, LIMITS.max_epochs + 1]),
        ("tolerance", [-1e-9, "x", True, None]),
        ("split", ["x", 5, []]),
        ("split.dev", [*BAD_FRACTIONS, 0.001]),  # 0.001 of 100 rows holds out none
        ("split.test", [*BAD_FRACTIONS, 0.001]),
        ("early_stopping", ["x", 5, []]),
        ("early_stopping.patience", [0, -2, 1.5, "3", True, None]),
        ("early_stopping.min_delta", [-0.5, "x", True, None]),
        ("smoothing", [0, -0.1, 1.01, "x", True, None]),
        ("standardize", [1, "true", None]),
        ("seed", [-1, MAX_SEED + 1, 1.5, "0", True, None]),
        ("max_runtime_seconds", [0, -1, "x", True, None, LIMITS.max_runtime_seconds + 1]),
    ]
    model = req.get("model", {})
    if model.get("type") == "mlp":
        changes += [
            ("model.hidden", [[], [0], [4097], [1] * 9, "x", [[4096] * 8][0]]),
            ("model.activation", ["softmax", 1, None]),
        ]
    else:
        changes.append(("model.bias", ["yes", 1, None]))
    for path in range_paths(req):
        changes += [
            (path, ["x", {"min": 1.0, "max": 0.0, "steps": 2}]),
            (f"{path}.min", ["x", True, None]),
            (f"{path}.max", ["x", True, None]),
            (f"{path}.steps", [0, -1, 1.5, "2", True, None]),
        ]
    schedule = req["optimizer"].get("schedule")
    if schedule is not None:
        bounds = {
            "step": [("step_size", [0, 1.5, "2", True, None]), ("gamma", [0, 1.5, -1, "x", True])],
            "exponential": [("gamma", [0, 1.5, "x", True, None])],
            "cosine": [("t_max", [0, 1.5, "x", True])],
            "plateau": [("factor", [0, 1, 1.5, "x", True, None]), ("patience", [-1, 1.5, "x", True, None])],
        }[schedule["type"]]
        changes += [(f"optimizer.schedule.{key}", values) for key, values in bounds]
    if req["optimizer"]["type"] != "exhaustive" and not req.get("split", {}).get("dev"):
        changes.append(("optimizer.schedule", [{"type": "plateau"}]))  # no dev split to watch
    if req["optimizer"]["type"] == "exhaustive":
        changes.append(("optimizer.weight_decay", [0.5]))  # no gradient steps to decay
        changes.append(("optimizer.clip_norm", [1.0]))
        changes.append(("optimizer.schedule", [{"type": "exponential", "gamma": 0.5}]))
        changes.append(("optimizer.grid.w", [[], "x", [{"min": 0, "max": 1, "steps": 1}] * 2]))
        changes.append(("loss", ["cross_entropy"]))  # one output per class: no grid over its weights
    return changes


REQUIRED = ["dataset_id", "optimizer", "optimizer.type"]


@st.composite
def one_invalid_field(draw) -> tuple[dict[str, Any], str, str]:
    req = draw(job_requests())
    if draw(st.integers(0, 9)) == 0:
        path = draw(
            st.sampled_from(
                REQUIRED + (["optimizer.grid"] if req["optimizer"]["type"] == "exhaustive" else [])
            )
        )
        return req, path, "delete"
    path, values = draw(st.sampled_from(invalid_changes(req)))
    return req, path, draw(st.sampled_from(values))


@PROPERTY_SETTINGS
@given(case=one_invalid_field())
def test_one_invalid_field_is_a_400_naming_exactly_that_field(api, dataset_id, case):
    req, path, value = case
    body = copy.deepcopy({**req, "dataset_id": dataset_id})
    if value == "delete":
        delete_path(body, path)
    else:
        set_path(body, path, value)
    r = api.post("/v1/jobs", json=body)
    assert r.status_code == 400, (body, r.get_json())
    problem = r.get_json()
    assert {e["field"] for e in problem["errors"]} == {path}, (body, problem)
    assert path in problem["detail"]


# -- unknown keys ---------------------------------------------------------------------------------

KNOWN = {
    "dataset_id", "model", "loss", "optimizer", "epochs", "tolerance", "split", "early_stopping",
    "smoothing", "standardize", "seed", "max_runtime_seconds", "type", "bias", "hidden", "activation",
    "lr", "batch_size", "momentum", "betas", "grid", "w", "b", "min", "max", "steps", "dev", "test",
    "patience", "min_delta", "weight_decay", "clip_norm", "schedule", "step_size", "gamma", "t_max",
    "factor",
}  # fmt: skip
unknown_keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True).filter(lambda k: k not in KNOWN)


def object_paths(req: dict[str, Any]) -> list[str]:
    """Every object of a job request, present or not (an absent one is made to hold the key)."""
    return (
        ["", "model", "optimizer", "split", "early_stopping"]
        + (["optimizer.grid", *range_paths(req)] if req["optimizer"].get("grid") else [])
        + (["optimizer.schedule"] if req["optimizer"].get("schedule") else [])
    )


@st.composite
def one_unknown_key(draw) -> tuple[dict[str, Any], str]:
    req = draw(job_requests())
    where = draw(st.sampled_from(object_paths(req)))
    key = draw(unknown_keys)
    path = f"{where}.{key}" if where else key
    return req, path


@PROPERTY_SETTINGS
# 64-bit integers: the test client encodes with the app's JSON provider (orjson), which has no others
@given(
    case=one_unknown_key(),
    value=st.one_of(st.integers(-(2**63), 2**63 - 1), st.text(max_size=5), st.none()),
)
def test_an_unknown_key_at_any_level_is_rejected_by_name(api, dataset_id, case, value):
    req, path = case
    body = copy.deepcopy({**req, "dataset_id": dataset_id})
    set_path(body, path, value)
    r = api.post("/v1/jobs", json=body)
    assert r.status_code == 400, (body, r.get_json())
    assert r.get_json()["errors"] == [{"field": path, "message": "is not a known field"}]
    # The same key in a sweep's base: named there too, before any child is made.
    base = {k: v for k, v in body.items() if k != "dataset_id"}
    sweep = api.post("/v1/sweeps", json={"dataset_id": dataset_id, "base": base, "grid": {"seed": [1]}})
    assert sweep.status_code == 400, sweep.get_json()
    assert sweep.get_json()["errors"] == [{"field": f"base.{path}", "message": "is not a known field"}]


def test_the_oracle_knows_every_default():
    """The defaults API.md lists, once: a minimal request's config is exactly them."""
    config = expected_config({"dataset_id": "d", "optimizer": {"type": "gd"}})
    assert config["model"] == {"type": "linear", "bias": True} and config["optimizer"]["lr"] == 0.01
    assert math.isclose(config["tolerance"], 1e-7) and config["smoothing"] == 0.4
