"""From a request body to a job config with every default filled in, or every error at once.

Pydantic checks types and ranges; the checks that need the service's limits or the dataset (grid
size, rows left for each split) run after it, and all of them land in one 400 with dotted paths.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from pydantic import ValidationError

from descent.settings import Settings

from .problems import Problem, invalid
from .schemas import (
    CLASSIFICATION_LOSSES,
    DEFAULT_ADAM_LR,
    DEFAULT_BATCH_SIZE,
    DEFAULT_BETAS,
    DEFAULT_LR,
    DEFAULT_MOMENTUM,
    GRID_MISSING,
    SEARCH_LOSSES,
    JobRequest,
    LinearModel,
    MlpModel,
)

_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
}


def dotted(loc: tuple[Any, ...]) -> str:
    """('optimizer', 'grid', 'w', 0, 'steps') → 'optimizer.grid.w[0].steps'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "body"


_UNION_TAGS = {"linear", "mlp"}


def _as_sent(loc: tuple[Any, ...], body: Any) -> tuple[Any, ...]:
    """A pydantic location as the client wrote it: without the model union's tag, with `.type` for
    an unknown model type, and without the [0] of a lone grid range the validator put in a list."""
    if len(loc) > 1 and loc[0] == "model" and loc[1] in _UNION_TAGS:
        loc = (loc[0], *loc[2:])
    out: list[Any] = []
    node = body
    for part in loc:
        if isinstance(part, int) and not isinstance(node, list):
            continue  # a lone object wrapped into a list: the client sent no index
        out.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(out)


def pydantic_errors(
    exc: ValidationError, body: Any = None, ignore: frozenset[str] = frozenset()
) -> list[dict[str, str]]:
    """Field errors in the API's shape, by the dotted path of the field in `body` (the request as
    sent), but for errors of the types in `ignore`."""
    errors = []
    for err in exc.errors(include_url=False):
        if err["type"] in ignore:
            continue
        loc = _as_sent(tuple(err["loc"]), body)
        if err["type"] == "union_tag_invalid":
            loc = (*loc, "type")
        elif err["type"] == GRID_MISSING:
            loc = (*loc, "grid")
        message = _MESSAGES.get(err["type"], err["msg"])
        message = message.removeprefix("Value error, ")
        errors.append({"field": dotted(loc), "message": message})
    return errors


def parse_job_request(body: Any) -> tuple[JobRequest | None, list[dict[str, str]]]:
    """Validate the shape; the model or the list of field errors."""
    if not isinstance(body, dict):
        return None, [{"field": "body", "message": "must be a JSON object"}]
    try:
        return JobRequest.model_validate(body), []
    except ValidationError as exc:
        return None, pydantic_errors(exc, body)


ABSENT = frozenset({"missing", GRID_MISSING})
"""Error types that only say a key is absent."""


def base_errors(base: dict[str, Any]) -> list[dict[str, str]]:
    """What is wrong with a sweep's `base` on its own: it may leave out any key (the grid may give
    it), but every key it has must be valid. Paths are relative to the base."""
    try:
        JobRequest.model_validate({**base, "dataset_id": "-"})
    except ValidationError as exc:
        return pydantic_errors(exc, base, ignore=ABSENT)
    return []


