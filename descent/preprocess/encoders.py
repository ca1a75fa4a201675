"""One encoder per column kind: fitted on the training rows, then writing its block of features.

Each encoder keeps only what it learned (imputed value, kept categories), so it reads back from
the job's config JSON (`to_json`/`from_json`) and encodes predict rows exactly as it encoded the
training data. Vectorised numpy throughout: a category column maps its own labels to the fitted
ones once, through a lookup array, never row by row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from descent.table import Column

from .labels import OTHER_NAME, show

DATETIME_PARTS = ("year", "month", "day", "dayofweek", "hour")
"""What a datetime becomes (hour only where the column has times of day); Monday is day 0."""


@dataclass
class Block:
    """What an encoder writes: features (rows × width), rows that must be dropped, and warnings."""

    x: np.ndarray
    missing: np.ndarray | None = None
    warning: str | None = None


@dataclass(frozen=True)
class NumberEncoder:
    """A number: missing cells take `fill` (mean, median or zero of the training rows; NaN for
    `drop`), and with `indicator` a 0/1 column says which cells were missing."""

    name: str
    fill: float | None
    indicator: bool

    @classmethod
    def fit(cls, name: str, values: np.ndarray, impute: str, missing_indicator: bool) -> NumberEncoder:
        """`values`: the training rows' float values (NaN missing)."""
        present = values[~np.isnan(values)]
        if impute == "drop":
            fill = None
        elif impute == "zero" or present.size == 0:
            fill = 0.0
        elif impute == "median":
            fill = float(np.median(present.astype(np.float64)))
        else:
            fill = float(np.mean(present, dtype=np.float64))
        had_missing = present.size < values.size
        return cls(name, fill, missing_indicator and had_missing)

    @property
    def names(self) -> list[str]:
        return [self.name, f"{self.name}_missing"] if self.indicator else [self.name]

    def encode(self, values: np.ndarray) -> Block:
        missing = np.isnan(values)
        if not self.indicator and values.dtype == np.float32 and not missing.any():
            return Block(values.reshape(-1, 1))  # the column itself: the pipeline copies it into place
        out = np.empty((values.shape[0], len(self.names)), dtype=np.float32)
        out[:, 0] = values
        if missing.any():
            out[missing, 0] = np.float32(0.0 if self.fill is None else self.fill)
        if self.indicator:
            out[:, 1] = missing
        return Block(out, missing if self.fill is None and missing.any() else None)

    def to_json(self) -> dict[str, Any]:
        return {"imputed": self.fill, "indicator": self.indicator}


@dataclass(frozen=True)
class CategoryEncoder:
    """One-hot over `kept` (the most frequent labels of the training rows, None for a missing cell),
    then one `(other)` column when labels were folded; a label never seen in training is all zeros."""

    name: str
    kept: tuple[Any, ...]
    folded: tuple[Any, ...]

    @classmethod
    def fit(cls, column: Column, rows: np.ndarray, max_categories: int) -> CategoryEncoder:
        codes = np.asarray(column.values)[rows]
        counts = np.bincount(codes + 1, minlength=len(column.labels) + 1)  # slot 0: missing
        labels: list[Any] = [None, *column.labels]
        seen = np.flatnonzero(counts)
        # most frequent first; ties in label order with a missing cell last
        order = sorted(seen, key=lambda k: (-counts[k], k == 0, k))
        ranked = [labels[k] for k in order]
        return cls(column.name, tuple(ranked[:max_categories]), tuple(ranked[max_categories:]))

    @property
    def names(self) -> list[str]:
        names = [f"{self.name}={show(label)}" for label in self.kept]
        return [*names, f"{self.name}={OTHER_NAME}"] if self.folded else names

    def encode(self, column: Column) -> Block:
        slot = {_key(label): k for k, label in enumerate(self.kept)}
        other = len(self.kept) if self.folded else -1
        slot.update({_key(label): other for label in self.folded})
        lookup = np.array(
            [slot.get(_key(label), -2) for label in (None, *column.labels)], dtype=np.int64
        )  # -1 none (folded without an other column cannot happen), -2 unseen
        index = lookup[np.asarray(column.values) + 1]
        out = np.zeros((index.shape[0], len(self.names)), dtype=np.float32)
        hit = np.flatnonzero(index >= 0)
        out[hit, index[hit]] = 1.0
        unseen = index == -2
        warning = None
        if unseen.any():
            values = sorted({show(column.labels[c]) for c in np.unique(np.asarray(column.values)[unseen]) if c >= 0})
            if values:
                shown = ", ".join(repr(v) for v in values[:5]) + (", …" if len(values) > 5 else "")
                warning = (
                    f"{self.name}: {int(unseen.sum())} row(s) with a category not seen in training "
                    f"({shown}) encode as no known category"
                )
        return Block(out, None, warning)

    def to_json(self) -> dict[str, Any]:
        return {"categories": list(self.kept), "other": list(self.folded)}


@dataclass(frozen=True)
class DatetimeEncoder:
    """Year, month, day, day of week (and hour): each a number part, imputed like a number."""

    name: str
    parts: tuple[NumberEncoder, ...]

    @classmethod
    def fit(
        cls, column: Column, rows: np.ndarray, impute: str, missing_indicator: bool
    ) -> DatetimeEncoder:
        wanted = DATETIME_PARTS if column.has_time else DATETIME_PARTS[:-1]
        values = datetime_parts(np.asarray(column.values)[rows], wanted)
        parts = tuple(
            NumberEncoder.fit(f"{column.name}.{part}", values[:, k], impute, missing_indicator)
            for k, part in enumerate(wanted)
        )
        return cls(column.name, parts)

    @property
    def names(self) -> list[str]:
        return [name for part in self.parts for name in part.names]

    def encode(self, values: np.ndarray) -> Block:
        wanted = tuple(p.name.rsplit(".", 1)[1] for p in self.parts)
        table = datetime_parts(values, wanted)
        blocks = [part.encode(table[:, k]) for k, part in enumerate(self.parts)]
        masks = [b.missing for b in blocks if b.missing is not None]
        return Block(np.hstack([b.x for b in blocks]), masks[0] if masks else None)

    def to_json(self) -> dict[str, Any]:
        return {"parts": {p.name: p.to_json() for p in self.parts}}


def datetime_parts(seconds: np.ndarray, parts: tuple[str, ...]) -> np.ndarray:
    """float64 (rows × parts) of epoch seconds (UTC, NaN missing): NaN where the time is missing."""
    seconds = np.asarray(seconds, dtype=np.float64)
    missing = np.isnan(seconds)
    whole = np.where(missing, 0, np.floor(seconds)).astype(np.int64).astype("datetime64[s]")
    days = whole.astype("datetime64[D]")
    months = whole.astype("datetime64[M]")
    compute = {
        "year": lambda: whole.astype("datetime64[Y]").astype(np.int64) + 1970,
        "month": lambda: months.astype(np.int64) % 12 + 1,
        "day": lambda: (days - months.astype("datetime64[D]")).astype(np.int64) + 1,
        "dayofweek": lambda: (days.astype(np.int64) + 3) % 7,  # 1970-01-01 was a Thursday
        "hour": lambda: (whole - days).astype(np.int64) // 3600,
    }
    out = np.empty((seconds.shape[0], len(parts)), dtype=np.float64)
    for k, part in enumerate(parts):
        out[:, k] = compute[part]()
    out[missing] = np.nan
    return out


def _key(label: Any) -> tuple[str, Any]:
    """A label as a dict key: a boolean never equals the string or number that looks like it."""
    return ("bool", label) if isinstance(label, bool) else ("value", label)
