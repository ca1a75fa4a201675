"""The document's components: the schemas pydantic generates from the models that validate and
describe the API, with the service's configured limits written into them, and the schemas of a
sweep request derived from the job request's (`SweepBase`, `SweepGrid`, `SweepRequest`).
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from descent.search_space import METHODS, PRUNERS
from descent.settings import Settings
from descent.spec.schedule import SCHEDULE_CLASSES
from descent.store.paging import CURSOR_PATTERN

from .. import schemas, sweep_schemas
from ..sweep_plan import PATH
from .parts import REF, ref

MODELS: list[type[BaseModel]] = [
    schemas.JobRequest,
    schemas.JobResource,
    schemas.JobList,
    schemas.DatasetResource,
    schemas.DatasetList,
    schemas.DatasetXY,
    schemas.DatasetRows,
    schemas.History,
    schemas.Surface,
    schemas.ProblemDoc,
    schemas.Health,
    schemas.Readiness,
    schemas.NotReady,
    schemas.PredictRequest,
    schemas.Prediction,
    schemas.ModelExport,
    sweep_schemas.SweepResource,
    sweep_schemas.SweepList,
]
"""The models whose schemas are components (and whatever they reference)."""


def _limits(defs: dict[str, Any], settings: Settings) -> None:
    """The service's configured limits, where a single value can break them."""
    job = defs["JobRequest"]["properties"]
    job["epochs"]["maximum"] = settings.max_epochs
    job["max_runtime_seconds"]["maximum"] = settings.max_runtime_seconds
    defs["Range"]["properties"]["steps"]["maximum"] = settings.max_grid_points
    defs["Grid"]["properties"]["w"]["anyOf"][1]["maxItems"] = settings.max_features
    defs["DatasetXY"]["properties"]["x"]["items"]["maxItems"] = settings.max_features
    defs["DatasetRows"]["properties"]["columns"]["maxItems"] = settings.max_features + 1
    defs["DatasetRows"]["properties"]["rows"]["items"]["maxItems"] = settings.max_features + 1
    predict = defs["PredictRequest"]["properties"]["x"]
    predict["maxItems"] = settings.max_predict_rows
    predict["items"]["maxItems"] = settings.max_features


