"""Rules that relate fields, and rules that need the dataset or the service's limits.

Pydantic checks each field on its own (and the few rules inside one object: `max >= min`,
`dev + test < 1`); these need more than one part of the job, the dataset it trains on, or the
DESCENT_MAX_* settings. They return every fault as `{"field": dotted path, "message": ...}`, so the
service puts them into one 400 next to each other; `JobConfig` refuses a config that breaks the
ones that need no dataset (`search_errors`, `schedule_errors`), so the engine never gets one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from descent.preprocess.encoders import DATETIME_PARTS
from descent.settings import Settings
from descent.table import FEATURE_KINDS

from .names import CLASSIFICATION_LOSSES, SEARCH_LOSSES
from .optimizer import SEARCH_TYPES

if TYPE_CHECKING:
    from .job import JobRequest


class FieldError(TypedDict):
    """One invalid field, as the API's problem+json lists it."""

    field: str
    message: str


@dataclass(frozen=True)
class ColumnFacts:
    """A column as the dataset resource's `columns` summarizes it (API.md, "Real-world datasets")."""

    name: str
    kind: str
    distinct: int
    missing: int = 0
    values: tuple[Any, ...] | None = None
    """Its distinct values when the summary lists them all (a category's), else None."""

    @classmethod
    def of(cls, summary: Mapping[str, Any]) -> ColumnFacts:
        listed = summary.get("categories")
        values = None
        if listed is not None and len(listed) == summary["distinct"]:
            values = tuple(c["value"] if isinstance(c, Mapping) else c for c in listed)
        elif summary["kind"] == "number" and summary["distinct"] <= 2 and summary.get("min") is not None:
            values = tuple(dict.fromkeys((summary["min"], summary["max"])))
        return cls(summary["name"], summary["kind"], summary["distinct"], summary.get("missing", 0), values)


@dataclass(frozen=True)
class DatasetFacts:
    """What the rules need of a dataset: its size, its columns and what its target holds."""

    rows: int
    features: int
    target_name: str
    y_min: float | None = None
    y_max: float | None = None
    target_integer: bool = False
    """Every target value is a whole number."""
    columns: tuple[ColumnFacts, ...] = ()
    """Each column's kind and distinct values; empty for a dataset stored before columns had kinds
    (its features and target are numbers: the rules read `y_min`, `y_max`, `target_integer`)."""

    @classmethod
    def of(cls, resource: Mapping[str, Any]) -> DatasetFacts:
        """From a dataset resource as the API shows it (GET /v1/datasets/{id})."""
        stats = resource.get("stats") or {}
        return cls(
            rows=resource["rows"],
            features=resource["features"],
            target_name=resource["target_name"],
            y_min=stats.get("y_min"),
            y_max=stats.get("y_max"),
            target_integer=resource.get("target_integer", False),
            columns=tuple(ColumnFacts.of(c) for c in resource.get("columns") or ()),
        )

    def column(self, name: str) -> ColumnFacts | None:
        return next((c for c in self.columns if c.name == name), None)


def job_errors(job: JobRequest, dataset: DatasetFacts, settings: Settings) -> list[FieldError]:
    """Every rule a valid request must also keep to train on `dataset` under `settings`."""
    return [
        *search_errors(job),
        *schedule_errors(job),
        *grid_errors(job, dataset, settings),
        *target_errors(job, dataset, settings),
        *size_errors(job, dataset, settings),
        *split_errors(job, dataset),
        *positive_errors(job, dataset),
        *feature_errors(job, dataset),
    ]


def positive_errors(job: JobRequest, dataset: DatasetFacts) -> list[FieldError]:
    """`positive` names one of a bce target's two classes; no other loss has a positive class."""
    if job.positive is None:
        return []
    if job.loss != "bce":
        return [{"field": "positive", "message": f"only bce has a positive class, not {job.loss}"}]
    target = dataset.column(dataset.target_name)
    values = target.values if target is not None else (dataset.y_min, dataset.y_max)
    if values is None or any(_same(job.positive, v) for v in values):
        return []
    shown = ", ".join(repr(v) for v in values)
    return [{"field": "positive", "message": f"{job.positive!r} is not a value of the target ({shown})"}]


def _same(given: Any, value: Any) -> bool:
    """`positive` names a value: equal (a boolean only to a boolean), or equal as text ("1" for 1)."""
    if isinstance(given, bool) or isinstance(value, bool):
        return given is value or str(given).lower() == str(value).lower()
    if given == value:
        return True
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    return str(given) == text


def feature_errors(job: JobRequest, dataset: DatasetFacts) -> list[FieldError]:
    """`include` and `exclude` name columns of the dataset; `include` names usable feature columns."""
    names = [c.name for c in dataset.columns]
    if not names:
        return []
    errors: list[FieldError] = []
    for key, given in (("include", job.features.include or []), ("exclude", job.features.exclude)):
        unknown = [n for n in given if n not in names]
        if unknown:
            shown = ", ".join(repr(n) for n in unknown[:10])
            errors.append({"field": f"features.{key}", "message": f"no column named {shown}"})
    for name in job.features.include or []:
        col = dataset.column(name)
        if name == dataset.target_name:
            errors.append({"field": "features.include", "message": f"{name!r} is the target"})
        elif col is not None and col.kind not in FEATURE_KINDS:
            message = f"{name!r} is a {col.kind} column (names, ids): it cannot be a feature"
            errors.append({"field": "features.include", "message": message})
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
    for key in STEP_KEYS:
        if getattr(opt, key, None) not in (None, 0):
            message = f"exhaustive search makes no gradient steps: it takes no {key}"
            errors.append({"field": f"optimizer.{key}", "message": message})
    return errors


