"""Rules that relate fields, and rules that need the dataset or the service's limits.

Pydantic checks each field on its own (and the few rules inside one object: `max >= min`,
`dev + test < 1`); these need more than one part of the job, the dataset it trains on, or the
DESCENT_MAX_* settings. They return every fault as `{"field": dotted path, "message": ...}`, so the
service puts them into one 400 next to each other; `JobConfig` refuses a config that breaks the
ones that need no dataset (`search_errors`), so the engine never gets one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from descent.settings import Settings

from .names import SEARCH_LOSSES
from .optimizer import SEARCH_TYPES

if TYPE_CHECKING:
    from .job import JobRequest


class FieldError(TypedDict):
    """One invalid field, as the API's problem+json lists it."""

    field: str
    message: str


@dataclass(frozen=True)
class DatasetFacts:
    """What the rules need of a dataset: its size and what its target column holds."""

    rows: int
    features: int
    target_name: str
    y_min: float
    y_max: float
    target_integer: bool
    """Every target value is a whole number."""

    @classmethod
    def of(cls, resource: Mapping[str, Any]) -> DatasetFacts:
        """From a dataset resource as the API shows it (GET /v1/datasets/{id})."""
        stats = resource["stats"]
        return cls(
            rows=resource["rows"],
            features=resource["features"],
            target_name=resource["target_name"],
            y_min=stats["y_min"],
            y_max=stats["y_max"],
            target_integer=resource.get("target_integer", False),
        )


def job_errors(job: JobRequest, dataset: DatasetFacts, settings: Settings) -> list[FieldError]:
    """Every rule a valid request must also keep to train on `dataset` under `settings`."""
    return [
        *search_errors(job),
        *grid_errors(job, dataset, settings),
        *target_errors(job, dataset, settings),
        *size_errors(job, dataset, settings),
        *split_errors(job, dataset),
        *positive_errors(job),
    ]


def positive_errors(job: JobRequest) -> list[FieldError]:
    """`positive` names one of a bce target's two classes; no other loss has a positive class."""
    errors: list[FieldError] = []
    if job.positive is not None and job.loss != "bce":
        errors.append({"field": "positive", "message": f"only bce has a positive class, not {job.loss}"})
    # Until the worker applies them (issue 11 in progress): options other than the defaults are refused.
    if job.features.include is not None or job.features.exclude:
        errors.append({"field": "features", "message": "choosing columns is not available yet"})
    if job.positive is not None and job.loss == "bce":
        errors.append({"field": "positive", "message": "naming the positive class is not available yet"})
    return errors


def search_errors(job: JobRequest) -> list[FieldError]:
    """Exhaustive search evaluates a one-output linear model's cost surface over a grid."""
    opt = job.optimizer
    if opt.type not in SEARCH_TYPES:
        return []
    errors: list[FieldError] = []
    if job.model.type != "linear":
        errors.append({"field": "optimizer.type", "message": "exhaustive search needs model linear"})
    if job.loss not in SEARCH_LOSSES:
        why = (
            " (its model has one output per class, a weight per class and feature; the grid has one "
            "weight per feature)"
            if job.loss == "cross_entropy"
            else ""
        )
        message = f"exhaustive search supports loss {', '.join(SEARCH_LOSSES)}, not {job.loss}{why}"
        errors.append({"field": "loss", "message": message})
    if opt.grid is not None and opt.grid.b is not None and not getattr(job.model, "bias", True):
        errors.append({"field": "optimizer.grid.b", "message": "the model has no bias (model.bias is false)"})
    return errors