def job_config(request: JobRequest, dataset: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The config the job runs with: defaults filled, limits and dataset fit checked."""
    errors: list[dict[str, str]] = []
    opt = request.optimizer
    optimizer: dict[str, Any] = {"type": opt.type}
    if opt.type == "exhaustive":
        assert opt.grid is not None
        errors += _grid_errors(request, dataset, settings)
        optimizer["grid"] = {
            "w": [r.model_dump() for r in opt.grid.w],
            "b": opt.grid.b.model_dump() if opt.grid.b else None,
        }
    else:
        default_lr = DEFAULT_ADAM_LR if opt.type == "adam" else DEFAULT_LR
        optimizer["lr"] = opt.lr if opt.lr is not None else default_lr
    if opt.type in ("minibatch", "momentum", "adam"):
        optimizer["batch_size"] = opt.batch_size or DEFAULT_BATCH_SIZE
    if opt.type == "momentum":
        optimizer["momentum"] = opt.momentum if opt.momentum is not None else DEFAULT_MOMENTUM
    if opt.type == "adam":
        optimizer["betas"] = list(opt.betas) if opt.betas is not None else list(DEFAULT_BETAS)
    errors += _target_errors(request, dataset, settings)
    if isinstance(request.model, MlpModel):
        count = mlp_parameters(dataset["features"], request.model.hidden, _outputs(request, dataset))
        if count > settings.max_mlp_parameters:
            errors.append(
                {
                    "field": "model.hidden",
                    "message": f"{count} parameters exceed DESCENT_MAX_MLP_PARAMETERS = "
                    f"{settings.max_mlp_parameters}",
                }
            )
    if request.epochs > settings.max_epochs:
        errors.append(
            {"field": "epochs", "message": f"must be <= DESCENT_MAX_EPOCHS = {settings.max_epochs}"}
        )
    if request.max_runtime_seconds > settings.max_runtime_seconds:
        errors.append(
            {
                "field": "max_runtime_seconds",
                "message": f"must be <= DESCENT_MAX_RUNTIME_SECONDS = {settings.max_runtime_seconds}",
            }
        )
    rows = dataset["rows"]
    for part in ("dev", "test"):
        fraction = getattr(request.split, part)
        if fraction > 0 and math.floor(fraction * rows) < 1:
            errors.append(
                {
                    "field": f"split.{part}",
                    "message": f"{fraction} of {rows} rows holds out no row; use a larger fraction",
                }
            )
    held = math.floor(request.split.dev * rows) + math.floor(request.split.test * rows)
    if rows - held < 1:
        errors.append({"field": "split", "message": f"leaves no training rows out of {rows}"})
    if errors:
        raise invalid(_summary(errors), errors)
    config = request.model_dump()
    config["optimizer"] = optimizer
    config["max_history_points"] = settings.max_history_points
    return config


def _grid_errors(request: JobRequest, dataset: dict[str, Any], settings: Settings) -> list[dict[str, str]]:
    """An exhaustive grid must fit the model, the dataset and the grid-size limit."""
    grid = request.optimizer.grid
    assert grid is not None
    errors = []
    if request.model.type != "linear":
        errors.append({"field": "optimizer.type", "message": "exhaustive search needs model linear"})
    if request.loss not in SEARCH_LOSSES:
        errors.append(
            {
                "field": "loss",
                "message": f"exhaustive search supports loss {', '.join(SEARCH_LOSSES)}, not {request.loss}"
                + (
                    " (its model has one output per class, a weight per class and feature; the grid "
                    "has one weight per feature)"
                    if request.loss == "cross_entropy"
                    else ""
                ),
            }
        )
    features = dataset["features"]
    if len(grid.w) not in (1, features):
        errors.append(
            {
                "field": "optimizer.grid.w",
                "message": f"give one range, or one per feature ({features}); got {len(grid.w)}",
            }
        )
    per_feature = grid.w if len(grid.w) > 1 else grid.w * features
    points = math.prod(r.steps for r in per_feature) * (grid.b.steps if grid.b else 1)
    if points > settings.max_grid_points:
        errors.append(
            {
                "field": "optimizer.grid",
                "message": f"{points} grid points exceed DESCENT_MAX_GRID_POINTS = {settings.max_grid_points}",
            }
        )
    if grid.b is not None and isinstance(request.model, LinearModel) and not request.model.bias:
        errors.append({"field": "optimizer.grid.b", "message": "the model has no bias (model.bias is false)"})
    return errors


def _target_errors(request: JobRequest, dataset: dict[str, Any], settings: Settings) -> list[dict[str, str]]:
    """Classification losses need class labels in the target column; say which values it holds."""
    if request.loss not in CLASSIFICATION_LOSSES:
        return []
    stats = dataset["stats"]
    integer = dataset.get("target_integer", False)
    seen = f"the target {dataset['target_name']!r} has values from {stats['y_min']:g} to {stats['y_max']:g}"
    if request.loss == "bce" and not (integer and stats["y_min"] >= 0 and stats["y_max"] <= 1):
        return [
            {
                "field": "loss",
                "message": f"bce needs targets 0 or 1; {seen}" + ("" if integer else ", not all integers"),
            }
        ]
    if request.loss == "cross_entropy":
        if not integer or stats["y_min"] < 0:
            return [{"field": "loss", "message": f"cross_entropy needs integer classes 0..K-1; {seen}"}]
        if stats["y_max"] + 1 > settings.max_classes:
            return [
                {
                    "field": "loss",
                    "message": f"{int(stats['y_max']) + 1} classes exceed DESCENT_MAX_CLASSES = {settings.max_classes}",
                }
            ]
    return []


def _outputs(request: JobRequest, dataset: dict[str, Any]) -> int:
    """Model outputs: one per class for cross_entropy, else one."""
    return int(dataset["stats"]["y_max"]) + 1 if request.loss == "cross_entropy" else 1


def mlp_parameters(features: int, hidden: list[int], outputs: int) -> int:
    """Weights and biases of an MLP with these layer widths."""
    widths = [features, *hidden, outputs]
    return sum(a * b + b for a, b in itertools.pairwise(widths))


def _summary(errors: list[dict[str, str]]) -> str:
    fields = ", ".join(e["field"] for e in errors)
    return f"{len(errors)} invalid field{'s' if len(errors) > 1 else ''}: {fields}"


def reject(errors: list[dict[str, str]]) -> Problem:
    """The 400 for shape errors."""
    return invalid(_summary(errors), errors)
