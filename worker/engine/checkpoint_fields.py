"""Readers of a checkpoint's untrusted JSON values, each naming the path of what it rejects.

Why: checkpoint.decode_checkpoint checks every value it reads, and a ValueError that says
"checkpoint meta.history.count: must be an integer ≥ 0, got '5'" tells an operator what is wrong.
Floats travel as JSON numbers, NaN and ±infinity as the strings "nan", "inf", "-inf" (JSON has no
such numbers); `json_float` writes them that way and `number` reads them back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def json_float(value: float | None) -> float | str | None:
    """A float for JSON: finite as a number, else "nan", "inf" or "-inf"."""
    if value is None:
        return None
    value = float(value)
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def field(obj: Any, key: str, path: str) -> Any:
    """obj[key], where obj must be an object that has it."""
    if not isinstance(obj, Mapping):
        raise ValueError(f"checkpoint {path}: must be an object")
    if key not in obj:
        raise ValueError(f"checkpoint {path}.{key}: missing")
    return obj[key]


def integer(value: Any, path: str, minimum: int = 0) -> int:
    """An int ≥ minimum (not a bool, not a float)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"checkpoint {path}: must be an integer ≥ {minimum}, got {value!r}")
    return value


def number(value: Any, path: str) -> float:
    """A float, possibly non-finite (written by json_float)."""
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"checkpoint {path}: must be a number, got {value!r}")
    return float(value)


def optional_number(value: Any, path: str) -> float | None:
    """None or a number."""
    return None if value is None else number(value, path)


def positive(value: Any, path: str) -> float:
    """A finite number > 0."""
    result = number(value, path)
    if not (math.isfinite(result) and result > 0):
        raise ValueError(f"checkpoint {path}: must be a finite number > 0, got {value!r}")
    return result


def elapsed(value: Any) -> float:
    """meta.elapsed_seconds: a finite number ≥ 0."""
    result = number(value, "meta.elapsed_seconds")
    if not (math.isfinite(result) and result >= 0):
        raise ValueError(f"checkpoint meta.elapsed_seconds: must be a finite number ≥ 0, got {value!r}")
    return result


def metrics(value: Any) -> dict[str, float | int | None]:
    """meta.metrics: an object of ints, numbers and nulls."""
    if not isinstance(value, dict):
        raise ValueError("checkpoint meta.metrics: must be an object")
    out: dict[str, float | int | None] = {}
    for key, item in value.items():
        if item is None or (isinstance(item, int) and not isinstance(item, bool)):
            out[key] = item
        else:
            out[key] = number(item, f"meta.metrics.{key}")
    return out


def check_dtype(array: np.ndarray, dtype: type, name: str) -> None:
    """ValueError unless the tensor has this dtype."""
    if array.dtype != dtype:
        raise ValueError(f"checkpoint tensor {name}: dtype {array.dtype}, expected {np.dtype(dtype)}")
