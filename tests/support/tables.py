"""Tables built by hand from Python lists, the way the readers build them (descent/table.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from descent.table import Column, Table


def number(name: str, values: Sequence[float | None]) -> Column:
    return Column(name, "number", np.array([np.nan if v is None else v for v in values], dtype=np.float32))


def category(name: str, values: Sequence[Any]) -> Column:
    """Strings or booleans (None missing): sorted labels, int32 codes, -1 missing."""
    labels = tuple(sorted({v for v in values if v is not None}))
    code = {label: k for k, label in enumerate(labels)}
    codes = np.array([-1 if v is None else code[v] for v in values], dtype=np.int32)
    return Column(name, "category", codes, labels)


def datetime(name: str, values: Sequence[str | None]) -> Column:
    """ISO 8601 strings as UTC epoch seconds (numpy's parser: no offsets)."""
    seconds = np.array(
        [np.nan if v is None else np.datetime64(v, "s").astype(np.int64) for v in values], dtype=np.float64
    )
    has_time = bool(np.any(np.nan_to_num(seconds) % 86400 != 0))
    return Column(name, "datetime", seconds, has_time=has_time)


def text(name: str) -> Column:
    return Column(name, "text", None)


def table(*columns: Column, target: str) -> Table:
    rows = {c.values.shape[0] for c in columns if c.values is not None}
    assert len(rows) == 1, rows
    return Table(tuple(columns), target, rows.pop())
