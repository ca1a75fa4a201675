"""The OpenAPI 3.1 document, built from the pydantic models that validate and describe the API.

Paths are listed here once, with references to those models, so the document cannot drift from the
validation: changing a field in `schemas` changes both. The document describes the running
service: its limits (DESCENT_MAX_*) are the bounds of the schemas, and whether API keys are
required depends on DESCENT_API_KEYS.

What the document promises, and `tests/api/test_schemathesis.py` checks against a live server:
every request a schema accepts is accepted (except the rules JSON Schema cannot state, which the
descriptions name), every request it rejects is rejected with a 4xx, and every response — each
status code, header and body — is one the document lists.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from descent.settings import Settings
from descent.store.paging import CURSOR_PATTERN
from descent.store.states import STATUSES

from . import schemas
from .datasets import CSV_TYPES
from .idempotency import IDEMPOTENCY_KEY_PATTERN, MAX_KEY_LENGTH
from .parsing import CSV_PATTERN
from .sweeps import PATH

REF = "#/components/schemas/{model}"
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
    schemas.PredictRequest,
    schemas.Prediction,
    schemas.ModelExport,
    schemas.SweepResource,
]
MAX_LIST_LIMIT = 500
"""Largest `limit` of the list endpoints."""
CURSOR_QUERY_PATTERN = "^(" + CURSOR_PATTERN.removeprefix("^").removesuffix("$") + ")?$"
"""A cursor, or nothing (the first page)."""
SECURITY = "apiKey"
"""The name of the security scheme: `Authorization: Bearer <key>`."""

EXAMPLE_DATASET_ID = "ds_8598449cc93d251f7cb6c57773418c17"
EXAMPLE_CSV = "x,y\n1,2\n2,4\n3,6\n"
EXAMPLE_JOB = {
    "dataset_id": EXAMPLE_DATASET_ID,
    "model": {"type": "linear", "bias": False},
    "optimizer": {"type": "gd", "lr": 0.01},
    "epochs": 100,
    "tolerance": 0,
    "standardize": False,
}
EXAMPLE_SWEEP = {
    "dataset_id": EXAMPLE_DATASET_ID,
    "base": {"model": {"bias": False}, "standardize": False, "optimizer": {"type": "gd"}},
    "grid": {"optimizer.lr": [0.001, 0.01, 0.1]},
}


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _json(name: str, description: str, headers: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": ref(name)}},
    }
    if headers:
        response["headers"] = headers
    response.update(extra)
    return response


def _problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/problem+json": {"schema": ref("ProblemDoc")}},
    }
    if headers:
        response["headers"] = headers
    return response


def _header(description: str, required: bool = True) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": {"type": "string"}}


LOCATION = {"Location": _header("the new resource's path")}
CREATED_HEADERS = {
    **LOCATION,
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the same Idempotency-Key",
        "required": False,
        "schema": {"type": "string", "enum": ["true"]},
    },
}


def _param(
    name: str, where: str, schema: dict[str, Any], description: str, required: bool = False
) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": schema, "description": description}


def _id(name: str) -> dict[str, Any]:
    return _param(name, "path", {"type": "string"}, f"the {name.replace('_', ' ')} (opaque)", required=True)


IDEMPOTENCY_CONFLICT = (
    "the Idempotency-Key was used with another request, is still in progress, or created a resource "
    "that has been deleted (or has expired) since"
)
IDEMPOTENCY_KEY = _param(
    "Idempotency-Key",
    "header",
    {"type": "string", "maxLength": MAX_KEY_LENGTH, "pattern": IDEMPOTENCY_KEY_PATTERN},
    "a key of your choosing (printable ASCII): a repeat with the same key and body returns the first "
    "answer instead of creating a duplicate; the same key with another body is a 409",
)


def _paging(settings: Settings) -> list[dict[str, Any]]:
    return [
        _param(
            "limit",
            "query",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIST_LIMIT},
            f"page size (default {settings.list_page_size})",
        ),
        _param(
            "cursor",
            "query",
            {"type": "string", "pattern": CURSOR_QUERY_PATTERN},
            "the `next_cursor` of the previous page (opaque); without it, or empty, the first page",
        ),
    ]


def _responses(ok: dict[str, dict[str, Any]], errors: dict[str, str], public: bool = False) -> dict[str, Any]:
    """The successful answers, the listed errors, and what every /v1 operation can answer."""
    out: dict[str, Any] = dict(ok)
    for status, description in errors.items():
        out[status] = _problem(description)
    if not public:
        out["401"] = _problem(
            "no valid API key (only when DESCENT_API_KEYS is set)",
            {"WWW-Authenticate": _header('`Bearer realm="descent"`')},
        )
        out["503"] = _problem(
            "the job store (Redis) is unreachable or full; retry after Retry-After seconds",
            {"Retry-After": _header("seconds to wait before retrying")},
        )
    out["default"] = _problem("any other error (a 500 is always a bug)")
    return dict(sorted(out.items()))


def _body(schema: dict[str, Any], example: Any) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema, "example": example}}}


def _links(param: str, expression: str, names: list[str]) -> dict[str, Any]:
    return {
        f"{name[0].upper()}{name[1:]}": {"operationId": name, "parameters": {param: expression}}
        for name in names
    }


WHOLE_BODY = "x-schemathesis"
"""A link extension: `{"merge_body": false}` says the link's requestBody is the whole body (as OpenAPI
defines it), not fields to merge into a generated one (schemathesis' default)."""

JOB_OPERATIONS = ["getJob", "deleteJob", "getHistory", "getSurface", "cancelJob", "predict", "exportModel"]


def _paths(settings: Settings) -> dict[str, Any]:
    too_large = f"over a size limit (DESCENT_MAX_REQUEST_BYTES = {settings.max_request_bytes}, DESCENT_MAX_DATASET_CELLS = {settings.max_dataset_cells})"
    csv_params = [
        _param(
            "target",
            "query",
            {"type": "string"},
            "CSV uploads: the target column, by name or 0-based index (negative from the end); "
            "default the last column",
        ),
        _param(
            "name",
            "query",
            {"type": "string", "maxLength": schemas.MAX_NAME_LENGTH},
            "a name for the dataset (a JSON body's `name` wins)",
        ),
        IDEMPOTENCY_KEY,
    ]
    csv_body = {
        "type": "string",
        "pattern": CSV_PATTERN,
        "description": "numbers separated by commas, one row per line, an optional header row; at least "
        "2 rows and 2 columns, every row as long as the first, header names unique",
    }
    dataset_links = {
        **_links("dataset_id", "$response.body#/id", ["getDataset", "deleteDataset"]),
        "ListJobsOfDataset": {
            "operationId": "listJobs",
            "parameters": {"query.dataset_id": "$response.body#/id"},
        },
        # A request with any settings for the new dataset (merged into a generated one by tools
        # such as schemathesis), and a simple one that any dataset can train: the whole body.
        "SubmitJob": {"operationId": "createJob", "requestBody": {"dataset_id": "$response.body#/id"}},
        "SubmitSimpleJob": {
            "operationId": "createJob",
            "requestBody": {"dataset_id": "$response.body#/id", "optimizer": {"type": "gd"}, "epochs": 1},
            WHOLE_BODY: {"merge_body": False},
        },
        "StartSweep": {"operationId": "createSweep", "requestBody": {"dataset_id": "$response.body#/id"}},
        "StartSimpleSweep": {
            "operationId": "createSweep",
            "requestBody": {
                "dataset_id": "$response.body#/id",
                "base": {"optimizer": {"type": "gd"}, "epochs": 1},
                "grid": {"seed": [0, 1]},
            },
            WHOLE_BODY: {"merge_body": False},
        },
    }
    job_links = _links("job_id", "$response.body#/id", JOB_OPERATIONS)
    sweep_links = {
        **_links("sweep_id", "$response.body#/id", ["getSweep", "cancelSweep"]),
        "ListChildren": {"operationId": "listJobs", "parameters": {"query.sweep_id": "$response.body#/id"}},
        "GetFirstChild": {"operationId": "getJob", "parameters": {"job_id": "$response.body#/jobs/0/id"}},
    }
    return {
        "/v1/datasets": {
            "post": {
                "operationId": "createDataset",
                "summary": "Upload a dataset",
                "description": "A CSV body, a multipart upload (the CSV in field `file`), or JSON in one of "
                "two forms. Rejected with 400 naming the row and column at fault: fewer than 2 rows, ragged "
                "rows, non-numeric cells, NaN or infinite values, values beyond float32, an unknown target, "
                f"more than DESCENT_MAX_FEATURES = {settings.max_features} features.",
                "parameters": csv_params,
                "requestBody": {
                    "required": True,
                    "content": {
                        **{csv_type: {"schema": csv_body, "example": EXAMPLE_CSV} for csv_type in CSV_TYPES},
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "file": {**csv_body, "contentMediaType": "text/csv"},
                                    "target": {
                                        "type": "string",
                                        "description": "the target column (wins over the query's)",
                                    },
                                    "name": {"type": "string", "maxLength": schemas.MAX_NAME_LENGTH},
                                },
                                "required": ["file"],
                            },
                            "encoding": {"file": {"contentType": "text/csv"}},
                            "example": {"file": EXAMPLE_CSV},
                        },
                        "application/json": {
                            "schema": ref("DatasetJson"),
                            "example": {"name": "course", "x": [[1.0], [2.0], [3.0]], "y": [2.0, 4.0, 6.0]},
                        },
                    },
                },
                "responses": _responses(
                    {"201": _json("DatasetResource", "stored", CREATED_HEADERS, links=dataset_links)},
                    {
                        "400": "invalid data: `errors` names every fault (row and column for CSV)",
                        "409": IDEMPOTENCY_CONFLICT,
                        "413": too_large,
                        "415": "not text/csv (or application/csv, text/plain), multipart/form-data or application/json",
                    },
                ),
            },
            "get": {
                "operationId": "listDatasets",
                "summary": "List datasets, newest first",
                "parameters": _paging(settings),
                "responses": _responses(
                    {"200": _json("DatasetList", "a page")},
                    {"400": "invalid `limit` or `cursor`"},
                ),
            },
        },
        "/v1/datasets/{dataset_id}": {
            "parameters": [_id("dataset_id")],
            "get": {
                "operationId": "getDataset",
                "summary": "A dataset's description",
                "responses": _responses(
                    {"200": _json("DatasetResource", "the dataset")}, {"404": "unknown, or not yours"}
                ),
            },
            "delete": {
                "operationId": "deleteDataset",
                "summary": "Delete a dataset",
                "responses": _responses(
                    {"204": {"description": "deleted"}},
                    {"404": "unknown, or not yours", "409": "a queued or running job uses it"},
                ),
            },
        },
        "/v1/jobs": {
            "post": {
                "operationId": "createJob",
                "summary": "Submit a training job",
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": _body(ref("JobRequest"), EXAMPLE_JOB),
                "responses": _responses(
                    {"202": _json("JobResource", "queued", CREATED_HEADERS, links=job_links)},
                    {
                        "400": "invalid request (`errors` names every bad field), a request that does not "
                        "fit the dataset or a limit, or DESCENT_MAX_OPEN_JOBS open jobs already",
                        "404": "unknown dataset, or not yours",
                        "409": IDEMPOTENCY_CONFLICT,
                        "413": too_large,
                        "415": "not application/json",
                    },
                ),
            },
            "get": {
                "operationId": "listJobs",
                "summary": "List jobs, newest first",
                "parameters": [
                    _param(
                        "status",
                        "query",
                        {"type": "string", "enum": [s.value for s in STATUSES]},
                        "only jobs with this status",
                    ),
                    _param("dataset_id", "query", {"type": "string"}, "only jobs on this dataset"),
                    _param("sweep_id", "query", {"type": "string"}, "only children of this sweep"),
                    *_paging(settings),
                ],
                "responses": _responses(
                    {"200": _json("JobList", "a page")},
                    {"400": "invalid filter, `limit` or `cursor`"},
                ),
            },
        },
        "/v1/jobs/{job_id}": {
            "parameters": [_id("job_id")],
            "get": {
                "operationId": "getJob",
                "summary": "A job: status, progress, metrics, result or error",
                "responses": _responses(
                    {"200": _json("JobResource", "the job")}, {"404": "unknown, or not yours"}
                ),
            },
            "delete": {
                "operationId": "deleteJob",
                "summary": "Delete an ended job and its history",
                "responses": _responses(
                    {"204": {"description": "deleted"}},
                    {"404": "unknown, or not yours", "409": "still queued or running: cancel it first"},
                ),
            },
        },
        "/v1/jobs/{job_id}/history": {
            "parameters": [_id("job_id")],
            "get": {
                "operationId": "getHistory",
                "summary": "Loss history, incrementally",
                "parameters": [
                    _param(
                        "after",
                        "query",
                        {"type": "integer", "minimum": 0, "maximum": schemas.MAX_SEED},
                        "return train points with step > after (default 0); send the last page's `next`",
                    ),
                    _param(
                        "limit",
                        "query",
                        {"type": "integer", "minimum": 1, "maximum": settings.history_page_size},
                        f"at most this many train points (default {settings.history_page_size})",
                    ),
                ],
                "responses": _responses(
                    {"200": _json("History", "a page")},
                    {"400": "invalid `after` or `limit`", "404": "unknown, or not yours"},
                ),
            },
        },
        "/v1/jobs/{job_id}/surface": {
            "parameters": [_id("job_id")],
            "get": {
                "operationId": "getSurface",
                "summary": "Cost at every grid point of an exhaustive search",
                "responses": _responses(
                    {"200": _json("Surface", "the surface")},
                    {
                        "404": "unknown, not yours, not an exhaustive job, or a grid over "
                        f"DESCENT_MAX_SURFACE_POINTS = {settings.max_surface_points}",
                        "409": "the search has not succeeded (yet)",
                    },
                ),
            },
        },
        "/v1/jobs/{job_id}/cancel": {
            "parameters": [_id("job_id")],
            "post": {
                "operationId": "cancelJob",
                "summary": "Cancel a queued or running job",
                "responses": _responses(
                    {"202": _json("JobResource", "cancelled, or stopping within a second")},
                    {"404": "unknown, or not yours", "409": "already ended"},
                ),
            },
        },
        "/v1/jobs/{job_id}/predict": {
            "parameters": [_id("job_id")],
            "post": {
                "operationId": "predict",
                "summary": "Predict with a succeeded job's model",
                "description": "Every row needs one value per feature of the job's dataset.",
                "requestBody": _body(ref("PredictRequest"), {"x": [[4.0], [5.0]]}),
                "responses": _responses(
                    {"200": _json("Prediction", "one prediction per row")},
                    {
                        "400": "invalid rows, or a wrong number of features",
                        "404": "unknown, or not yours",
                        "409": "the job has not succeeded",
                        "413": too_large,
                        "415": "not application/json",
                    },
                ),
            },
        },
        "/v1/jobs/{job_id}/model": {
            "parameters": [_id("job_id")],
            "get": {
                "operationId": "exportModel",
                "summary": "The trained parameters (standardization folded in)",
                "parameters": [
                    _param(
                        "format",
                        "query",
                        {"type": "string", "enum": ["json", "safetensors"]},
                        "json (default) or a safetensors file",
                    )
                ],
                "responses": _responses(
                    {
                        "200": {
                            "description": "the model",
                            "content": {
                                "application/json": {"schema": ref("ModelExport")},
                                "application/octet-stream": {
                                    "schema": {"type": "string", "format": "binary"}
                                },
                            },
                        }
                    },
                    {
                        "400": "unknown `format`",
                        "404": "unknown, or not yours",
                        "409": "the job has not succeeded",
                    },
                ),
            },
        },
        "/v1/sweeps": {
            "post": {
                "operationId": "createSweep",
                "summary": "Start a sweep: one job per grid point",
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": _body(ref("SweepRequest"), EXAMPLE_SWEEP),
                "responses": _responses(
                    {
                        "202": _json(
                            "SweepResource", "the children are queued", CREATED_HEADERS, links=sweep_links
                        )
                    },
                    {
                        "400": "invalid request, a child that would be an invalid job (named by its `grid.` "
                        f"or `base.` path), more than DESCENT_MAX_SWEEP_CHILDREN = {settings.max_sweep_children} "
                        "children, or over DESCENT_MAX_OPEN_JOBS",
                        "404": "unknown dataset, or not yours",
                        "409": IDEMPOTENCY_CONFLICT,
                        "413": too_large,
                        "415": "not application/json",
                    },
                ),
            }
        },
        "/v1/sweeps/{sweep_id}": {
            "parameters": [_id("sweep_id")],
            "get": {
                "operationId": "getSweep",
                "summary": "A sweep with its children ranked",
                "responses": _responses(
                    {"200": _json("SweepResource", "the sweep")}, {"404": "unknown, or not yours"}
                ),
            },
        },
        "/v1/sweeps/{sweep_id}/cancel": {
            "parameters": [_id("sweep_id")],
            "post": {
                "operationId": "cancelSweep",
                "summary": "Cancel every child that has not ended",
                "responses": _responses(
                    {"202": _json("SweepResource", "cancelling")},
                    {"404": "unknown, or not yours", "409": "nothing left to cancel"},
                ),
            },
        },
        "/v1/jobs/{job_id}/events": {
            "parameters": [_id("job_id")],
            "get": {
                "operationId": "jobEvents",
                "summary": "Server-Sent Events of a job: progress, point, end",
                "description": "`progress` carries the job's status, progress, metrics, result and error when "
                "they change; `point` a /history page of new points (its id is `next`); `end` once the job has "
                "ended and every point was sent. A stream lasts at most DESCENT_SSE_SECONDS; reconnect with "
                "Last-Event-ID (or `after`) to continue. An API process serves at most DESCENT_MAX_SSE_STREAMS "
                "streams at once; one more is a 503 with Retry-After.",
                "parameters": [
                    _param(
                        "after", "query", {"type": "integer", "minimum": 0}, "send points with step > after"
                    ),
                    _param("Last-Event-ID", "header", {"type": "string"}, "the last event id seen"),
                ],
                "responses": _responses(
                    {
                        "200": {
                            "description": "an event stream",
                            "content": {"text/event-stream": {"schema": {"type": "string"}}},
                        }
                    },
                    {"404": "unknown, or not yours"},
                ),
            },
        },
        "/readyz": {
            "get": {
                "operationId": "readyz",
                "summary": "Readiness of this API process: Redis answers (live workers are counted, not required)",
                "description": "200 while Redis answers, whether or not any worker is alive: clients can "
                "read their jobs and queue new ones while workers are down. `workers` counts the workers "
                "whose heartbeat is recent (also `descent_workers_live` in /metrics). 503 only when Redis "
                "does not answer.",
                "security": [],
                "responses": _responses(
                    {
                        "200": _json("Readiness", "ready"),
                        "503": _json("Readiness", "Redis unreachable"),
                    },
                    {},
                    public=True,
                ),
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics (text exposition format)",
                "security": [],
                "responses": _responses(
                    {
                        "200": {
                            "description": "metrics",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                    {},
                    public=True,
                ),
            }
        },
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "summary": "Liveness: the process answers (says nothing about Redis)",
                "security": [],
                "responses": _responses({"200": _json("Health", "alive")}, {}, public=True),
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": [],
                "responses": _responses(
                    {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                    {},
                    public=True,
                ),
            }
        },
    }


