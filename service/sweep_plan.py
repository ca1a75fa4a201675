"""A sweep request checked and planned: its candidates (grid points) and, with cross-validation,
one child per candidate and fold.

Why a plan apart from the views: every fault of a sweep request is found before anything is
stored (the shape here, each child as a job against the dataset in `sweeps.py`), and the children
a sweep has follow from its request alone — the same request plans the same children.
"""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass
from typing import Any

from descent.settings import Settings

from .problems import invalid
from .validation import base_errors

PATH = re.compile(r"^[a-z_]+(\.[a-z_]+)*$")
"""A grid key: a dotted path into a job request, e.g. ``optimizer.lr``."""
FIELDS = {"dataset_id", "base", "grid", "validation"}
FOLD_PATHS = ("split.folds", "split.fold")
"""What cross-validation sets on each child: not for the grid or the base to give."""


@dataclass(frozen=True)
class Child:
    """One child job of a sweep: its candidate's overrides, and its fold under cross-validation."""

    candidate: int
    overrides: dict[str, Any]
    fold: int | None

    def request(self, base: dict[str, Any], dataset_id: str, folds: int | None) -> dict[str, Any]:
        """The child's job request: `base` with the overrides (and its fold) set."""
        doc = copy.deepcopy(base)
        for path, value in self.overrides.items():
            set_path(doc, path, value)
        if folds is not None:
            set_path(doc, "split.folds", folds)
            set_path(doc, "split.fold", self.fold)
        doc["dataset_id"] = dataset_id
        return doc


@dataclass(frozen=True)
class SweepPlan:
    """A checked sweep request: the job `base`, the `grid` ({} for cross-validation of `base`
    alone), and `folds` (None without cross-validation)."""

    dataset_id: str
    base: dict[str, Any]
    grid: dict[str, list[Any]]
    folds: int | None

    @property
    def candidates(self) -> list[dict[str, Any]]:
        """The grid's points, in the order of its keys and values ([{}] without a grid)."""
        return [dict(zip(self.grid, values, strict=True)) for values in itertools.product(*self.grid.values())]

    def children(self) -> list[Child]:
        """One child per candidate, or one per candidate and fold: a candidate's folds together."""
        folds = range(self.folds) if self.folds is not None else [None]
        return [Child(k, point, fold) for k, point in enumerate(self.candidates) for fold in folds]

    def request(self) -> dict[str, Any]:
        """What the sweep record keeps of its request."""
        doc: dict[str, Any] = {"dataset_id": self.dataset_id, "base": self.base, "grid": self.grid}
        if self.folds is not None:
            doc["validation"] = {"folds": self.folds}
        return doc


def plan(body: Any, settings: Settings) -> SweepPlan:
    """The sweep's own shape checked, every fault at once by dotted path; a 400 otherwise."""
    if not isinstance(body, dict):
        raise invalid("the body must be a JSON object", [{"field": "body", "message": "must be a JSON object"}])
    errors = [{"field": key, "message": "is not a known field"} for key in sorted(set(body) - FIELDS)]
    dataset_id = body.get("dataset_id")
    if not isinstance(dataset_id, str) or not dataset_id:
        errors.append({"field": "dataset_id", "message": "is required (a dataset id)"})
    base = body.get("base", {})
    if not isinstance(base, dict):
        errors.append({"field": "base", "message": "must be an object (a job request without dataset_id)"})
        base = {}
    else:
        if "dataset_id" in base:
            errors.append({"field": "base.dataset_id", "message": "give dataset_id at the top level"})
        errors += [{**e, "field": f"base.{e['field']}"} for e in base_errors(base)]
    folds = _folds(body.get("validation"), base, errors)
    grid = body.get("grid")
    if grid is None and folds is not None:
        grid = {}  # cross-validation of `base` alone
    elif not isinstance(grid, dict) or not grid:
        errors.append({"field": "grid", "message": "is required: an object of dotted paths to lists of values"})
        grid = {}
    else:
        errors += _grid_errors(grid, folds is not None)
    if not errors:
        count = (folds or 1) * _product(len(values) for values in grid.values())
        limit = settings.max_sweep_children
        if count > limit:
            what = f"{count} jobs" if folds is None else f"{count // folds} candidates × {folds} folds = {count} jobs"
            field = "grid" if folds is None else "validation.folds"
            errors.append({"field": field, "message": f"{what} exceed DESCENT_MAX_SWEEP_CHILDREN = {limit}"})
    if errors:
        raise invalid(f"{len(errors)} invalid field(s)", errors)
    return SweepPlan(dataset_id, base, grid, folds)


def _folds(validation: Any, base: dict[str, Any], errors: list[dict[str, str]]) -> int | None:
    """`validation.folds`, checked; None without cross-validation."""
    if validation is None:
        return None
    if not isinstance(validation, dict):
        errors.append({"field": "validation", "message": 'must be an object such as {"folds": 5}'})
        return None
    errors += [{"field": f"validation.{key}", "message": "is not a known field"} for key in sorted(set(validation) - {"folds"})]
    folds = validation.get("folds")
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        errors.append({"field": "validation.folds", "message": "must be an integer >= 2 (the number of folds)"})
        return None
    split = base.get("split")
    if isinstance(split, dict):
        if split.get("dev"):
            message = "cross-validation makes each fold the dev split in turn: leave base.split.dev out"
            errors.append({"field": "base.split.dev", "message": message})
        for key in ("folds", "fold"):
            if key in split:
                errors.append({"field": f"base.split.{key}", "message": "set by validation.folds"})
    return folds


def _grid_errors(grid: dict[str, Any], folds: bool) -> list[dict[str, str]]:
    errors = []
    for key, values in grid.items():
        if not PATH.match(key):
            errors.append({"field": f"grid.{key}", "message": "must be a dotted path such as optimizer.lr"})
        elif key == "dataset_id" or key.startswith("dataset_id."):
            errors.append({"field": f"grid.{key}", "message": "a sweep trains on one dataset"})
        elif folds and (key in FOLD_PATHS or key == "split.dev" or key == "split"):
            errors.append({"field": f"grid.{key}", "message": "set by validation.folds on each child"})
        if not isinstance(values, list) or not values:
            errors.append({"field": f"grid.{key}", "message": "must be a non-empty list of values"})
    return errors


def _product(counts: Any) -> int:
    out = 1
    for count in counts:
        out *= count
    return out


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    """doc['a']['b'] = value for path 'a.b', creating (or replacing non-object) levels."""
    *parents, last = path.split(".")
    for part in parents:
        if not isinstance(doc.get(part), dict):
            doc[part] = {}
        doc = doc[part]
    doc[last] = copy.deepcopy(value)
