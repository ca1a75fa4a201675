"""Raw rows to predict (JSON objects by column name, or lists with their column names) as columns.

What `predict` receives is what a user has: `{"Sex": "female", "Age": null}`. Each value is read
by the kind its column had in training, so the pipeline encodes it exactly as it encoded the
dataset: numbers (a JSON number, or a string that reads as one), categories (a string or boolean;
a number matches the label written the same way, so `3` is the label "3"), datetimes (an ISO 8601
date or timestamp; without an offset it is UTC, as the readers take it). A missing key or `null`
is a missing value; keys the model does not use are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from descent.table import Column

from .errors import PreprocessError
from .labels import number_text
from .pipeline import Pipeline

MAX_ERRORS = 20


def columns_from_records(records: Sequence[Any], pipeline: Pipeline) -> dict[str, Column]:
    """`{"rows": [{...}, ...]}`: objects by column name."""
    bad = [i for i, r in enumerate(records) if not isinstance(r, Mapping)]
    if bad:
        raise PreprocessError(f"rows[{bad[0]}]", "every row must be an object of column name → value")
    return _columns(pipeline, lambda name: [r.get(name) for r in records], "rows[{row}].{name}")


def columns_from_rows(names: Sequence[Any], rows: Sequence[Any], pipeline: Pipeline) -> dict[str, Column]:
    """`{"columns": [...], "rows": [[...], ...]}`: lists matched to the model's columns by name."""
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        raise PreprocessError("columns", "must be a list of distinct column names")
    absent = [i.name for i in pipeline.inputs if i.name not in names]
    if absent:
        raise PreprocessError("columns", f"missing column(s) the model needs: {', '.join(map(repr, absent))}")
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != len(names):
            raise PreprocessError(f"rows[{i}]", f"must be a list of {len(names)} values, one per column")
    where = {name: k for k, name in enumerate(names)}
    return _columns(pipeline, lambda name: [row[where[name]] for row in rows], "rows[{row}].{name}")


def _columns(pipeline: Pipeline, values_of: Any, field: str) -> dict[str, Column]:
    out: dict[str, Column] = {}
    errors: list[tuple[str, str]] = []
    for item in pipeline.inputs:
        values = values_of(item.name)
        read = {"number": _numbers, "category": _categories, "datetime": _datetimes}[item.kind]
        column, faults = read(item.name, values)
        out[item.name] = column
        for row, message in faults:
            errors.append((field.format(row=row, name=item.name), message))
    if errors:
        first_field, first = errors[0]
        raise PreprocessError(first_field, f"{first} ({len(errors)} value(s) cannot be read)")
    return out


def _numbers(name: str, values: list[Any]) -> tuple[Column, list[tuple[int, str]]]:
    out = np.full(len(values), np.nan, dtype=np.float32)
    faults = []
    for i, v in enumerate(values):
        if v is None:
            continue
        number = _number(v)
        if number is None or not math.isfinite(number) or abs(number) > 3.4028234663852886e38:
            faults.append((i, f"{name!r} is a number column; {v!r} is not a finite number"))
            if len(faults) >= MAX_ERRORS:
                break
            continue
        out[i] = number
    return Column(name, "number", out), faults


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _categories(name: str, values: list[Any]) -> tuple[Column, list[tuple[int, str]]]:
    labels: dict[tuple[str, Any], int] = {}
    ordered: list[Any] = []
    codes = np.full(len(values), -1, dtype=np.int32)
    faults = []
    for i, v in enumerate(values):
        if v is None:
            continue
        if isinstance(v, str):
            label: Any = v.strip()
        elif isinstance(v, bool):
            label = v
        elif isinstance(v, int | float) and math.isfinite(v):
            label = number_text(v)
        else:
            faults.append((i, f"{name!r} is a category column; {v!r} is not a string or boolean"))
            continue
        key = ("bool", label) if isinstance(label, bool) else ("value", label)
        if key not in labels:
            labels[key] = len(ordered)
            ordered.append(label)
        codes[i] = labels[key]
    # labels in first-seen order: only the pipeline's lookup reads them
    return Column(name, "category", codes, tuple(ordered)), faults


def _datetimes(name: str, values: list[Any]) -> tuple[Column, list[tuple[int, str]]]:
    out = np.full(len(values), np.nan, dtype=np.float64)
    faults = []
    has_time = False
    for i, v in enumerate(values):
        if v is None:
            continue
        seconds = parse_datetime(v) if isinstance(v, str) else None
        if seconds is None:
            faults.append((i, f"{name!r} is a datetime column; {v!r} is not an ISO 8601 date or time"))
            continue
        out[i] = seconds
        has_time = has_time or seconds % 86400 != 0
    return Column(name, "datetime", out, has_time=has_time), faults


def parse_datetime(text: str) -> float | None:
    """Seconds since the epoch of an ISO 8601 date or timestamp (UTC unless it has an offset)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