def _strip_titles(node: Any) -> Any:
    """pydantic's generated `title`s only repeat the names (a property named title is a dict)."""
    if isinstance(node, dict):
        return {k: _strip_titles(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(node, list):
        return [_strip_titles(v) for v in node]
    return node


def _name(reference: str) -> str:
    return reference.rsplit("/", 1)[-1]


def _objects(schema: dict[str, Any], defs: dict[str, Any]) -> list[dict[str, Any]]:
    """The object schemas a value of `schema` may be (through $ref, anyOf and oneOf)."""
    if "$ref" in schema:
        return _objects(defs[_name(schema["$ref"])], defs)
    if "anyOf" in schema or "oneOf" in schema:
        return [o for member in schema.get("anyOf", schema.get("oneOf", [])) for o in _objects(member, defs)]
    return [schema] if schema.get("type") == "object" else []


def _request_paths(schema: dict[str, Any], defs: dict[str, Any], prefix: str = "") -> dict[str, list[Any]]:
    """Every dotted path into a job request (through objects, not lists) and its value schemas."""
    out: dict[str, list[Any]] = {}
    for obj in _objects(schema, defs):
        for key, sub in obj.get("properties", {}).items():
            path = prefix + key
            if path == "dataset_id":
                continue
            kinds = out.setdefault(path, [])
            if sub not in kinds:
                kinds.append(sub)
            for deeper, subs in _request_paths(sub, defs, path + ".").items():
                bucket = out.setdefault(deeper, [])
                bucket.extend(s for s in subs if s not in bucket)
    return out


def _one(schemas_: list[dict[str, Any]]) -> dict[str, Any]:
    return schemas_[0] if len(schemas_) == 1 else {"anyOf": schemas_}


def _sweep_grid(defs: dict[str, Any], settings: Settings) -> dict[str, Any]:
    paths = _request_paths(ref("JobRequest"), defs)
    return {
        "type": "object",
        "description": "Dotted paths into a job request, each with the values to try; one child job per "
        "combination (at most DESCENT_MAX_SWEEP_CHILDREN = "
        f"{settings.max_sweep_children}). A value replaces what `base` has at that path.",
        "minProperties": 1,
        "propertyNames": {"pattern": PATH.pattern},
        "properties": {
            path: {
                "type": "array",
                "minItems": 1,
                "maxItems": settings.max_sweep_children,
                "items": _one(kinds),
            }
            for path, kinds in sorted(paths.items())
        },
        "additionalProperties": False,
    }


TAGGED = {"MlpModel", *(cls.__name__ for cls in SCHEDULE_CLASSES)}
"""Members of a union told apart by `type`: a partial one still needs its `type`, by which pydantic
picks the member (and a model without `type` is linear)."""


def _sweep_base(defs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`SweepBase`: a job request without dataset_id in which any key may be left to the grid.

    Each schema it references gets a `SweepBase…` copy without `required` (but for the `type` of
    the `TAGGED`) and without the rules that relate fields, which hold for the children.
    """
    out: dict[str, dict[str, Any]] = {}

    def partial(name: str) -> str:
        new = "SweepBase" if name == "JobRequest" else "SweepBase" + name
        if new in out:
            return new
        schema = copy.deepcopy(defs[name])
        out[new] = schema
        for key in ("if", "then", "allOf"):
            schema.pop(key, None)
        if name in TAGGED:
            schema["required"] = ["type"]
        else:
            schema.pop("required", None)
        schema.get("properties", {}).pop("dataset_id", None)
        out[new] = rewrite(schema)
        return new

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return ref(partial(_name(node["$ref"])))
            return {k: rewrite(v) for k, v in node.items()}
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    partial("JobRequest")
    out["SweepBase"]["description"] = (
        "A job request without dataset_id. Any key may be left out for the grid to give; every key "
        "given must be valid on its own, and the request each child gets must be a valid job request."
    )
    return out


def _search_schema(settings: Settings) -> dict[str, Any]:
    """A sweep's `search` (descent/search_space.py checks it)."""
    trials = {"type": "integer", "minimum": 1, "maximum": settings.max_sweep_children}
    return {
        "type": "object",
        "description": "trials chosen by Optuna from the results so far, at most `parallel` at once",
        "properties": {
            "method": {"enum": list(METHODS), "default": "tpe"},
            "trials": {**trials, "description": "trials in all (default 30)"},
            "parallel": {**trials, "description": "at most this many at once (default 4)"},
            "seed": {"type": "integer", "minimum": 0, "maximum": 2**32 - 1, "default": 0},
            "pruner": {"enum": list(PRUNERS), "default": "none"},
        },
        "additionalProperties": False,
    }


def components(settings: Settings) -> dict[str, Any]:
    _, top = models_json_schema([(m, "validation") for m in MODELS], ref_template=REF)
    defs: dict[str, Any] = top.get("$defs", {})
    defs["DatasetJson"] = {
        "description": "The two JSON forms of a dataset upload.",
        "oneOf": [ref("DatasetXY"), ref("DatasetRows")],
    }
    # Surface.cost's recursive lists, as a component of their own.
    cost = defs["Surface"]["properties"]["cost"]
    defs["CostArray"] = cost.pop("$defs")["CostArray"]
    cost["items"] = {"anyOf": [{"type": "number"}, {"type": "null"}, ref("CostArray")]}
    defs["CostArray"]["items"] = {"anyOf": [{"type": "number"}, {"type": "null"}, ref("CostArray")]}
    _limits(defs, settings)
    defs.update(_sweep_base(defs))
    defs["SweepGrid"] = _sweep_grid(defs, settings)
    defs["SweepRequest"] = {
        "type": "object",
        "description": "`POST /v1/sweeps`. Every child is `base` with one combination of the grid's values, "
        "plus `dataset_id`; with `validation.folds` = K, K children per combination, each with one fold "
        "as its dev split (stratified for classifiers). `grid` may be left out with `validation`: "
        "cross-validation of `base` alone.",
        "properties": {
            "dataset_id": {"type": "string", "minLength": 1},
            "base": ref("SweepBase"),
            "grid": ref("SweepGrid"),
            "validation": ref("Validation"),
            "search": _search_schema(settings),
            "space": {
                "type": "object",
                "description": "a search's dotted paths (as in `grid`), each a range `{low, high}` (with "
                "`log: true` — low > 0 — or a `step`) or `{choices: [...]}`",
                "minProperties": 1,
                "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "low": {"type": "number"},
                        "high": {"type": "number"},
                        "log": {"type": "boolean"},
                        "step": {"type": "number", "exclusiveMinimum": 0},
                        "choices": {"type": "array", "minItems": 1},
                    },
                    "additionalProperties": False,
                },
            },
        },
        "required": ["dataset_id"],
        "anyOf": [
            {"required": ["grid"]},
            {"required": ["validation"]},
            {"required": ["search", "space"]},
        ],
        "additionalProperties": False,
    }
    sweep = defs["SweepResource"]["properties"]
    sweep["base"] = ref("SweepBase")
    sweep["grid"] = {"anyOf": [ref("SweepGrid"), {"type": "object", "maxProperties": 0}]}
    for listing in (defs["DatasetList"], defs["JobList"], defs["SweepList"]):
        listing["properties"]["next_cursor"]["anyOf"][0]["pattern"] = CURSOR_PATTERN
    return _strip_titles(defs)
