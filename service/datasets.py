"""/v1/datasets: upload (CSV body, multipart file, JSON), read, list, delete."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from descent.settings import Settings
from descent.store import BadCursor, DeleteOutcome
from descent.store.datasets import column_bytes
from descent.store.records import now, now_score
from descent.table import Table

from . import context, limits
from .idempotency import idempotent
from .openapi import parts as apidoc
from .problems import Problem, invalid
from .schemas import MAX_NAME_LENGTH
from .tables import Upload, describe, format_of, read_options, read_upload, table_from_json
from .tables.options import CONTENT_TYPES
from .upload_body import mapped, take_raw_body

bp = Blueprint("datasets", __name__, url_prefix="/v1/datasets")

CSV_TYPES = tuple(t for t, fmt in CONTENT_TYPES.items() if fmt == "csv")
"""Content types read as a CSV body."""
_WRITERS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="dataset-write")
"""Uploads' column writes, each beside its request's thread (waiting on Redis, not on a core)."""
FILE_TYPES = tuple(t for t, fmt in CONTENT_TYPES.items() if fmt != "csv")
"""Content types read as a Parquet or Arrow IPC body."""

_CSV_PARAMETERS = [
    apidoc.param(
        "target",
        "query",
        {"type": "string"},
        "CSV uploads: the target column, by name or 0-based index (negative from the end); "
        "default the last column",
    ),
    apidoc.param(
        "name",
        "query",
        {"type": "string", "maxLength": MAX_NAME_LENGTH},
        "a name for the dataset (a JSON body's `name` wins)",
    ),
    apidoc.param(
        "delimiter", "query", {"type": "string", "maxLength": 3}, "CSV: the delimiter (default: detected among , ; tab |)"
    ),
    apidoc.param("decimal", "query", {"type": "string", "enum": [".", ","]}, "CSV: the decimal mark"),
    apidoc.param(
        "null_values",
        "query",
        {"type": "string"},
        "CSV: comma-separated cells read as missing (default: empty, NA, N/A, NaN, nan, null, NULL, None)",
    ),
    apidoc.IDEMPOTENCY_KEY,
]
"""The query parameters of a CSV upload."""
_CSV_BODY = {
    "type": "string",
    "description": "one row per line, an optional header row (names unique); numbers, strings, "
    "booleans, ISO 8601 dates and missing cells; at least 2 rows and 2 columns, every row as long as "
    "the first",
}
_DATASET_LINKS = {
    **apidoc.links("dataset_id", "$response.body#/id", ["getDataset", "deleteDataset"]),
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
        apidoc.WHOLE_BODY: {"merge_body": False},
    },
    "StartSweep": {"operationId": "createSweep", "requestBody": {"dataset_id": "$response.body#/id"}},
    "StartSimpleSweep": {
        "operationId": "createSweep",
        "requestBody": {
            "dataset_id": "$response.body#/id",
            "base": {"optimizer": {"type": "gd"}, "epochs": 1},
            "grid": {"seed": [0, 1]},
        },
        apidoc.WHOLE_BODY: {"merge_body": False},
    },
}
"""Where a new dataset leads: reading or deleting it, its jobs, training on it."""


@bp.post("")
@idempotent("datasets")
def create() -> tuple[Response, int, dict[str, str]]:
    limits.check_room()
    table, name = _parse_upload()
    dataset_id = "ds_" + secrets.token_hex(16)
    limits.reserve_dataset(dataset_id, column_bytes(table))
    datasets = context.store().datasets
    # the columns go to Redis while they are described (Redis writes its append-only file meanwhile)
    written = _WRITERS.submit(datasets.put_columns, dataset_id, table)
    described = describe(table)
    written.result()
    meta: dict[str, Any] = {
        "id": dataset_id,
        "name": name,
        **described,
        "created_at": now(),
        "created_score": now_score(),
    }
    datasets.publish(context.tenant(), meta, table)
    meta.pop("created_score")
    return jsonify(meta), 201, {"Location": f"/v1/datasets/{dataset_id}"}


@apidoc.documents("/v1/datasets", "post")
def _create_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "createDataset",
        "summary": "Upload a dataset",
        "description": "A CSV, Parquet or Arrow IPC body, a multipart upload (the file in field "
        "`file`, its type from the part's content type or the file name's extension), or JSON in one "
        "of two forms. Each column gets a kind: number, category (at most DESCENT_MAX_CATEGORIES = "
        f"{settings.max_categories} distinct values), datetime or text; missing cells are allowed. "
        "Rejected with 400 naming the row and column at fault: fewer than 2 rows, ragged rows, "
        "infinite values or values beyond float32, an unknown target or a text one, nested or binary "
        f"columns, more than DESCENT_MAX_FEATURES = {settings.max_features} features. An API process "
        f"reads at most DESCENT_UPLOADS_PER_PROCESS = {settings.uploads_per_process} uploads at once; one "
        f"more waits up to DESCENT_UPLOAD_WAIT_SECONDS = {settings.upload_wait_seconds:g} s for its turn, "
        "then gets a 503 with Retry-After (nothing stored: send it again).",
        "parameters": _CSV_PARAMETERS,
        "requestBody": {
            "required": True,
            "content": {
                **{csv_type: {"schema": _CSV_BODY, "example": apidoc.EXAMPLE_CSV} for csv_type in CSV_TYPES},
                **{
                    file_type: {"schema": {"type": "string", "format": "binary"}}
                    for file_type in FILE_TYPES
                },
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "file": {**_CSV_BODY, "contentMediaType": "text/csv"},
                            "target": {
                                "type": "string",
                                "description": "the target column (wins over the query's)",
                            },
                            "name": {"type": "string", "maxLength": MAX_NAME_LENGTH},
                        },
                        "required": ["file"],
                    },
                    "encoding": {"file": {"contentType": "text/csv"}},
                    "example": {"file": apidoc.EXAMPLE_CSV},
                },
                "application/json": {
                    "schema": apidoc.ref("DatasetJson"),
                    "example": {"name": "course", "x": [[1.0], [2.0], [3.0]], "y": [2.0, 4.0, 6.0]},
                },
            },
        },
        "responses": apidoc.responses(
            {
                "201": apidoc.json_response(
                    "DatasetResource", "stored", apidoc.CREATED_HEADERS, links=_DATASET_LINKS
                )
            },
            {
                "400": "invalid data: `errors` names every fault (row and column for CSV)",
                "403": "over the tenant's storage quota (DESCENT_TENANT_STORAGE_BYTES = "
                f"{settings.tenant_storage_bytes}; 0: none): the quota, what it stores and what the "
                "upload needs",
                "409": apidoc.IDEMPOTENCY_CONFLICT,
                "413": apidoc.too_large(settings),
                "415": "not CSV, Parquet, Arrow IPC, multipart/form-data or application/json",
            },
        ),
    }


@bp.get("")
def list_datasets() -> Response:
    limit = context.int_arg("limit", context.settings().list_page_size, 1, 500)
    try:
        items, cursor = context.store().datasets.list(context.tenant(), limit, request.args.get("cursor"))
    except BadCursor as exc:
        raise invalid(str(exc), [{"field": "cursor", "message": str(exc)}]) from None
    return jsonify({"datasets": items, "next_cursor": cursor})


@apidoc.documents("/v1/datasets", "get")
def _list_datasets_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "listDatasets",
        "summary": "List datasets, newest first",
        "parameters": apidoc.paging(settings),
        "responses": apidoc.responses(
            {"200": apidoc.json_response("DatasetList", "a page")},
            {"400": "invalid `limit` or `cursor`"},
        ),
    }


@bp.get("/<dataset_id>")
def get(dataset_id: str) -> Response:
    meta = context.store().datasets.get(context.tenant(), dataset_id)
    if meta is None:
        raise context.not_found("dataset", dataset_id)
    return jsonify(meta)


@apidoc.documents("/v1/datasets/{dataset_id}", "get")
def _get_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "getDataset",
        "summary": "A dataset's description",
        "responses": apidoc.responses(
            {"200": apidoc.json_response("DatasetResource", "the dataset")}, {"404": "unknown, or not yours"}
        ),
    }


@bp.delete("/<dataset_id>")
def delete(dataset_id: str) -> tuple[str, int]:
    outcome = context.store().datasets.delete(context.tenant(), dataset_id)
    if outcome is DeleteOutcome.DELETED:
        current_app.extensions["descent.dataset_records"].forget(dataset_id)
    if outcome is DeleteOutcome.MISSING:
        raise context.not_found("dataset", dataset_id)
    if outcome is DeleteOutcome.IN_USE:
        raise context.conflict(
            f"Dataset {dataset_id!r} is used by a queued or running job; cancel it or wait for it to end."
        )
    return "", 204


@apidoc.documents("/v1/datasets/{dataset_id}", "delete")
def _delete_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "deleteDataset",
        "summary": "Delete a dataset",
        "responses": apidoc.responses(
            {"204": {"description": "deleted"}},
            {"404": "unknown, or not yours", "409": "a queued or running job uses it"},
        ),
    }


def _parse_upload() -> tuple[Table, str]:
    """Dispatch on the content type; every reader raises a precise Problem on bad data."""
    settings = context.settings()
    mimetype = request.mimetype
    query_name = _checked_name(request.args.get("name"))
    fmt = format_of(mimetype)
    if fmt is not None:
        table = read_upload(Upload(take_raw_body(arriving=fmt == "csv")), fmt, read_options(request.args), settings)
        return table, _name(query_name, "dataset")
    if mimetype == "multipart/form-data":
        # The file as a file part, or as a plain field (curl -F 'file=<data.csv' sends one).
        upload = request.files.get("file")
        text = request.form.get("file") if upload is None else None
        if upload is None and text is None:
            raise invalid(
                "multipart upload without a `file` field",
                [{"field": "file", "message": "is required (the data file)"}],
            )
        options = read_options(request.form, request.args)
        if upload is not None:
            part_type = upload.mimetype if upload.mimetype != "application/octet-stream" else None
            fmt = format_of(part_type, upload.filename) or "csv"
            table = read_upload(Upload(mapped(upload.stream)), fmt, options, settings)
        else:
            table = read_upload(text.encode(), "csv", options, settings)
        name = _checked_name(request.form.get("name")) or query_name
        return table, _name(name, (upload.filename if upload is not None else None) or "dataset")
    if request.is_json:
        doc = context.json_body()
        table = table_from_json(doc, settings, settings.max_column_name_length)
        name = doc.get("name") if isinstance(doc, dict) else None
        if name is not None and not isinstance(name, str):
            raise invalid("name must be a string", [{"field": "name", "message": "must be a string"}])
        return table, _name(_checked_name(name) or query_name, "dataset")
    raise Problem(
        415,
        "Unsupported Media Type",
        "Upload a dataset as CSV (text/csv), Parquet (application/vnd.apache.parquet), Arrow IPC "
        "(application/vnd.apache.arrow.file or .stream), multipart/form-data (field `file`) or "
        f"application/json (got {mimetype or 'no content type'}).",
        slug="unsupported-media-type",
    )


def _checked_name(name: str | None) -> str | None:
    """A given name (query, form field or JSON), or a 400 when it is too long: every one given is
    checked, whichever of them is used."""
    if name is not None and len(name) > MAX_NAME_LENGTH:
        raise invalid(
            f"name is longer than {MAX_NAME_LENGTH} characters",
            [{"field": "name", "message": f"at most {MAX_NAME_LENGTH} characters"}],
        )
    return name


def _name(name: str | None, default: str) -> str:
    """The name to store: the given one stripped, else the default (an upload's file name)."""
    return (name or default).strip()[:MAX_NAME_LENGTH] or default
