"""What every reader of an upload shares: the parsed dataset, the collection of faults into one
400 problem, the limit checks, and the thread pool that parses large uploads in pieces.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from descent.settings import Settings
from service.problems import Problem, invalid, too_large

MAX_ERRORS = 20
"""How many faults one rejection lists; ``detail`` gives the total."""

FLOAT32_MAX = float(np.finfo(np.float32).max)

_F32_LIMIT = 2.0**128 - 2.0**103
"""The smallest magnitude that rounds to infinity when cast to float32 (FLT_MAX + half an ulp).

Values strictly below it in magnitude are stored as finite float32 numbers; this is exactly the
set for which ``np.float32(v)`` is finite, so the slow scan and the vectorised check agree.
"""

_BOM = b"\xef\xbb\xbf"
_INDEX = re.compile(r"-?[0-9]+")
_SHOWN_NAMES = 30
"""Column names listed in an "unknown target" message before it is cut short."""


_PIECE_CELLS = 1 << 20
"""The same for the column statistics of `describe`: rows are split in pieces of this many cells."""
_THREADS = max(1, min(4, os.cpu_count() or 1))
_POOL: ThreadPoolExecutor | None = None


def _map_pieces(work: Callable[[int], Any], pieces: int) -> list[Any]:
    """work(0), …, work(pieces − 1), on the shared pool when there is more than one."""
    global _POOL
    if pieces == 1:
        return [work(0)]
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="descent-parse")
    return list(_POOL.map(work, range(pieces)))


@dataclass(frozen=True, eq=False)
class ParsedDataset:
    """A parsed dataset: features ``x`` (rows × features) and target ``y`` (rows), float32.

    ``eq=False``: a generated ``__eq__``/``__hash__`` over numpy arrays would raise, so datasets
    compare (and hash) by identity.
    """

    x: np.ndarray
    """float32, C-contiguous, shape (rows, features), features >= 1."""
    y: np.ndarray
    """float32, shape (rows,)."""
    feature_names: list[str]
    target_name: str

    @property
    def rows(self) -> int:
        return int(self.x.shape[0])

    @property
    def features(self) -> int:
        return int(self.x.shape[1])


class _Errors:
    """The first `MAX_ERRORS` faults found, and how many there were in all."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.total = 0

    def add(self, error: dict[str, Any]) -> None:
        self.total += 1
        if len(self.items) < MAX_ERRORS:
            self.items.append(error)

    def add_lazily(self, make: Callable[..., dict[str, Any]], *args: Any) -> None:
        """``add(make(*args))``, calling ``make`` only if the error will be listed."""
        if len(self.items) < MAX_ERRORS:
            self.add(make(*args))
        else:
            self.total += 1

    def add_cells(self, bad: np.ndarray, error: Callable[[tuple[int, ...]], dict[str, Any]]) -> None:
        """Add one error per True cell of ``bad``, in row-major order, building only those listed."""
        count = int(np.count_nonzero(bad))
        room = max(0, MAX_ERRORS - len(self.items))
        for index in np.argwhere(bad)[:room]:
            self.add(error(tuple(int(k) for k in index)))
        self.total += count - min(count, room)

    def raise_if_any(self, what: str) -> None:
        if not self.total:
            return
        first = self.items[0]
        first_text = first["message"] if first.get("field") == "csv" else _field_message(first)
        if self.total == 1:
            detail = f"The {what} was rejected: {first_text}."
        else:
            listed = (
                f"all {self.total} are listed in errors"
                if self.total <= len(self.items)
                else f"the first {len(self.items)} are listed in errors"
            )
            detail = (
                f"The {what} was rejected: {self.total} problems were found ({listed}); "
                f"the first: {first_text}."
            )
        raise invalid(detail, self.items)


def _field_message(error: dict[str, Any]) -> str:
    return f"{error['field']}: {error['message']}"


def _fail(detail: str, field: str, message: str, **extra: Any) -> Problem:
    """A single structural fault (empty data, too few rows, ...): nothing else is worth listing."""
    return invalid(detail, [{"field": field, **extra, "message": message}])


def _show(value: str, limit: int = 40) -> str:
    """repr() of a cell for a message, cut short when long."""
    if len(value) > limit:
        return repr(value[:limit]) + "…"
    return repr(value)


def _nonfinite_message(value: float, text: str | None) -> str:
    """Why a value parsed as a number is still rejected (NaN, ±inf, or out of float32 range)."""
    shown = _show(text) if text is not None else repr(value)
    if math.isnan(value):
        return f"not a finite number: {shown} (NaN is not allowed)"
    if math.isinf(value):
        if text is None or "inf" in text.lower():
            return f"not a finite number: {shown} (infinite values are not allowed)"
        return f"out of range: {shown} overflows to infinity"
    return f"out of range: {shown} is larger in magnitude than float32 allows ({FLOAT32_MAX:.7g})"


def _check_features(features: int, settings: Settings, field: str) -> None:
    if features > settings.max_features:
        raise _fail(
            f"The dataset has {features} features, more than the limit "
            f"DESCENT_MAX_FEATURES = {settings.max_features}.",
            field,
            f"{features} features; the limit is DESCENT_MAX_FEATURES = {settings.max_features}",
        )


def _check_cells(rows: int, columns: int, settings: Settings, *, at_least: bool = False) -> None:
    if rows * columns > settings.max_dataset_cells:
        more = "at least " if at_least else ""
        raise too_large(
            "DESCENT_MAX_DATASET_CELLS",
            settings.max_dataset_cells,
            f"The dataset has {more}{rows:,} rows × {columns} columns = {more}{rows * columns:,} cells",
        )


def _split(values: np.ndarray, target: int, names: list[str]) -> ParsedDataset:
    """Cut float32 (rows, columns) values into features and target."""
    ncols = values.shape[1]
    y = np.ascontiguousarray(values[:, target])
    if target == ncols - 1:
        x = np.ascontiguousarray(values[:, :-1])
    else:
        x = np.ascontiguousarray(np.delete(values, target, axis=1))
    return ParsedDataset(
        x=x,
        y=y,
        feature_names=[n for k, n in enumerate(names) if k != target],
        target_name=names[target],
    )
