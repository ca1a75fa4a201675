"""The rows of a predict request as the model's features, and its answer as JSON or CSV.

Rows come as the user has them (API.md, "Predictions with raw rows"): objects by column name,
lists with their `columns`, every row of a stored dataset, or v1's `x` (numbers in `feature_names`
order). Named rows go through the job's own fitted pipeline (descent/preprocess, read back from
`config.features.fitted`), the one that encoded its training data, so a reordered file, a missing
key or an unseen category is handled exactly as training would have.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

import numpy as np

from descent.preprocess import Pipeline, PreprocessError, columns_from_records, columns_from_rows, decode
from descent.table import Column

from . import context
from .problems import invalid

FORMS = (
    '{"rows": [{column: value, ...}, ...]}, {"columns": [...], "rows": [[...], ...]}, '
    '{"dataset_id": "..."} or {"x": [[...], ...]}'
)
MAX_ERRORS = 20


def encoded_rows(body: Any, job: dict[str, Any]) -> tuple[np.ndarray, list[str]]:
    """The float feature matrix the model takes for `body`, and warnings (unseen categories)."""
    fitted = (job["config"].get("features") or {}).get("fitted")
    pipeline = Pipeline.from_json(fitted) if fitted else None
    if not isinstance(body, dict) or not body:
        raise invalid(f"send one of {FORMS}", [{"field": "body", "message": f"must be one of {FORMS}"}])
    keys = set(body)
    if keys == {"x"}:
        if pipeline is not None and not pipeline.all_numbers:
            message = "this model encodes categories, datetimes or missing values: send rows by column name"
            raise invalid(message, [{"field": "x", "message": message}])
        return numbers(body["x"], _feature_count(job)), []
    if pipeline is None:
        message = "this job was trained before predictions by column name: send x"
        raise invalid(message, [{"field": "rows", "message": message}])
    try:
        columns, rows = _columns(body, keys, pipeline)
        encoded = pipeline.transform(columns, rows)
    except PreprocessError as exc:
        raise invalid(f"{exc.field}: {exc.message}", [{"field": exc.field, "message": exc.message}]) from None
    if not encoded.kept.all():
        first = int(np.flatnonzero(~encoded.kept)[0])
        message = "a number the model needs is missing, and it was trained with features.impute drop"
        raise invalid(f"row {first}: {message}", [{"field": f"rows[{first}]", "message": message}])
    return encoded.x, encoded.warnings


def _columns(body: dict[str, Any], keys: set[str], pipeline: Pipeline) -> tuple[dict[str, Column], int]:
    if keys == {"dataset_id"}:
        return _dataset_columns(body["dataset_id"])
    rows = body.get("rows")
    if keys not in ({"rows"}, {"columns", "rows"}) or not isinstance(rows, list) or not rows:
        raise invalid(f"send one of {FORMS}", [{"field": "rows", "message": "must be a non-empty list"}])
    _check_count(len(rows), "rows")
    if keys == {"rows"}:
        return columns_from_records(rows, pipeline), len(rows)
    names = body["columns"]
    if not isinstance(names, list):
        raise invalid("columns must be a list of names", [{"field": "columns", "message": "must be a list"}])
    return columns_from_rows(names, rows, pipeline), len(rows)


def _dataset_columns(dataset_id: Any) -> tuple[dict[str, Column], int]:
    store = context.store()
    if not isinstance(dataset_id, str) or store.datasets.get(context.tenant(), dataset_id) is None:
        raise context.not_found("dataset", str(dataset_id))
    table = store.datasets.table(dataset_id)
    if table is None:
        raise context.not_found("dataset", dataset_id)
    _check_count(table.rows, "dataset_id")
    return {c.name: c for c in table.columns}, table.rows


def _check_count(rows: int, field: str) -> None:
    limit = context.settings().max_predict_rows
    if rows > limit:
        message = f"{rows} rows exceed DESCENT_MAX_PREDICT_ROWS = {limit}"
        raise invalid(message, [{"field": field, "message": f"at most DESCENT_MAX_PREDICT_ROWS = {limit} rows"}])


def _feature_count(job: dict[str, Any]) -> int:
    params = job["result"]["params"]
    if isinstance(params, list):  # MLP layers: the first layer's weight is (out, in)
        return len(params[0]["weight"][0])
    weights = params["weights"]
    return len(weights[0]) if weights and isinstance(weights[0], list) else len(weights)


def numbers(rows: Any, features: int) -> np.ndarray:
    """v1's `x`: a float64 matrix, every fault named by its index."""
    if not isinstance(rows, list) or not rows:
        raise invalid(
            "x must be a non-empty list of rows", [{"field": "x", "message": "must be a non-empty list"}]
        )
    _check_count(len(rows), "x")
    errors: list[dict[str, str]] = []
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != features:
            got = len(row) if isinstance(row, list) else type(row).__name__
            errors.append({"field": f"x[{i}]", "message": f"must have {features} features (got {got})"})
            continue
        for j, v in enumerate(row):
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                errors.append({"field": f"x[{i}][{j}]", "message": f"must be a finite number (got {v!r})"})
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise invalid(f"{len(errors)} invalid value(s) in x; the model takes {features} features", errors)
    return np.asarray(rows, dtype=np.float64)


def answer(out: dict[str, Any], result: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """`{"y", "probability", "classes", "warnings"}`: a classifier's y as the target's own values."""
    classes = result.get("classes")
    doc: dict[str, Any] = {"y": out["y"]}
    if classes is not None:
        doc["y"] = decode(classes, np.asarray(out["y"]))
    if out.get("probability") is not None:
        doc["probability"] = out["probability"]
    if classes is not None:
        doc["classes"] = classes
    if warnings:
        doc["warnings"] = warnings
    return doc


def as_csv(doc: dict[str, Any]) -> str:
    """The answer as CSV: the prediction, then one probability column per class."""
    classes = doc.get("classes")
    probability = doc.get("probability")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["prediction"]
    if probability is not None and classes is not None:
        header += [f"probability_{c}" for c in classes]
    writer.writerow(header)
    for i, y in enumerate(doc["y"]):
        row: list[Any] = [y]
        if probability is not None and classes is not None:
            p = probability[i]
            row += [1.0 - p, p] if not isinstance(p, list) else p  # bce: P(other), P(positive)
        writer.writerow(row)
    return buffer.getvalue()
