"""The two JSON forms of a dataset: `{"x": [[…]], "y": […]}` and `{"columns", "rows", "target"}`.

Each column's values become an Arrow array (its type inferred as pyarrow infers a Python list), then
take their kinds like any upload's columns. `rows` may hold numbers, strings, booleans and null; a
column mixing numbers and strings is a fault naming it. Faults name their JSON path (`rows[3][1]`).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from descent.settings import Settings
from descent.table import Table
from service.problems import too_large

from .faults import Faults, fail
from .kinds import to_table

XY_KEYS = ("name", "x", "y")
ROWS_KEYS = ("name", "columns", "rows", "target")


def table_from_json(doc: Any, settings: Settings, max_name_length: int) -> Table:
    if not isinstance(doc, dict):
        raise fail(
            'A JSON dataset must be an object: {"x": [[...], ...], "y": [...]} or '
            '{"columns": [...], "rows": [[...], ...], "target": ...}.',
            "body",
            f"must be a JSON object, not {type(doc).__name__}",
        )
    xy, tabular = "x" in doc or "y" in doc, "columns" in doc or "rows" in doc
    if xy and tabular:
        raise fail(
            'A JSON dataset is either {"x", "y"} or {"columns", "rows", "target"}, not both.',
            "body",
            "mixes the keys of both forms (x/y and columns/rows)",
        )
    if not xy and not tabular:
        raise fail(
            'A JSON dataset needs either "x" and "y", or "columns" and "rows".',
            "body",
            'has neither "x" and "y" nor "columns" and "rows"',
        )
    allowed = XY_KEYS if xy else ROWS_KEYS
    unknown = sorted(k for k in doc if k not in allowed)
    if unknown:
        raise fail(
            f"Unknown key(s) {', '.join(map(repr, unknown))}; this form takes {', '.join(allowed)}.",
            unknown[0],
            "unknown key",
        )
    if xy:
        names, rows, target, where = _xy(doc)
    else:
        names, rows, target, where = _rows_form(doc, max_name_length)
    if len(names) - 1 > settings.max_features:
        raise fail(
            f"The dataset has {len(names) - 1} features, more than the limit DESCENT_MAX_FEATURES = "
            f"{settings.max_features}.",
            "columns" if not xy else "x",
            f"{len(names) - 1} features; the limit is DESCENT_MAX_FEATURES = {settings.max_features}",
        )
    if len(rows) * len(names) > settings.max_dataset_cells:
        raise too_large(
            "DESCENT_MAX_DATASET_CELLS",
            settings.max_dataset_cells,
            f"The dataset has {len(rows):,} rows × {len(names)} columns = {len(rows) * len(names):,} cells",
        )
    faults = Faults()
    arrays = []
    for j, name in enumerate(names):
        arrays.append(_array([row[j] for row in rows], j, name, where, faults))
    faults.raise_if_any()
    data = pa.table(arrays, names=names)

    def locate(row: int, j: int, message: str) -> dict[str, Any]:
        return {"field": where(row, j), "message": f"{where(row, j)}: {message}"}

    return to_table(data, target, settings, locate)


def _xy(doc: dict[str, Any]) -> tuple[list[str], list[list[Any]], int, Any]:
    x, y = doc.get("x"), doc.get("y")
    if not isinstance(x, list) or not x or not all(isinstance(r, list) for r in x):
        raise fail("x must be a non-empty list of rows (lists of numbers).", "x", "must be a list of rows")
    width = len(x[0])
    if width < 1:
        raise fail("x's rows need at least one feature.", "x[0]", "is empty")
    if not isinstance(y, list) or len(y) != len(x):
        raise fail(
            f"y must be a list of one value per row of x ({len(x)}).",
            "y",
            f"must have {len(x)} values (one per row of x)",
        )
    faults = Faults()
    for i, row in enumerate(x):
        if len(row) != width:
            faults.add({"field": f"x[{i}]", "message": f"x[{i}] has {len(row)} values; x[0] has {width}"})
    faults.raise_if_any()
    names = [f"x{j}" for j in range(width)] + ["y"]
    rows = [[*row, y[i]] for i, row in enumerate(x)]

    def where(row: int, j: int) -> str:
        return f"x[{row}][{j}]" if j < width else f"y[{row}]"

    return names, rows, width, where


def _rows_form(doc: dict[str, Any], max_name_length: int) -> tuple[list[str], list[list[Any]], Any, Any]:
    names, rows = doc.get("columns"), doc.get("rows")
    if not isinstance(names, list) or len(names) < 2 or not all(isinstance(n, str) and n.strip() for n in names):
        raise fail(
            "columns must be a list of at least 2 non-empty names.", "columns", "must list at least 2 non-empty names"
        )
    names = [n.strip() for n in names]
    long = [k for k, n in enumerate(names) if len(n) > max_name_length]
    if long:
        raise fail(
            f"A column name has {len(names[long[0]])} characters; the limit is "
            f"DESCENT_MAX_COLUMN_NAME_LENGTH = {max_name_length}.",
            f"columns[{long[0]}]",
            f"longer than DESCENT_MAX_COLUMN_NAME_LENGTH = {max_name_length}",
        )
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise fail(f"Column names must be unique; {duplicate!r} repeats.", "columns", f"{duplicate!r} repeats")
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise fail("rows must be a list of rows (lists of values).", "rows", "must be a list of lists")
    faults = Faults()
    for i, row in enumerate(rows):
        if len(row) != len(names):
            faults.add({"field": f"rows[{i}]", "message": f"rows[{i}] has {len(row)} values; there are {len(names)} columns"})
    faults.raise_if_any()
    target = doc.get("target")
    if target is not None and (isinstance(target, bool) or not isinstance(target, str | int)):
        raise fail("target must be a column name or an index.", "target", "must be a column name or an index")

    def where(row: int, j: int) -> str:
        return f"rows[{row}][{j}]"

    return names, rows, target, where


def _array(values: list[Any], j: int, name: str, where: Any, faults: Faults) -> pa.Array:
    """The column's values as Arrow infers them; a column mixing kinds is a fault naming the first
    value that differs from the column's first value."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    first = next((v for v in values if v is not None), None)
    for i, v in enumerate(values):
        if v is not None and _family(v) != _family(first):
            faults.add(
                {
                    "field": where(i, j),
                    "message": f"{where(i, j)}: {v!r} in column {name!r}, whose values are {_family(first)}s; "
                    "a column holds numbers, strings or booleans, not a mix",
                }
            )
            return pa.nulls(len(values))
    faults.add({"field": f"columns[{j}]", "message": f"column {name!r} cannot be read"})
    return pa.nulls(len(values))


def _family(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return type(value).__name__
