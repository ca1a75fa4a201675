"""What the dataset resource says of its columns: kinds, missing cells, distinct values, statistics,
the most frequent categories, and warnings worth reading before training (API.md).

Computed once at upload with pyarrow's compute kernels over the typed columns (hash-based distinct
counts, one pass per statistic), so describing a large upload costs little next to reading it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from descent.table import Column, Table

TOP_CATEGORIES = 50
MOSTLY_MISSING = 0.5


def describe(table: Table) -> dict[str, Any]:
    """The resource's fields that depend on the data: rows, features, names, columns, warnings,
    the v1 `stats` (when every feature and the target are numbers without missing cells), bytes."""
    columns = [summarize(c) for c in table.columns]
    features = table.features
    target = table.column(table.target)
    doc: dict[str, Any] = {
        "rows": table.rows,
        "features": len(features),
        "feature_names": [c.name for c in features],
        "target_name": table.target,
        "columns": columns,
        "warnings": [w for c, s in zip(table.columns, columns, strict=True) for w in _warnings(c, s, table)],
        "bytes": int(sum(c.values.nbytes for c in table.columns if c.values is not None)),
    }
    plain = target.kind == "number" and all(c.kind == "number" for c in features)
    if plain and all(s["missing"] == 0 for s in columns if s["kind"] != "text"):
        doc["stats"] = _stats([c for c in features], target)
    if target.kind == "number":
        values = np.asarray(target.values)
        present = values[~np.isnan(values)]
        doc["target_integer"] = bool(np.all(np.mod(present, 1) == 0))
    return doc


def summarize(column: Column) -> dict[str, Any]:
    """`{"name", "kind", "missing", "distinct", ...}`: numbers add min, max, mean, std; categories
    the most frequent values with their counts; datetimes the first and last as ISO 8601."""
    doc: dict[str, Any] = {"name": column.name, "kind": column.kind}
    if column.values is None:
        return {**doc, "missing": None, "distinct": None}
    values = np.asarray(column.values)
    if column.kind == "category":
        counts = np.bincount(values[values >= 0], minlength=len(column.labels))
        order = np.argsort(-counts, kind="stable")[:TOP_CATEGORIES]
        return {
            **doc,
            "missing": int(np.count_nonzero(values < 0)),
            "distinct": int(np.count_nonzero(counts)),
            "categories": [{"value": column.labels[k], "count": int(counts[k])} for k in order if counts[k]],
        }
    missing = np.isnan(values)
    array = pa.array(values, mask=missing)
    doc.update(missing=int(missing.sum()), distinct=int(pc.count_distinct(array).as_py()))
    if column.kind == "number":
        present = doc["missing"] < values.size
        bounds = pc.min_max(array).as_py()
        doc.update(
            min=bounds["min"],
            max=bounds["max"],
            mean=pc.mean(array).as_py() if present else None,
            std=pc.stddev(array, ddof=0).as_py() if present else None,
        )
    else:
        bounds = pc.min_max(array).as_py()
        doc.update({k: _iso(bounds[k]) for k in ("min", "max")})
    return doc


def _warnings(column: Column, summary: dict[str, Any], table: Table) -> list[str]:
    name = column.name
    if column.kind == "text":
        return [f"{name!r} is text (names, ids: a distinct value in most rows, or too many values); it is not used as a feature"]
    out = []
    present = table.rows - summary["missing"]
    if summary["distinct"] <= 1:
        out.append(f"{name!r} is constant: it carries no information")
    elif column.kind == "number" and summary["distinct"] == present == table.rows and _counts_rows(column):
        out.append(f"{name!r} counts the rows (0, 1, 2, …): an index column? leave it out with features.exclude")
    if summary["missing"] > MOSTLY_MISSING * table.rows:
        out.append(f"{name!r} is missing in {summary['missing']} of {table.rows} rows")
    return out


def _counts_rows(column: Column) -> bool:
    values = np.asarray(column.values, dtype=np.float64)
    steps = np.diff(values)
    return bool(values.size > 2 and np.all(steps == 1.0))


def _stats(features: list[Column], target: Column) -> dict[str, Any]:
    """v1's statistics in float64 (population standard deviation)."""

    def moments(values: np.ndarray) -> tuple[float, float]:
        array = pa.array(values)
        return float(pc.mean(array).as_py()), float(pc.stddev(array, ddof=0).as_py())

    x = [moments(np.asarray(c.values)) for c in features]
    y_mean, y_std = moments(np.asarray(target.values))
    y = np.asarray(target.values)
    return {
        "x_mean": [m for m, _ in x],
        "x_std": [s for _, s in x],
        "y_mean": y_mean,
        "y_std": y_std,
        "y_min": float(y.min()),
        "y_max": float(y.max()),
    }


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return np.datetime64(int(seconds * 1e6), "us").astype(str) + "Z"
