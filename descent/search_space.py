"""A searching sweep's `search` and `space` (API.md, "Model selection"): parsed and checked, and a
trial's parameters drawn from an Optuna trial.

Why apart from the search itself (search.py): the API checks a request's shape with no study and
no Redis, every fault named by its dotted path; the worker and the API draw a trial's overrides
from the same parsed space. Optuna only takes hashable choices, so a `choices` dimension is drawn
as an index into its list ([16] or [32, 32] as `model.hidden`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

METHODS = ("random", "tpe")
PRUNERS = ("none", "median", "hyperband")
Error = dict[str, str]


@dataclass(frozen=True)
class Dimension:
    """One override path's values: a number range (int when `low`, `high` and `step` are
    integers and not `log`) or a list of `choices`."""

    path: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] | None = None

    @property
    def integer(self) -> bool:
        return self.choices is None and all(isinstance(v, int) for v in (self.low, self.high, self.step or 1)) and not self.log

    def corners(self) -> list[Any]:
        """The values a request is checked at: the bounds, or every choice."""
        if self.choices is not None:
            return list(self.choices)
        return [self.low, self.high]

    def draw(self, trial: Any) -> Any:
        """This dimension's value for an Optuna trial."""
        if self.choices is not None:
            return self.choices[trial.suggest_categorical(self.path, list(range(len(self.choices))))]
        if self.integer:
            return trial.suggest_int(self.path, int(self.low), int(self.high), step=int(self.step or 1))
        return trial.suggest_float(self.path, float(self.low), float(self.high), log=self.log, step=self.step)


@dataclass(frozen=True)
class Search:
    """How a sweep searches: `trials` in all, at most `parallel` at once."""

    method: str
    trials: int
    parallel: int
    seed: int
    pruner: str
    space: tuple[Dimension, ...]

    def overrides(self, trial: Any) -> dict[str, Any]:
        """A trial's overrides, by dotted path."""
        return {d.path: d.draw(trial) for d in self.space}

    def corner_points(self) -> list[dict[str, Any]]:
        """Overrides the API checks as jobs before it starts: each dimension at each of its
        corners, the others at their first corner."""
        first = {d.path: d.corners()[0] for d in self.space}
        return [{**first, d.path: value} for d in self.space for value in d.corners()]


def parse(search: Any, space: Any, max_trials: int) -> tuple[Search | None, list[Error]]:
    """The parsed search, or every fault by dotted path."""
    errors: list[Error] = []
    if not isinstance(search, dict):
        return None, [{"field": "search", "message": 'must be an object such as {"method": "tpe", "trials": 30}'}]
    known = {"method", "trials", "parallel", "seed", "pruner"}
    errors += [{"field": f"search.{k}", "message": "is not a known field"} for k in sorted(set(search) - known)]
    method = search.get("method", "tpe")
    if method not in METHODS:
        errors.append({"field": "search.method", "message": f"must be one of {', '.join(METHODS)} (a grid is `grid`)"})
    trials = _integer(search, "trials", 30, 1, max_trials, errors, "DESCENT_MAX_SWEEP_CHILDREN")
    parallel = _integer(search, "parallel", 4, 1, max_trials, errors, "DESCENT_MAX_SWEEP_CHILDREN")
    seed = _integer(search, "seed", 0, 0, 2**32 - 1, errors, None)
    pruner = search.get("pruner", "none")
    if pruner not in PRUNERS:
        errors.append({"field": "search.pruner", "message": f"must be one of {', '.join(PRUNERS)}"})
    dimensions = _space(space, errors)
    if errors:
        return None, errors
    return Search(method, trials, min(parallel, trials), seed, pruner, tuple(dimensions)), []


def _integer(doc: dict[str, Any], key: str, default: int, low: int, high: int, errors: list[Error], limit: str | None) -> int:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        bound = f"{high} ({limit})" if limit else str(high)
        errors.append({"field": f"search.{key}", "message": f"must be an integer from {low} to {bound}"})
        return default
    return value


def _space(space: Any, errors: list[Error]) -> list[Dimension]:
    if not isinstance(space, dict) or not space:
        errors.append({"field": "space", "message": "is required with search: an object of dotted paths to ranges or choices"})
        return []
    out = []
    for path, spec in space.items():
        field = f"space.{path}"
        if not isinstance(spec, dict):
            errors.append({"field": field, "message": 'must be {"low", "high"} (with "log" or "step") or {"choices": [...]}'})
            continue
        if "choices" in spec:
            choices = spec["choices"]
            extra = set(spec) - {"choices"}
            if extra:
                errors.append({"field": field, "message": f"choices take no {', '.join(sorted(extra))}"})
            elif not isinstance(choices, list) or not choices:
                errors.append({"field": f"{field}.choices", "message": "must be a non-empty list of values"})
            else:
                out.append(Dimension(path, choices=tuple(choices)))
            continue
        dimension = _range(path, spec, field, errors)
        if dimension is not None:
            out.append(dimension)
    return out


def _range(path: str, spec: dict[str, Any], field: str, errors: list[Error]) -> Dimension | None:
    extra = set(spec) - {"low", "high", "log", "step"}
    if extra:
        errors.append({"field": field, "message": f"is not a known key: {', '.join(sorted(extra))}"})
        return None
    low, high, log, step = spec.get("low"), spec.get("high"), spec.get("log", False), spec.get("step")
    before = len(errors)
    for key, value in (("low", low), ("high", high)):
        if not _number(value):
            errors.append({"field": f"{field}.{key}", "message": "is required: a finite number"})
    if not isinstance(log, bool):
        errors.append({"field": f"{field}.log", "message": "must be true or false"})
    if step is not None and (not _number(step) or step <= 0):
        errors.append({"field": f"{field}.step", "message": "must be a number > 0"})
    if len(errors) > before:
        return None
    if low > high:
        errors.append({"field": field, "message": f"low ({low}) must be <= high ({high})"})
    elif log and low <= 0:
        errors.append({"field": f"{field}.low", "message": f"a log range needs low > 0 (got {low}): log(x) is undefined at 0 and below"})
    elif log and step is not None:
        errors.append({"field": f"{field}.step", "message": "a log range takes no step"})
    else:
        return Dimension(path, low, high, log, step)
    return None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
