"""From a request body to a job config with every default filled in, or every error at once.

The job spec (descent.spec) says what is valid: pydantic checks types and ranges, then its rules
that need the service's limits or the dataset (grid size, rows left for each split) run, and all
of them land in one 400 with dotted paths. This module turns them into the API's errors.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from descent.settings import Settings
from descent.spec import MISSING_FOR_TYPE, MODEL_TYPES, SCHEDULE_TYPES, DatasetFacts, JobRequest, job_errors

from .problems import Problem, invalid

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


_UNION_TAGS: dict[tuple[str, ...], frozenset[str]] = {
    ("model",): frozenset(MODEL_TYPES),
    ("optimizer", "schedule"): frozenset(SCHEDULE_TYPES),
}
"""Where the spec has a union told apart by `type`, and its tags: pydantic puts the tag into error
locations (`optimizer.schedule.step.gamma`); a client never wrote it."""


def _as_sent(loc: tuple[Any, ...], body: Any) -> tuple[Any, ...]:
    """A pydantic location as the client wrote it: without a union's tag, with `.type` for an
    unknown type of a union, and without the [0] of a lone grid range the validator put in a list."""
    for where, tags in _UNION_TAGS.items():
        n = len(where)
        if len(loc) > n and loc[:n] == where and loc[n] in tags:
            loc = (*where, *loc[n + 1 :])
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
        elif err["type"] == MISSING_FOR_TYPE:
            loc = (*loc, err["ctx"]["field"])
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


ABSENT = frozenset({"missing", MISSING_FOR_TYPE})
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
    """The config the job runs with, as stored and shown: the request resolved (descent.spec), once
    its rules across fields, its fit to the dataset and the service's limits are checked."""
    errors = job_errors(request, DatasetFacts.of(dataset), settings)
    if errors:
        raise invalid(_summary(errors), errors)
    # python mode: a default keeps the type it is written with (3600, where a sent 3600 is 3600.0)
    return request.resolve(settings.max_history_points).model_dump()


def _summary(errors: list[dict[str, str]]) -> str:
    fields = ", ".join(e["field"] for e in errors)
    return f"{len(errors)} invalid field{'s' if len(errors) > 1 else ''}: {fields}"


def reject(errors: list[dict[str, str]]) -> Problem:
    """The 400 for shape errors."""
    return invalid(_summary(errors), errors)