def grid_errors(job: JobRequest, dataset: DatasetFacts, settings: Settings) -> list[FieldError]:
    """An exhaustive grid has one range or one per feature, and at most DESCENT_MAX_GRID_POINTS."""
    grid = job.optimizer.grid if job.optimizer.type in SEARCH_TYPES else None
    if grid is None:
        return []
    errors: list[FieldError] = []
    features = dataset.features
    if len(grid.w) not in (1, features):
        message = f"give one range, or one per feature ({features}); got {len(grid.w)}"
        errors.append({"field": "optimizer.grid.w", "message": message})
    per_feature = grid.w if len(grid.w) > 1 else grid.w * features
    points = math.prod(r.steps for r in per_feature) * (grid.b.steps if grid.b else 1)
    if points > settings.max_grid_points:
        message = f"{points} grid points exceed DESCENT_MAX_GRID_POINTS = {settings.max_grid_points}"
        errors.append({"field": "optimizer.grid", "message": message})
    return errors


def target_errors(job: JobRequest, dataset: DatasetFacts, settings: Settings) -> list[FieldError]:
    """Classification losses need class labels in the target column; say which values it holds."""
    seen = f"the target {dataset.target_name!r} has values from {dataset.y_min:g} to {dataset.y_max:g}"
    integer = dataset.target_integer
    if job.loss == "bce" and not (integer and dataset.y_min >= 0 and dataset.y_max <= 1):
        message = f"bce needs targets 0 or 1; {seen}" + ("" if integer else ", not all integers")
        return [{"field": "loss", "message": message}]
    if job.loss == "cross_entropy":
        if not integer or dataset.y_min < 0:
            return [{"field": "loss", "message": f"cross_entropy needs integer classes 0..K-1; {seen}"}]
        if classes(dataset) > settings.max_classes:
            message = f"{classes(dataset)} classes exceed DESCENT_MAX_CLASSES = {settings.max_classes}"
            return [{"field": "loss", "message": message}]
    return []


def size_errors(job: JobRequest, dataset: DatasetFacts, settings: Settings) -> list[FieldError]:
    """The limits on the work one job may ask for: MLP size, epochs, run time."""
    errors: list[FieldError] = []
    if job.model.type == "mlp":
        outputs = classes(dataset) if job.loss == "cross_entropy" else 1
        count = mlp_parameters(dataset.features, job.model.hidden, outputs)
        if count > settings.max_mlp_parameters:
            message = f"{count} parameters exceed DESCENT_MAX_MLP_PARAMETERS = {settings.max_mlp_parameters}"
            errors.append({"field": "model.hidden", "message": message})
    if job.epochs > settings.max_epochs:
        errors.append(
            {"field": "epochs", "message": f"must be <= DESCENT_MAX_EPOCHS = {settings.max_epochs}"}
        )
    if job.max_runtime_seconds > settings.max_runtime_seconds:
        message = f"must be <= DESCENT_MAX_RUNTIME_SECONDS = {settings.max_runtime_seconds}"
        errors.append({"field": "max_runtime_seconds", "message": message})
    return errors


def split_errors(job: JobRequest, dataset: DatasetFacts) -> list[FieldError]:
    """Each fraction > 0 holds out at least one row, and at least one row is left for training."""
    rows = dataset.rows
    errors: list[FieldError] = []
    for part in ("dev", "test"):
        fraction = getattr(job.split, part)
        if fraction > 0 and math.floor(fraction * rows) < 1:
            message = f"{fraction} of {rows} rows holds out no row; use a larger fraction"
            errors.append({"field": f"split.{part}", "message": message})
    held = math.floor(job.split.dev * rows) + math.floor(job.split.test * rows)
    if rows - held < 1:
        errors.append({"field": "split", "message": f"leaves no training rows out of {rows}"})
    return errors


def classes(dataset: DatasetFacts) -> int:
    """K of a cross_entropy target holding classes 0..K-1."""
    return int(dataset.y_max) + 1


def mlp_parameters(features: int, hidden: list[int], outputs: int) -> int:
    """Weights and biases of an MLP with these layer widths."""
    widths = [features, *hidden, outputs]
    return sum(a * b + b for a, b in itertools.pairwise(widths))