STEP_KEYS = ("weight_decay", "clip_norm", "schedule")
"""Optimizer keys about gradient steps that a request could send with exhaustive search, where
they would mean nothing (the other keys of other types are ignored, so that a sweep can vary the
type; these change what a job does, so sending one with the search is a mistake worth a 400)."""


def schedule_errors(job: JobRequest) -> list[FieldError]:
    """A plateau schedule watches the dev loss: the job needs a dev split (`split.dev` > 0, or a
    cross-validation fold). Refused rather than read off the training loss, which would be a
    different schedule than the one asked for."""
    schedule = getattr(job.optimizer, "schedule", None)
    if job.optimizer.type in SEARCH_TYPES or schedule is None or schedule.type != "plateau":
        return []
    if job.split.dev > 0 or job.split.folds is not None:
        return []
    message = "plateau steps on the dev loss: hold out a dev split (split.dev > 0)"
    return [{"field": "optimizer.schedule", "message": message}]


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
    """Regression needs a number target; bce a target with two distinct values, cross_entropy one
    with 2..DESCENT_MAX_CLASSES (API.md, "Preprocessing"). A dataset stored before columns had kinds
    is held to the rules of its time: 0/1 for bce, classes 0..K-1 for cross_entropy."""
    target = dataset.column(dataset.target_name)
    if target is not None:
        return _typed_target_errors(job, target, settings)
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


def _typed_target_errors(job: JobRequest, target: ColumnFacts, settings: Settings) -> list[FieldError]:
    name, distinct = target.name, target.distinct
    if target.kind not in ("number", "category"):
        return [{"field": "dataset_id", "message": f"the target {name!r} is {target.kind}: it cannot be learned"}]
    if job.loss not in CLASSIFICATION_LOSSES:
        if target.kind != "number":
            message = f"{job.loss} needs a number target; {name!r} is a category (use bce or cross_entropy)"
            return [{"field": "loss", "message": message}]
        return []
    if job.loss == "bce" and distinct != 2:
        message = f"bce needs a target with two distinct values; {name!r} has {distinct}"
        return [{"field": "loss", "message": message + (" (use cross_entropy)" if distinct > 2 else "")}]
    if distinct < 2:
        return [{"field": "loss", "message": f"{job.loss} needs 2 or more classes; {name!r} has {distinct}"}]
    if distinct > settings.max_classes:
        message = f"{distinct} classes exceed DESCENT_MAX_CLASSES = {settings.max_classes}"
        return [{"field": "loss", "message": message}]
    return []


def size_errors(job: JobRequest, dataset: DatasetFacts, settings: Settings) -> list[FieldError]:
    """The limits on the work one job may ask for: MLP size, epochs, run time."""
    errors: list[FieldError] = []
    if job.model.type == "mlp":
        outputs = classes(dataset) if job.loss == "cross_entropy" else 1
        count = mlp_parameters(encoded_width(job, dataset), job.model.hidden, outputs)
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
    elif job.split.folds is not None and job.split.folds > rows - held:
        message = f"{job.split.folds} folds of {rows - held} rows (those not in test) leave a fold empty"
        errors.append({"field": "split.folds", "message": message})
    else:
        folds = job.split.folds or 1
        rest = rows - held
        train = rest - (-(-rest // folds) if folds > 1 else 0)  # when the largest fold is dev
        if train_rows(train, job.data.train_fraction) < 1:
            message = f"{job.data.train_fraction} of {train} training rows is no row; use a larger fraction"
            errors.append({"field": "data.train_fraction", "message": message})
    return errors


def train_rows(rows: int, fraction: float) -> int:
    """The training rows a job learns from: `fraction` of the split's `rows`, rounded down (the
    engine draws exactly this many)."""
    return rows if fraction >= 1 else math.floor(fraction * rows + 1e-9)


def classes(dataset: DatasetFacts) -> int:
    """K of a cross_entropy target: its distinct values, or for a dataset stored before columns had
    kinds, K of classes 0..K-1."""
    target = dataset.column(dataset.target_name)
    if target is not None:
        return target.distinct
    return int(dataset.y_max or 0) + 1


def encoded_width(job: JobRequest, dataset: DatasetFacts) -> int:
    """The most features the job's preprocessing can make of the dataset: a number is one (two with
    its missing indicator), a category one per kept value and one for the rest, a datetime 5 parts."""
    if not dataset.columns:
        return dataset.features
    chosen = job.features.include
    width = 0
    for col in dataset.columns:
        usable = col.kind in FEATURE_KINDS and col.name != dataset.target_name
        if not usable or col.name in job.features.exclude or (chosen is not None and col.name not in chosen):
            continue
        indicator = 1 if job.features.missing_indicator and col.missing else 0
        if col.kind == "category":
            width += min(col.distinct + (col.missing > 0), job.features.max_categories) + 1
        elif col.kind == "datetime":
            width += len(DATETIME_PARTS) * (1 + indicator)
        else:
            width += 1 + indicator
    return width


def mlp_parameters(features: int, hidden: list[int], outputs: int) -> int:
    """Weights and biases of an MLP with these layer widths."""
    widths = [features, *hidden, outputs]
    return sum(a * b + b for a, b in itertools.pairwise(widths))
