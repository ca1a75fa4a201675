"""A dataset as typed columns: what an upload becomes, what the store keeps, what training reads.

Why one shape shared by every side: the API parses a file once into a `Table`; the store keeps each
column once, as typed bytes; the worker's preprocessing (descent/preprocess) encodes the columns
it is told to use; `predict` encodes raw rows the same way. Numpy only: the API imports it, and
the API never imports torch.

Each column is one of four kinds (API.md, "Real-world datasets"):
- `number`: float32 values, NaN where a cell is missing (the missing mask is `isnan`; an upload
  never stores NaN or ±inf as a value).
- `category`: int32 codes into `labels`, -1 where a cell is missing. Labels are the distinct
  values in sorted order (strings, or False/True for a boolean column), so codes do not depend on
  row order.
- `datetime`: float64 seconds since 1970-01-01T00:00:00Z, NaN where missing; `has_time` says
  whether any value has a time of day (then the hour is a datetime part too).
- `text`: strings that are not categories (more distinct values than the parser's category limit,
  or a distinct value in most rows: names, ids). Never a feature; its values are not kept
  (`values` is None), only its summary.
The target column is never `text`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Kind = Literal["number", "category", "datetime", "text"]
KINDS: tuple[Kind, ...] = ("number", "category", "datetime", "text")
FEATURE_KINDS: tuple[Kind, ...] = ("number", "category", "datetime")
"""The kinds a job may use as features."""

Label = str | bool
"""A category's value as the data had it."""


@dataclass(frozen=True)
class Column:
    """One column: its name, kind and values (see the module docstring for each kind's encoding)."""

    name: str
    kind: Kind
    values: np.ndarray | None
    labels: tuple[Label, ...] = ()
    has_time: bool = False

    def missing(self) -> np.ndarray:
        """A boolean mask of the missing cells (rows long); text columns: not available."""
        if self.values is None:
            raise ValueError(f"column {self.name!r} is text: its values are not kept")
        if self.kind == "category":
            return self.values < 0
        return np.isnan(self.values)


@dataclass(frozen=True)
class Table:
    """A dataset's columns in file order, `rows` long, and the name of its target column."""

    columns: tuple[Column, ...]
    target: str
    rows: int

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def features(self) -> tuple[Column, ...]:
        """The columns a job may train on by default: every number, category and datetime column
        but the target."""
        return tuple(c for c in self.columns if c.name != self.target and c.kind in FEATURE_KINDS)
