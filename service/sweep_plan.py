"""A sweep request checked and planned: its candidates (grid points) and, with cross-validation,
one child per candidate and fold.

Why a plan apart from the views: every fault of a sweep request is found before anything is
stored (the shape here, each child as a job against the dataset in `sweeps.py`), and the children
a sweep has follow from its request alone — the same request plans the same children.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from descent.overrides import child_request
from descent.search_space import Search, parse
from descent.settings import Settings

from .problems import invalid
from .validation import base_errors

PATH = re.compile(r"^[a-z_]+(\.[a-z_]+)*$")
"""A grid key: a dotted path into a job request, e.g. ``optimizer.lr``."""
FIELDS = {"dataset_id", "base", "grid", "validation", "search", "space"}
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
        fold = {"split.folds": folds, "split.fold": self.fold} if folds is not None else {}
        return child_request(base, dataset_id, {**self.overrides, **fold})


@dataclass(frozen=True)
class SweepPlan:
    """A checked sweep request: the job `base`, the `grid` ({} for cross-validation of `base`
    alone), and `folds` (None without cross-validation)."""

    dataset_id: str
    base: dict[str, Any]
    grid: dict[str, list[Any]]
    folds: int | None
    search: Search | None = None
    raw_search: dict[str, Any] | None = None
    """The request's `search` and `space`, as the sweep record keeps them."""

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
        if self.raw_search is not None:
            doc.update(self.raw_search)
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
    if "search" in body or "space" in body:
        return _searching(body, dataset_id, base, folds, grid, errors, settings)
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


def _searching(
    body: dict[str, Any],
    dataset_id: Any,
    base: dict[str, Any],
    folds: int | None,
    grid: Any,
    errors: list[dict[str, str]],
    settings: Settings,
) -> SweepPlan:
    """A search request (`search` and `space`), checked: not with a grid, nor (yet) with folds."""
    search, found = parse(body.get("search"), body.get("space"), settings.max_sweep_children)
    errors += found
    if grid is not None:
        pruned = isinstance(body.get("search"), dict) and body["search"].get("pruner", "none") != "none"
        message = "a grid tries every point: it has no pruner" if pruned else "give a grid or a search, not both"
        errors.append({"field": "search.pruner" if pruned else "grid", "message": message})
    if folds is not None:
        message = "a search trains each trial on one dev split; cross-validate its best_overrides in a second sweep"
        errors.append({"field": "validation", "message": message})
    if errors or search is None:
        raise invalid(f"{len(errors)} invalid field(s)", errors)
    raw = {"search": body["search"], "space": body["space"]}
    return SweepPlan(dataset_id, base, {}, None, search, raw)


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
