"""Property tests of job-request validation (service/validation.py), through the real app: one field
changed to an invalid value is a 400 whose `errors` name exactly that field by its dotted path, and
a key nothing knows, at any level, is a 400 naming it (in a job request and in a sweep's `base`)."""

from __future__ import annotations

import copy
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from service.schemas import MAX_SEED
from tests.support.job_requests import LIMITS, PROPERTY_SETTINGS, job_requests

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
