"""The sweep resources' response schemas (GET /v1/sweeps and /v1/sweeps/{id}): a sweep's children,
its cross-validation candidates and a search's trials. Apart from schemas.py only for size; the
OpenAPI components (openapi/components.py) take them from here."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from .schema_base import Exact
from .schemas import JobError, Timestamp, absent


class SweepJob(Exact):
    id: str
    overrides: dict[str, Any] = Field(description="the grid values of this child, by dotted path")
    status: Literal["queued", "running", "succeeded", "failed", "cancelled", "missing"] = Field(
        description="`missing` once the child job has expired or was deleted"
    )
    train_loss: float | None
    dev_loss: float | None
    seconds: float | None
    error: JobError | None
    fold: int | None = absent(ge=0, description="cross-validation: the child's dev fold")
    train_rows: int = absent(ge=1, description="rows the child trained on, once it succeeded")
    trial: int = absent(ge=0, description="a search: the child's trial number")
    outcome: str = absent(description="once it succeeded: its result's outcome (`pruned`: a search's pruner ended it)")


class SearchTrials(Exact):
    started: int = Field(ge=0)
    total: int = Field(ge=1)
    pruned: int = Field(ge=0)


class Validation(Exact):
    folds: int = Field(ge=2, description="each candidate trains once per fold, that fold as its dev split")


class Candidate(Exact):
    """A grid point under cross-validation: its folds' dev losses summed up once all succeeded."""

    overrides: dict[str, Any] = Field(description="the grid values of this candidate, by dotted path")
    folds: int = Field(ge=2)
    succeeded: int = Field(ge=0, description="folds that succeeded so far")
    mean_dev_loss: float | None = Field(description="the mean over the folds; null until every fold succeeded")
    std_dev_loss: float | None = Field(description="their population standard deviation (numpy's default)")
    metrics: dict[str, float] = Field(description="the mean over the folds of each dev metric")
    job_ids: list[str] = Field(description="the children, fold 0 first")


class SweepResource(Exact):
    id: str
    dataset_id: str
    status: Literal["running", "done"]
    ranked_by: Literal["dev_loss", "train_loss"]
    best_job_id: str | None
    counts: dict[
        Literal["queued", "running", "succeeded", "failed", "cancelled", "missing"],
        Annotated[int, Field(ge=1)],
    ]
    jobs: list[SweepJob] = Field(description="succeeded children ranked by `ranked_by`, then the rest")
    base: dict[str, Any]
    grid: dict[str, list[Any]] = Field(description="{} for cross-validation of `base` alone")
    created_at: Timestamp
    validation: Validation = absent()
    candidates: list[Candidate] = absent(description="cross-validation: ranked by mean_dev_loss")
    best_overrides: dict[str, Any] | None = absent(
        description="cross-validation: the best candidate's; a search: the best trial's"
    )
    search: dict[str, Any] = absent(description="a search: its `search` as requested")
    space: dict[str, Any] = absent(description="a search: its `space` as requested")
    trials: SearchTrials = absent(description="a search: trials started, in all, pruned")
    epochs_saved: int = absent(ge=0, description="a search: epochs its pruned trials did not run")


class SweepSummary(Exact):
    """A sweep in the list: its resource without children, candidates, base and grid."""

    id: str
    dataset_id: str
    status: Literal["running", "done"]
    ranked_by: Literal["dev_loss", "train_loss"]
    best_job_id: str | None
    counts: dict[
        Literal["queued", "running", "succeeded", "failed", "cancelled", "missing"],
        Annotated[int, Field(ge=1)],
    ]
    created_at: Timestamp
    validation: Validation = absent()
    best_overrides: dict[str, Any] | None = absent()
    search: dict[str, Any] = absent()
    trials: SearchTrials = absent()
    epochs_saved: int = absent(ge=0)


class SweepList(Exact):
    sweeps: list[SweepSummary]
    next_cursor: str | None = Field(description="the `cursor` of the next page; null on the last page")
