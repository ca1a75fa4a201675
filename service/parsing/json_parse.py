"""The two JSON forms of a dataset upload: ``{"x": [[…]], "y": […]}`` and
``{"columns": […], "rows": [[…]], "target": …}``, every fault named by its field path.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from descent.settings import Settings

from .common import (
    _F32_LIMIT,
    _INDEX,
    ParsedDataset,
    _check_cells,
    _check_features,
    _Errors,
    _fail,
    _nonfinite_message,
    _show,
    _split,
)
from .csv_header import _list_names

_XY_KEYS = ("name", "x", "y")
_ROWS_KEYS = ("name", "columns", "rows", "target")


def parse_json_dataset(doc: object, settings: Settings) -> ParsedDataset:
    """Parse a JSON dataset document (already decoded) in one of its two forms.

    - ``{"name": ..., "x": [[1.0, 2.0], ...], "y": [3.0, ...]}``: features named ``x0`` …
      ``x{d-1}``, target named ``y``; every row of ``x`` must have as many values as ``x[0]``
      (at least one), and ``y`` one value per row.
    - ``{"name": ..., "columns": ["a", "b", "price"], "rows": [[...], ...], "target": "price"}``:
      ``target`` is a column name (a string is always a name), or an integer index (negative ones
      count from the end); missing or null means the last column. Column names must be non-empty
      unique strings.

    ``name`` is allowed in both forms and ignored here (the caller reads it). Any other key is a
    400 naming it. Values must be JSON numbers: booleans, strings (even "1.5") and null are
    rejected, and so are NaN, ±Infinity and values outside the float32 range. Needs at least 2
    rows. The cell limit (rows × (features + 1)) is checked before any value is converted.
    """
    if not isinstance(doc, dict):
        raise _fail(
            'A JSON dataset must be an object: {"x": [[...], ...], "y": [...]} or '
            '{"columns": [...], "rows": [[...], ...], "target": ...}.',
            "body",
            f"must be a JSON object, not {_json_kind(doc)}",
        )
    xy = "x" in doc or "y" in doc
    tabular = "columns" in doc or "rows" in doc
    if xy and tabular:
        raise _fail(
            'A JSON dataset is either {"x", "y"} or {"columns", "rows", "target"}, not both.',
            "body",
            "mixes the keys of both forms (x/y and columns/rows)",
        )
    if not xy and not tabular:
        raise _fail(
            'A JSON dataset needs either "x" and "y", or "columns" and "rows".',
            "body",
            'has neither "x" and "y" nor "columns" and "rows"',
        )
    allowed, required, form = (
        (_XY_KEYS, ("x", "y"), '{"x", "y"}')
        if xy
        else (_ROWS_KEYS, ("columns", "rows"), '{"columns", "rows"}')
    )
    errors = _Errors()
    for key in doc:
        if key not in allowed:
            errors.add(
                {"field": str(key), "message": f"unknown key; the {form} form takes: {', '.join(allowed)}"}
            )
    for key in required:
        if key not in doc:
            errors.add({"field": key, "message": "required"})
    errors.raise_if_any("dataset")
    if xy:
        return _parse_xy(doc, settings)
    return _parse_rows(doc, settings)


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__


def _not_a_number(value: object) -> str:
    if value is None:
        return "not a number: null"
    if isinstance(value, bool):
        return f"not a number: {'true' if value else 'false'}"
    if isinstance(value, str):
        return f"not a number: {_show(value)}"
    return f"not a number: {_json_kind(value)}"


def _is_list(value: object) -> bool:
    return isinstance(value, list | tuple)


def _json_matrix(
    value: object,
    field: str,
    width: int | None,
    width_source: str,
    settings: Settings,
    cells_per_row: Callable[[int], int],
    errors: _Errors,
) -> tuple[np.ndarray | None, int | None]:
    """A list of rows as float32 (rows, width), or None after adding errors; and the row count.

    ``width`` None means "as many values as the first row" (the ``x`` form). Raises at once for
    the limits (413 cells, 400 features), which are checked before any value is converted.
    """
    if not _is_list(value):
        errors.add(
            {"field": field, "message": f"must be a list of rows (lists of numbers), not {_json_kind(value)}"}
        )
        return None, None
    assert isinstance(value, list | tuple)
    nrows = len(value)
    if nrows < 2:
        errors.add(
            {"field": field, "message": f"has {nrows} row{'' if nrows == 1 else 's'}; need at least 2"}
        )
        return None, nrows
    if width is None:
        first = value[0]
        if _is_list(first) and len(first) == 0:
            errors.add({"field": f"{field}[0]", "message": "is empty; every row needs at least one feature"})
        if not _is_list(first) or len(first) == 0:
            _scan_json_rows(value, field, None, width_source, errors)
            return None, nrows
        width = len(first)
        _check_features(width, settings, field)
    _check_cells(nrows, cells_per_row(width), settings)
    if set(map(type, value)) <= {list, tuple} and set(map(len, value)) == {width}:
        values = _json_numbers(value, field, (nrows, width), errors)
    else:
        values = None
        _scan_json_rows(value, field, width, width_source, errors)
    return values, nrows


def _scan_json_rows(
    value: Sequence[Any], field: str, width: int | None, width_source: str, errors: _Errors
) -> None:
    """Report, in order, every row that is not a list, has the wrong length or holds a bad value."""
    for i, row in enumerate(value):
        path = f"{field}[{i}]"
        if not _is_list(row):
            errors.add({"field": path, "message": f"must be a list of numbers, not {_json_kind(row)}"})
        elif width is not None and len(row) != width:
            errors.add(
                {
                    "field": path,
                    "message": f"has {len(row)} value"
                    f"{'' if len(row) == 1 else 's'}, expected {width} ({width_source})",
                }
            )
        else:
            _scan_json_values(row, path, errors)


def _scan_json_values(values: Sequence[Any], path: str, errors: _Errors) -> None:
    for j, v in enumerate(values):
        message = _json_value_problem(v)
        if message is not None:
            errors.add({"field": f"{path}[{j}]", "message": message})


def _json_numbers(
    value: Sequence[Any], field: str, shape: tuple[int, ...], errors: _Errors
) -> np.ndarray | None:
    """A well-shaped list (of rows) of values as float32, or None after adding errors."""
    flat: Any = itertools.chain.from_iterable(value) if len(shape) == 2 else value
    if set(map(type, flat)) <= {float, int}:
        try:
            values = np.array(value, dtype=np.float64).reshape(shape)
        except OverflowError:  # an integer beyond the float64 range: the scan below names it
            values = None
        if values is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                values32 = values.astype(np.float32)
            bad = ~np.isfinite(values32)
            if not bad.any():
                return values32
            errors.add_cells(
                bad,
                lambda index: {
                    "field": field + "".join(f"[{k}]" for k in index),
                    "message": _nonfinite_message(float(values[index]), None),
                },
            )
            return None
    if len(shape) == 2:
        _scan_json_rows(value, field, shape[1], "", errors)
    else:
        _scan_json_values(value, field, errors)
    return None


def _json_value_problem(v: object) -> str | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return _not_a_number(v)
    try:
        f = float(v)
    except OverflowError:
        assert isinstance(v, int)
        digits = int(v.bit_length() * math.log10(2)) + 1
        return f"out of range: an integer of about {digits} digits overflows to infinity"
    if not -_F32_LIMIT < f < _F32_LIMIT:
        return _nonfinite_message(f, None)
    return None


def _parse_xy(doc: dict[str, Any], settings: Settings) -> ParsedDataset:
    x, y = doc["x"], doc["y"]
    errors = _Errors()
    xs, nrows = _json_matrix(
        x, "x", None, "the number of values in x[0]", settings, lambda width: width + 1, errors
    )
    ys = None
    if not _is_list(y):
        errors.add({"field": "y", "message": f"must be a list of numbers, not {_json_kind(y)}"})
    elif nrows is not None and len(y) != nrows:
        errors.add(
            {
                "field": "y",
                "message": f"has {len(y)} value{'' if len(y) == 1 else 's'} "
                f"but x has {nrows} row{'' if nrows == 1 else 's'}",
            }
        )
        _scan_json_values(y, "y", errors)
    elif nrows is None:
        _scan_json_values(y, "y", errors)
    else:
        ys = _json_numbers(y, "y", (nrows,), errors)
    errors.raise_if_any("dataset")
    assert xs is not None and ys is not None
    return ParsedDataset(
        x=np.ascontiguousarray(xs),
        y=np.ascontiguousarray(ys),
        feature_names=[f"x{j}" for j in range(xs.shape[1])],
        target_name="y",
    )


def _parse_rows(doc: dict[str, Any], settings: Settings) -> ParsedDataset:
    columns, rows = doc["columns"], doc["rows"]
    errors = _Errors()
    names: list[str] | None = None
    if not _is_list(columns):
        errors.add(
            {"field": "columns", "message": f"must be a list of column names, not {_json_kind(columns)}"}
        )
    elif len(columns) < 2:
        errors.add(
            {
                "field": "columns",
                "message": f"has {len(columns)} name"
                f"{'' if len(columns) == 1 else 's'}; need at least 2 (one or more features "
                "and the target)",
            }
        )
    else:
        names = _check_json_names(columns, errors)
        _check_features(len(columns) - 1, settings, "columns")
    target = _resolve_json_target(doc.get("target"), names, errors)
    width = len(columns) if _is_list(columns) and len(columns) >= 2 else None
    if width is not None:
        values, _ = _json_matrix(rows, "rows", width, "the number of columns", settings, lambda w: w, errors)
    else:
        values = None
        if not _is_list(rows):
            errors.add(
                {
                    "field": "rows",
                    "message": f"must be a list of rows (lists of numbers), not {_json_kind(rows)}",
                }
            )
    errors.raise_if_any("dataset")
    assert values is not None and names is not None and target is not None
    return _split(values, target, names)


def _check_json_names(columns: Sequence[Any], errors: _Errors) -> list[str] | None:
    before = errors.total
    seen: dict[str, int] = {}
    for j, name in enumerate(columns):
        field = f"columns[{j}]"
        if not isinstance(name, str):
            errors.add({"field": field, "message": f"must be a string, not {_json_kind(name)}"})
        elif not name.strip():
            errors.add({"field": field, "message": "empty column name"})
        elif name in seen:
            errors.add(
                {"field": field, "message": f"duplicate column name {name!r} (also columns[{seen[name]}])"}
            )
        else:
            seen[name] = j
    return None if errors.total > before else list(columns)


def _resolve_json_target(target: object, names: list[str] | None, errors: _Errors) -> int | None:
    if names is None:
        return None
    ncols = len(names)
    if target is None:
        return ncols - 1
    if isinstance(target, str):
        if target in names:
            return names.index(target)
        hint = " (to pick a column by position, send an integer)" if _INDEX.fullmatch(target.strip()) else ""
        errors.add(
            {
                "field": "target",
                "message": f"no column named {target!r}; columns are: {_list_names(names)}{hint}",
            }
        )
        return None
    if isinstance(target, float) and target.is_integer():  # JSON's 2.0 is the integer 2
        target = int(target)
    if isinstance(target, int) and not isinstance(target, bool):
        if -ncols <= target < ncols:
            return target % ncols
        errors.add(
            {
                "field": "target",
                "message": f"column index {target} is out of range: there are {ncols} "
                f"columns (0 to {ncols - 1}, or -{ncols} to -1 from the end)",
            }
        )
        return None
    errors.add(
        {
            "field": "target",
            "message": "must be a column name (string) or a 0-based "
            f"column index (integer), not {_json_kind(target)}",
        }
    )
    return None