# -- components -------------------------------------------------------------------------------------


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


KEEP_REQUIRED = {"MlpModel"}
"""Partial schemas still need these keys: a model without `type` is linear."""


def _sweep_base(defs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`SweepBase`: a job request without dataset_id in which any key may be left to the grid.

    Each schema it references gets a `SweepBase…` copy without `required` (but for
    `KEEP_REQUIRED`) and without the rules that relate fields, which hold for the children.
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
        if name not in KEEP_REQUIRED:
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


def _components(settings: Settings) -> dict[str, Any]:
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
        "plus `dataset_id`.",
        "properties": {
            "dataset_id": {"type": "string", "minLength": 1},
            "base": ref("SweepBase"),
            "grid": ref("SweepGrid"),
        },
        "required": ["dataset_id", "grid"],
        "additionalProperties": False,
    }
    sweep = defs["SweepResource"]["properties"]
    sweep["base"] = ref("SweepBase")
    sweep["grid"] = ref("SweepGrid")
    for listing in (defs["DatasetList"], defs["JobList"]):
        listing["properties"]["next_cursor"]["anyOf"][0]["pattern"] = CURSOR_PATTERN
    return _strip_titles(defs)


def openapi_document(settings: Settings | None = None) -> dict[str, Any]:
    """The whole document, for a service running with `settings`."""
    settings = settings or Settings()
    keyed = bool(settings.api_keys.strip())
    doc = {
        "openapi": "3.1.0",
        "info": {
            "title": "descent",
            "version": "1",
            "description": "Training as a service: upload a dataset, submit a job, watch its loss. "
            + (
                "Every /v1 request needs `Authorization: Bearer <key>`."
                if keyed
                else "This service runs open (DESCENT_API_KEYS is empty): a key is not needed."
            ),
        },
        "security": [{SECURITY: []}] if keyed else [{SECURITY: []}, {}],
        "paths": _paths(settings),
        "components": {
            "schemas": _components(settings),
            "securitySchemes": {
                SECURITY: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an API key from DESCENT_API_KEYS (`tenant:key,…`); each key is one tenant",
                }
            },
        },
    }
    # A round trip through JSON: plain lists and dicts, no shared sub-objects.
    return json.loads(json.dumps(doc))
