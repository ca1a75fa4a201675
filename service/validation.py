"""From a request body to a job config with every default filled in, or every error at once.

Pydantic checks types and ranges; the checks that need the service's limits or the dataset (grid
size, rows left for each split) run after it, and all of them land in one 400 with dotted paths.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import ValidationError

from descent.settings import Settings

from .problems import Problem, invalid
from .schemas import DEFAULT_BATCH_SIZE, DEFAULT_LR, JobRequest

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


def pydantic_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Field errors in the API's shape."""
    errors = []
    for err in exc.errors(include_url=False):
        message = _MESSAGES.get(err["type"], err["msg"])
        message = message.removeprefix("Value error, ")
        errors.append({"field": dotted(tuple(err["loc"])), "message": message})
    return errors


def parse_job_request(body: Any) -> tuple[JobRequest | None, list[dict[str, str]]]:
    """Validate the shape; the model or the list of field errors."""
    if not isinstance(body, dict):
        return None, [{"field": "body", "message": "must be a JSON object"}]
    try:
        return JobRequest.model_validate(body), []
    except ValidationError as exc:
        return None, pydantic_errors(exc)


def job_config(request: JobRequest, dataset: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The config the job runs with: defaults filled, limits and dataset fit checked."""
    errors: list[dict[str, str]] = []
    opt = request.optimizer
    optimizer: dict[str, Any] = {"type": opt.type}
    if opt.type == "exhaustive":
        assert opt.grid is not None
        w = opt.grid.w
        if len(w) not in (1, dataset["features"]):
            errors.append(
                {
                    "field": "optimizer.grid.w",
                    "message": f"give one range, or one per feature ({dataset['features']}); got {len(w)}",
                }
            )
        per_feature = w if len(w) > 1 else w * dataset["features"]
        points = math.prod(r.steps for r in per_feature) * (opt.grid.b.steps if opt.grid.b else 1)
        if points > settings.max_grid_points:
            errors.append(
                {
                    "field": "optimizer.grid",
                    "message": f"{points} grid points exceed DESCENT_MAX_GRID_POINTS = "
                    f"{settings.max_grid_points}",
                }
            )
        if opt.grid.b is not None and not request.model.bias:
            errors.append(
                {"field": "optimizer.grid.b", "message": "the model has no bias (model.bias is false)"}
            )
        optimizer["grid"] = {
            "w": [r.model_dump() for r in w],
            "b": opt.grid.b.model_dump() if opt.grid.b else None,
        }
    else:
        optimizer["lr"] = opt.lr if opt.lr is not None else DEFAULT_LR
    if opt.type == "minibatch":
        optimizer["batch_size"] = opt.batch_size or DEFAULT_BATCH_SIZE
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


def _summary(errors: list[dict[str, str]]) -> str:
    fields = ", ".join(e["field"] for e in errors)
    return f"{len(errors)} invalid field{'s' if len(errors) > 1 else ''}: {fields}"


def reject(errors: list[dict[str, str]]) -> Problem:
    """The 400 for shape errors."""
    return invalid(_summary(errors), errors)
