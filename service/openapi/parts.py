"""The building blocks of the OpenAPI document's operations, and the registry they are written into.

Each view module documents its routes next to the views, with a function decorated by
`documents(path, method)` that returns the operation object for a service running with some
`Settings` (its limits are stated in the descriptions). `service.openapi.document` collects them.
The helpers here write the parts every operation repeats: JSON and problem responses, parameters,
the errors every /v1 operation can answer, links.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from descent.settings import Settings
from descent.store.paging import CURSOR_PATTERN

from ..idempotency import IDEMPOTENCY_KEY_PATTERN, MAX_KEY_LENGTH

REF = "#/components/schemas/{model}"

OperationDoc = Callable[[Settings], dict[str, Any]]
"""Builds one operation object (summary, parameters, request body, responses) for `settings`."""


@dataclass(frozen=True)
class Operation:
    path: str
    """The path as OpenAPI writes it: ``/v1/jobs/{job_id}`` for Flask's ``/v1/jobs/<job_id>``."""
    method: str
    build: OperationDoc


OPERATIONS: list[Operation] = []
"""Every documented operation, in the order the view modules were imported and wrote them."""


def documents(path: str, method: str) -> Callable[[OperationDoc], OperationDoc]:
    """Register the decorated function as the documentation of `method` on `path`."""

    def register(build: OperationDoc) -> OperationDoc:
        OPERATIONS.append(Operation(path, method, build))
        return build

    return register


def over_quota(settings: Settings) -> str:
    """The 403 of the operations that add to a tenant's storage."""
    return (
        "the tenant stores its whole quota already (DESCENT_TENANT_STORAGE_BYTES = "
        f"{settings.tenant_storage_bytes}; 0: none); delete datasets or jobs"
    )


def too_large(settings: Settings) -> str:
    """The 413 of every operation with a request body."""
    return (
        f"over a size limit (DESCENT_MAX_REQUEST_BYTES = {settings.max_request_bytes}, "
        f"DESCENT_MAX_DATASET_CELLS = {settings.max_dataset_cells})"
    )


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


def json_response(
    name: str, description: str, headers: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": ref(name)}},
    }
    if headers:
        response["headers"] = headers
    response.update(extra)
    return response


def problem_response(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/problem+json": {"schema": ref("ProblemDoc")}},
    }
    if headers:
        response["headers"] = headers
    return response


def header(description: str, required: bool = True) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": {"type": "string"}}


LOCATION = {"Location": header("the new resource's path")}
CREATED_HEADERS = {
    **LOCATION,
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the same Idempotency-Key",
        "required": False,
        "schema": {"type": "string", "enum": ["true"]},
    },
}


def param(
    name: str, where: str, schema: dict[str, Any], description: str, required: bool = False
) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": schema, "description": description}


def path_id(name: str) -> dict[str, Any]:
    """A path parameter holding an opaque id."""
    return param(name, "path", {"type": "string"}, f"the {name.replace('_', ' ')} (opaque)", required=True)


IDEMPOTENCY_CONFLICT = (
    "the Idempotency-Key was used with another request, is still in progress, or created a resource "
    "that has been deleted (or has expired) since"
)
IDEMPOTENCY_KEY = param(
    "Idempotency-Key",
    "header",
    {"type": "string", "maxLength": MAX_KEY_LENGTH, "pattern": IDEMPOTENCY_KEY_PATTERN},
    "a key of your choosing (printable ASCII): a repeat with the same key and body returns the first "
    "answer instead of creating a duplicate; the same key with another body is a 409",
)


def paging(settings: Settings) -> list[dict[str, Any]]:
    return [
        param(
            "limit",
            "query",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIST_LIMIT},
            f"page size (default {settings.list_page_size})",
        ),
        param(
            "cursor",
            "query",
            {"type": "string", "pattern": CURSOR_QUERY_PATTERN},
            "the `next_cursor` of the previous page (opaque); without it, or empty, the first page",
        ),
    ]


def responses(ok: dict[str, dict[str, Any]], errors: dict[str, str], public: bool = False) -> dict[str, Any]:
    """The successful answers, the listed errors, and what every /v1 operation can answer (401,
    429, 503)."""
    out: dict[str, Any] = dict(ok)
    for status, description in errors.items():
        out[status] = problem_response(description)
    if not public:
        out["401"] = problem_response(
            "no valid API key (only when DESCENT_API_KEYS is set)",
            {"WWW-Authenticate": header('`Bearer realm="descent"`')},
        )
        out["429"] = problem_response(
            "over the tenant's request rate (DESCENT_RATE_LIMIT), or a job or sweep over its open "
            "jobs (DESCENT_MAX_OPEN_JOBS); retry after Retry-After seconds",
            {"Retry-After": header("seconds to wait before retrying")},
        )
        out["503"] = problem_response(
            "the job store (Redis) is unreachable or full; retry after Retry-After seconds",
            {"Retry-After": header("seconds to wait before retrying")},
        )
    out["default"] = problem_response("any other error (a 500 is always a bug)")
    return dict(sorted(out.items()))


def request_body(schema: dict[str, Any], example: Any) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema, "example": example}}}


def links(param: str, expression: str, names: list[str]) -> dict[str, Any]:
    return {
        f"{name[0].upper()}{name[1:]}": {"operationId": name, "parameters": {param: expression}}
        for name in names
    }


WHOLE_BODY = "x-schemathesis"
"""A link extension: `{"merge_body": false}` says the link's requestBody is the whole body (as OpenAPI
defines it), not fields to merge into a generated one (schemathesis' default)."""

JOB_OPERATIONS = ["getJob", "deleteJob", "getHistory", "getSurface", "cancelJob", "predict", "exportModel"]
