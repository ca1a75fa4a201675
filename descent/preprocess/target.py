"""The target column as the engine trains on it, and its classes back as the data had them.

Regression losses take a number column as it is. `bce` takes any column with two distinct values
(numbers, booleans or strings): 1 for `positive` (default the second in sorted order), 0 for the
other. `cross_entropy` takes any column with K ≥ 2 distinct values: the classes are the sorted
values and y is a class's index. Missing target cells stay NaN; the worker leaves those rows out
and counts them (API.md, "Preprocessing").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from descent.table import Column

from .errors import PreprocessError
from .labels import plain

REGRESSION = ("mse", "mae", "huber")
SHOWN_CLASSES = 5


@dataclass(frozen=True)
class TargetEncoding:
    """y: float32 per row (NaN where the target is missing); classes: the labels in the order of
    y's values (None for regression; for bce the other class, then `positive`, the class of y = 1)."""

    y: np.ndarray
    classes: tuple[Any, ...] | None
    positive: Any = None


def encode_target(column: Column, loss: str, positive: Any = None) -> TargetEncoding:
    """The target for `loss`; PreprocessError naming `target` or `positive` when it does not fit."""
    if column.kind in ("text", "datetime") or column.values is None:
        why = "text (too many distinct values for a category)" if column.kind == "text" else "a datetime"
        raise PreprocessError("target", f"the target {column.name!r} is {why}: it cannot be learned")
    if loss in REGRESSION:
        if column.kind != "number":
            raise PreprocessError(
                "loss", f"{loss} needs a number target; {column.name!r} is a category (use bce or cross_entropy)"
            )
        return TargetEncoding(np.asarray(column.values, dtype=np.float32), None)
    classes, index = _classes(column)
    if len(classes) < 2:
        shown = f": {classes[0]!r}" if classes else ""
        raise PreprocessError(
            "target", f"the target {column.name!r} has {len(classes)} distinct value(s){shown}; a classifier needs 2"
        )
    if loss == "bce":
        if len(classes) != 2:
            raise PreprocessError(
                "loss",
                f"bce needs a column with two distinct values; {column.name!r} has {len(classes)}: "
                f"{_listed(classes)} (use cross_entropy)",
            )
        chosen = classes[1] if positive is None else _find(classes, positive, column.name)
        at = classes.index(chosen)
        y = np.where(index < 0, np.nan, (index == at).astype(np.float32))
        other = classes[1 - at]
        return TargetEncoding(y.astype(np.float32), (other, chosen), chosen)
    if loss == "cross_entropy":
        y = np.where(index < 0, np.nan, index).astype(np.float32)
        return TargetEncoding(y, tuple(classes))
    raise PreprocessError("loss", f"unknown loss {loss!r}")


def decode(classes: list[Any] | tuple[Any, ...], indices: np.ndarray) -> list[Any]:
    """Class indices (as the model predicts them) back to the target's own values."""
    table = list(classes)
    return [table[int(k)] for k in np.asarray(indices).reshape(-1)]


def _classes(column: Column) -> tuple[list[Any], np.ndarray]:
    """The distinct non-missing values in sorted order, and each row's index into them (-1 missing)."""
    values = np.asarray(column.values)
    if column.kind == "number":
        present = ~np.isnan(values)
        distinct, inverse = np.unique(values[present], return_inverse=True)
        index = np.full(values.shape[0], -1, dtype=np.int64)
        index[present] = inverse
        return [plain(float(v)) for v in distinct], index
    used = np.unique(values[values >= 0])  # the codes that occur, in label (sorted) order
    rank = np.full(len(column.labels) + 1, -1, dtype=np.int64)  # the last slot: code -1, missing
    rank[used] = np.arange(used.size)
    return [column.labels[k] for k in used], rank[values]


def _find(classes: list[Any], positive: Any, name: str) -> Any:
    """The class `positive` names: equal, or (a string for a boolean or number class) equal in text."""
    for label in classes:
        if label == positive and isinstance(label, bool) == isinstance(positive, bool):
            return label
    for label in classes:
        if str(label).lower() == str(plain(positive)).lower():
            return label
    raise PreprocessError("positive", f"{positive!r} is not a value of {name!r}; its values are {_listed(classes)}")


def _listed(classes: list[Any]) -> str:
    shown = ", ".join(repr(c) for c in classes[:SHOWN_CLASSES])
    return shown + (", …" if len(classes) > SHOWN_CLASSES else "")
