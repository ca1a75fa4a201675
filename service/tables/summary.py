"""What the dataset resource says of its columns: kinds, missing cells, distinct values, statistics,
the most frequent categories, and warnings worth reading before training (API.md).

Computed once at upload over the typed columns (numbers and datetimes in two compiled passes:
column_stats.py; categories by counting codes), so describing an upload costs little next to
reading it. The columns are described on a few threads at once: the kernels release the GIL.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from descent.table import Column, Table

from .column_stats import number_stats
from .threads import POOL

TOP_CATEGORIES = 50
MOSTLY_MISSING = 0.5
ID_MIN_ROWS = 10
"""A number column that goes up by 1 from row to row is worth a warning (an id?) from this many rows."""


def describe(table: Table) -> dict[str, Any]:
    """The resource's fields that depend on the data: rows, features, names, columns, warnings,
    the v1 `stats` (when every feature and the target are numbers without missing cells), bytes."""
    columns = list(POOL.map(summarize, table.columns))
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
        doc["stats"] = _stats({s["name"]: s for s in columns}, list(features), target)
    if target.kind == "number":
        values = np.asarray(target.values)
        present = values[~np.isnan(values)]
        doc["target_integer"] = bool(np.array_equal(present, np.trunc(present)))
    return doc


def summarize(column: Column) -> dict[str, Any]:
    """`{"name", "kind", "missing", "distinct", ...}`: numbers add min, max, mean, std and a histogram
    (counts in 10 equal bins from min to max); categories
    the most frequent values with their counts; datetimes the first and last as ISO 8601."""
    doc: dict[str, Any] = {"name": column.name, "kind": column.kind}
    if column.values is None:
        return {**doc, "missing": None, "distinct": None}
    values = np.asarray(column.values)
    if column.kind == "category":
        counted = np.bincount(values + 1, minlength=len(column.labels) + 1)  # a missing cell (-1) counts in bin 0
        counts = counted[1:]
        order = np.argsort(-counts, kind="stable")[:TOP_CATEGORIES]
        return {
            **doc,
            "missing": int(counted[0]),
            "distinct": int(np.count_nonzero(counts)),
            "categories": [{"value": column.labels[k], "count": int(counts[k])} for k in order if counts[k]],
        }
    stats = number_stats(values)
    doc.update(missing=stats.missing, distinct=stats.distinct)
    if column.kind == "number":
        doc.update(
            min=_shortest(stats.low),
            max=_shortest(stats.high),
            mean=stats.mean,
            std=stats.std,
            histogram=stats.histogram,
        )
    else:
        doc.update(min=_iso(stats.low), max=_iso(stats.high))
    return doc


def _warnings(column: Column, summary: dict[str, Any], table: Table) -> list[str]:
    name = column.name
    if column.kind == "text":
        return [f"{name!r} is text (names, ids: a distinct value in most rows, or too many values); it is not used as a feature"]
    out = []
    present = table.rows - summary["missing"]
    if summary["distinct"] <= 1:
        out.append(f"{name!r} is constant: it carries no information")
    elif column.kind == "number" and summary["distinct"] == present == table.rows >= ID_MIN_ROWS and _counts_rows(column):
        out.append(f"{name!r} goes up by 1 from row to row: an id or index column? leave it out with features.exclude")
    if summary["missing"] > MOSTLY_MISSING * table.rows:
        out.append(f"{name!r} is missing in {summary['missing']} of {table.rows} rows")
    return out


def _counts_rows(column: Column) -> bool:
    values = np.asarray(column.values, dtype=np.float64)
    steps = np.diff(values)
    return bool(values.size > 2 and np.all(steps == 1.0))


def _stats(summaries: dict[str, dict[str, Any]], features: list[Column], target: Column) -> dict[str, Any]:
    """v1's statistics: the columns' means and population standard deviations (float64) and the
    target's bounds as stored (float32)."""
    y = np.asarray(target.values)
    return {
        "x_mean": [summaries[c.name]["mean"] for c in features],
        "x_std": [summaries[c.name]["std"] for c in features],
        "y_mean": summaries[target.name]["mean"],
        "y_std": summaries[target.name]["std"],
        "y_min": float(y.min()),
        "y_max": float(y.max()),
    }


def _shortest(value: float | None) -> float | None:
    """A stored float32 as the number it was written as (71.28, not 71.27999877929688)."""
    return None if value is None else float(str(np.float32(value)))


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return np.datetime64(int(seconds * 1e6), "us").astype(str) + "Z"
