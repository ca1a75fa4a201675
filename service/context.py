"""Per-request access to the store, the settings and the caller's tenant, for the views."""

from __future__ import annotations

import re
from typing import Any

import orjson
from flask import current_app, g, request

from descent.settings import Settings
from descent.store import Store
from descent.store.datasets import Described

from .dataset_records import DatasetRecords
from .problems import Problem, invalid

_INTEGER = re.compile(r"-?[0-9]+")


def store() -> Store:
    return current_app.extensions["descent.store"]


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def tenant() -> str:
    """The caller's tenant, set by `service.auth` before the view runs."""
    return g.tenant


def not_found(kind: str, resource_id: str) -> Problem:
    return Problem(404, "Not found", f"No {kind} with id {resource_id!r}.", slug="not-found")


def conflict(detail: str) -> Problem:
    return Problem(409, "Conflict", detail, slug="conflict")


def json_body() -> Any:
    """The parsed JSON body; 415 for another content type, 400 for malformed JSON."""
    if not request.is_json:
        raise Problem(
            415,
            "Unsupported Media Type",
            f"Send application/json (got {request.mimetype or 'no content type'}).",
            slug="unsupported-media-type",
        )
    data = request.get_data(cache=False)
    try:
        return orjson.loads(data)
    except ValueError as exc:
        raise invalid(f"The body is not valid JSON: {exc}", [{"field": "body", "message": str(exc)}]) from exc


def int_arg(name: str, default: int, low: int, high: int | None = None) -> int:
    """An integer query parameter (decimal digits, optionally signed) within bounds, or a 400 naming it."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw):
        raise invalid(f"{name} must be an integer", [{"field": name, "message": "must be an integer"}])
    digits = raw.lstrip("-").lstrip("0")
    # Beyond 19 digits no bound can hold (and int() of thousands of digits is refused anyway).
    value = int(raw) if len(digits) <= 19 else (-1 if raw.startswith("-") else 1) * 10**20
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise invalid(f"{name} must be {bound}", [{"field": name, "message": f"must be {bound}"}])
    return value


def training_dataset(dataset_id: str, field: str = "dataset_id") -> dict[str, Any]:
    """The caller's dataset a job request names, or a 404 that points at the field."""
    dataset = store().datasets.get(tenant(), dataset_id)
    if dataset is None:
        raise _no_dataset(dataset_id, field)
    return dataset


def job_dataset(dataset_id: str, fresh: bool = False) -> tuple[Described, bool]:
    """The caller's dataset a job's POST names, as this process keeps it (service/dataset_records.py)
    or (`fresh`, or not kept) as read now, and whether it was kept; a 404 as `training_dataset`'s."""
    records: DatasetRecords = current_app.extensions["descent.dataset_records"]
    dataset, kept = records.described(store(), dataset_id, fresh)
    if dataset is None or dataset.tenant != tenant():
        raise _no_dataset(dataset_id, "dataset_id")
    return dataset, kept


def _no_dataset(dataset_id: str, field: str) -> Problem:
    return Problem(
        404,
        "Not found",
        f"No dataset with id {dataset_id!r}; upload one with POST /v1/datasets.",
        [{"field": field, "message": "no such dataset"}],
        slug="not-found",
    )
