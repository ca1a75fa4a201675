"""A job's preprocessing: the feature columns it uses and their encoders, fitted on training rows.

`fit_pipeline` learns every statistic from the training rows only (imputed means and medians,
kept categories); `Pipeline.transform` encodes any rows the same way — the whole dataset for
training, raw rows for `predict` — into one float32 matrix whose columns are `feature_names`. A
dataset of numbers without missing cells encodes to its own values, column by column, so jobs on
such data train on exactly what they did before preprocessing existed. Standardization is not
here: the engine standardizes this matrix with training-split statistics and folds the scaling
into the parameters it reports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from descent.table import FEATURE_KINDS, Column, Table

from .encoders import CategoryEncoder, DatetimeEncoder, NumberEncoder
from .errors import PreprocessError

Encoder = NumberEncoder | CategoryEncoder | DatetimeEncoder
SHOWN_NAMES = 10
INTERLEAVE_ROWS = 65_536
"""Rows of the feature matrix filled at a time, every column's block in turn (see `_interleave`)."""


@dataclass(frozen=True)
class Encoded:
    """x: float32 (rows × features); kept: False for rows `impute: drop` leaves out; warnings:
    unseen categories, one line per column."""

    x: np.ndarray
    kept: np.ndarray
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Input:
    """A raw column the pipeline reads: its name, its kind and its encoder."""

    name: str
    kind: str
    encoder: Encoder


@dataclass(frozen=True)
class Pipeline:
    inputs: tuple[Input, ...]
    impute: str

    @property
    def feature_names(self) -> list[str]:
        return [name for i in self.inputs for name in i.encoder.names]

    @property
    def all_numbers(self) -> bool:
        """Every input a number without an added column: `{"x": [[...]]}` rows can be encoded."""
        return all(isinstance(i.encoder, NumberEncoder) and not i.encoder.indicator for i in self.inputs)

    def transform(self, columns: Mapping[str, Column], rows: int) -> Encoded:
        """Encode `rows` rows given as columns by name (extra columns are ignored)."""
        absent = [i.name for i in self.inputs if i.name not in columns]
        if absent:
            raise PreprocessError("columns", f"missing column(s) the model needs: {_names(absent)}")
        x = np.empty((rows, len(self.feature_names)), dtype=np.float32)
        kept = np.ones(rows, dtype=bool)
        warnings: list[str] = []
        blocks: list[tuple[int, np.ndarray]] = []
        start = 0
        for item in self.inputs:
            column = columns[item.name]
            if column.kind != item.kind:
                raise PreprocessError(
                    "columns", f"column {item.name!r} is {column.kind} here but was {item.kind} in training"
                )
            enc = item.encoder
            block = enc.encode(column) if isinstance(enc, CategoryEncoder) else enc.encode(column.values)
            blocks.append((start, block.x))
            start += block.x.shape[1]
            if block.missing is not None:
                kept &= ~block.missing
            if block.warning:
                warnings.append(block.warning)
        _interleave(x, blocks)
        return Encoded(x, kept, warnings)

    def to_json(self) -> dict[str, Any]:
        """The job's `config.features.fitted`: what each input column resolved to."""
        return {
            "impute": self.impute,
            "columns": [{"name": i.name, "kind": i.kind, **i.encoder.to_json()} for i in self.inputs],
            "feature_names": self.feature_names,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Pipeline:
        """The pipeline a job's config records (the inverse of `to_json`)."""
        inputs = []
        for col in doc["columns"]:
            name, kind = col["name"], col["kind"]
            encoder: Encoder
            if kind == "number":
                encoder = NumberEncoder(name, col["imputed"], col["indicator"])
            elif kind == "category":
                encoder = CategoryEncoder(name, tuple(col["categories"]), tuple(col["other"]))
            else:
                parts = tuple(
                    NumberEncoder(part, p["imputed"], p["indicator"]) for part, p in col["parts"].items()
                )
                encoder = DatetimeEncoder(name, parts)
            inputs.append(Input(name, kind, encoder))
        return cls(tuple(inputs), doc["impute"])


def fit_pipeline(
    table: Table,
    train_rows: np.ndarray,
    *,
    include: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    impute: str = "mean",
    missing_indicator: bool = False,
    max_categories: int = 20,
) -> Pipeline:
    """The pipeline of the chosen columns, every statistic from `train_rows` (row indices)."""
    chosen = _chosen(table, include, exclude)
    rows = np.asarray(train_rows, dtype=np.int64)
    inputs = []
    for col in chosen:
        encoder: Encoder
        if col.kind == "number":
            values = np.asarray(col.values)[rows]
            encoder = NumberEncoder.fit(col.name, values, impute, missing_indicator)
        elif col.kind == "category":
            encoder = CategoryEncoder.fit(col, rows, max_categories)
        else:
            encoder = DatetimeEncoder.fit(col, rows, impute, missing_indicator)
        inputs.append(Input(col.name, col.kind, encoder))
    return Pipeline(tuple(inputs), impute)


def _chosen(table: Table, include: Sequence[str] | None, exclude: Sequence[str]) -> list[Column]:
    """The feature columns in file order: `include` (default every usable one) minus `exclude`."""
    names = [c.name for c in table.columns]
    for key, given in (("features.include", include or ()), ("features.exclude", exclude)):
        unknown = [n for n in given if n not in names]
        if unknown:
            raise PreprocessError(key, f"no column named {_names(unknown)} (the columns: {_names(names)})")
    if include is not None:
        if table.target in include:
            raise PreprocessError("features.include", f"{table.target!r} is the target")
        text = [n for n in include if table.column(n).kind not in FEATURE_KINDS]
        if text:
            raise PreprocessError(
                "features.include", f"{_names(text)}: text columns (names, ids) cannot be features"
            )
        wanted = set(include)
        chosen = [c for c in table.columns if c.name in wanted]
    else:
        chosen = list(table.features)
    chosen = [c for c in chosen if c.name not in set(exclude)]
    if not chosen:
        raise PreprocessError("features", "no feature column is left to train on")
    return chosen


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:SHOWN_NAMES])
    return shown + (f" and {len(names) - SHOWN_NAMES} more" if len(names) > SHOWN_NAMES else "")


def _interleave(x: np.ndarray, blocks: list[tuple[int, np.ndarray]]) -> None:
    """Each (first column, block) written into x's columns, INTERLEAVE_ROWS rows at a time.

    Why by rows: a column written down a whole row-major matrix touches every cache line of it, so
    ten columns made ten passes over the matrix in memory (1M rows × 10: 40 MB each time); a band
    of rows stays in cache while every block writes its part of it.
    """
    rows = x.shape[0]
    for top in range(0, rows, INTERLEAVE_ROWS):
        end = min(rows, top + INTERLEAVE_ROWS)
        for first, block in blocks:
            x[top:end, first : first + block.shape[1]] = block[top:end]
