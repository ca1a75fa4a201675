"""The API's shapes as pydantic models: they validate requests and generate `/openapi.json`.

Request models are strict (no "5" for 5, no true for 1) and forbid unknown keys, so a typo is an
error that names the field instead of a silently ignored setting. Response models document what the
views return; `service.openapi` turns all of them into the OpenAPI document.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

OPTIMIZER_TYPES = ("exhaustive", "gd", "sgd", "minibatch", "momentum", "adam")
LOSSES = ("mse", "mae", "huber", "bce", "cross_entropy")
CLASSIFICATION_LOSSES = ("bce", "cross_entropy")
ACTIVATIONS = ("relu", "sigmoid", "tanh", "identity")

DEFAULT_LR = 0.01
DEFAULT_ADAM_LR = 0.001
DEFAULT_BATCH_SIZE = 32
DEFAULT_MOMENTUM = 0.9
DEFAULT_BETAS = (0.9, 0.999)
MAX_HIDDEN_LAYERS = 8
MAX_LAYER_WIDTH = 4096

Finite = Field(allow_inf_nan=False)


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class LinearModel(Strict):
    """ŷ = w·x + b; `bias: false` gives ŷ = w·x."""

    type: Literal["linear"] = "linear"
    bias: bool = True


class MlpModel(Strict):
    """A multi-layer perceptron: linear layers with `activation` between them."""

    type: Literal["mlp"]
    hidden: list[int] = Field(
        default_factory=lambda: [16],
        min_length=1,
        max_length=MAX_HIDDEN_LAYERS,
        description="widths of the hidden layers",
    )
    activation: Literal["relu", "sigmoid", "tanh", "identity"] = "relu"

    @field_validator("hidden")
    @classmethod
    def _widths(cls, value: list[int]) -> list[int]:
        for width in value:
            if not 1 <= width <= MAX_LAYER_WIDTH:
                raise ValueError(f"every width must be between 1 and {MAX_LAYER_WIDTH}")
        return value


class Range(Strict):
    """Evenly spaced grid values from `min` to `max` inclusive."""

    min: float = Field(allow_inf_nan=False)
    max: float = Field(allow_inf_nan=False)
    steps: int = Field(ge=1, description="number of grid values; 1 gives just `min`")

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.max < self.min:
            raise ValueError("max must be >= min")
        return self


class Grid(Strict):
    """The exhaustive search grid, in the dataset's original units."""

    w: list[Range] = Field(
        description="one range for every feature, or a list with one range per feature", min_length=1
    )
    b: Range | None = Field(None, description="bias range; without it the bias is fixed at 0")

    @field_validator("w", mode="before")
    @classmethod
    def _one_range(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value


class Optimizer(Strict):
    """Keys that do not apply to `type` are accepted and ignored, so a sweep can vary the type."""

    type: Literal["exhaustive", "gd", "sgd", "minibatch", "momentum", "adam"]
    lr: float | Literal["auto"] | None = Field(
        None,
        description=f'learning rate > 0, or "auto" (default {DEFAULT_LR}; {DEFAULT_ADAM_LR} for adam)',
    )
    batch_size: int | None = Field(None, ge=1, description=f"minibatch size ({DEFAULT_BATCH_SIZE})")
    momentum: float | None = Field(
        None, ge=0, lt=1, allow_inf_nan=False, description=f"momentum's β ({DEFAULT_MOMENTUM})"
    )
    betas: list[float] | None = Field(
        None, min_length=2, max_length=2, description=f"adam's (β1, β2) ({list(DEFAULT_BETAS)})"
    )
    grid: Grid | None = Field(None, description="exhaustive only, and required there")

    @field_validator("lr", mode="before")
    @classmethod
    def _lr(cls, value: Any) -> Any:
        if value is None or value == "auto":
            return value
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or value <= 0:
            raise ValueError('must be a number > 0 or "auto"')
        return float(value)

    @field_validator("betas")
    @classmethod
    def _betas(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and not all(0 <= b < 1 for b in value):
            raise ValueError("each beta must be in [0, 1)")
        return value

    @model_validator(mode="after")
    def _grid_for_exhaustive(self) -> Optimizer:
        if self.type == "exhaustive" and self.grid is None:
            raise ValueError("`grid` is required for the exhaustive optimizer")
        return self


class Split(Strict):
    """Fractions of the rows held out (by a shuffle seeded with `seed`)."""

    dev: float = Field(0.0, ge=0, lt=1, allow_inf_nan=False)
    test: float = Field(0.0, ge=0, lt=1, allow_inf_nan=False)

    @model_validator(mode="after")
    def _leaves_training(self) -> Split:
        if self.dev + self.test >= 1:
            raise ValueError("dev + test must be < 1 to leave rows for training")
        return self


class EarlyStopping(Strict):
    patience: int = Field(10, ge=1)
    min_delta: float = Field(0.0, ge=0, allow_inf_nan=False)


class JobRequest(Strict):
    """`POST /v1/jobs`. Only `dataset_id` and `optimizer` are required."""

    dataset_id: str = Field(min_length=1, max_length=100)
    model: LinearModel | MlpModel = Field(default_factory=LinearModel, discriminator="type")
    loss: Literal["mse", "mae", "huber", "bce", "cross_entropy"] = "mse"
    optimizer: Optimizer
    epochs: int = Field(100, ge=1)
    tolerance: float = Field(1e-7, ge=0, allow_inf_nan=False)
    split: Split = Field(default_factory=Split)
    early_stopping: EarlyStopping | None = None
    smoothing: float = Field(0.4, gt=0, le=1, allow_inf_nan=False)
    standardize: bool = True
    seed: int = Field(0, ge=0, le=2**63 - 1)
    max_runtime_seconds: float = Field(3600, gt=0, allow_inf_nan=False)

    @field_validator("model", mode="before")
    @classmethod
    def _model_type_defaults_to_linear(cls, value: Any) -> Any:
        if isinstance(value, dict) and "type" not in value:
            return {**value, "type": "linear"}
        return value


# -- responses (documentation; the views build plain dicts of these shapes) ---------------------


class FieldError(BaseModel):
    field: str
    message: str


class ProblemDoc(BaseModel):
    """application/problem+json (RFC 9457)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


class DatasetStats(BaseModel):
    x_mean: list[float]
    x_std: list[float]
    y_mean: float
    y_std: float
    y_min: float
    y_max: float


class DatasetResource(BaseModel):
    id: str
    name: str
    rows: int
    features: int
    feature_names: list[str]
    target_name: str
    created_at: str
    bytes: int
    stats: DatasetStats
    target_integer: bool = Field(description="every target value is a whole number (class labels)")


class DatasetList(BaseModel):
    datasets: list[DatasetResource]
    next_cursor: str | None


class DatasetJson(BaseModel):
    """The two JSON forms of a dataset upload: `x`/`y`, or `columns`/`rows`/`target`."""

    name: str | None = None
    x: list[list[float]] | None = None
    y: list[float] | None = None
    columns: list[str] | None = None
    rows: list[list[float]] | None = None
    target: str | int | None = None


class Progress(BaseModel):
    epoch: int
    epochs: int
    step: int
    fraction: float


class LinearParams(BaseModel):
    """ŷ = x·w + b in original units; for cross_entropy one row of weights and one bias per class."""

    weights: list[float] | list[list[float]]
    bias: float | list[float]


class Layer(BaseModel):
    """One MLP layer in nn.Linear's convention: output = input · weightᵀ + bias."""

    weight: list[list[float]]
    bias: list[float]


class Result(BaseModel):
    model_config = ConfigDict(extra="allow")

    outcome: Literal["converged", "max_epochs", "early_stopped", "searched"]
    params: LinearParams | list[Layer]
    train_loss: float | None
    dev_loss: float | None
    test_loss: float | None
    r2: float | None
    accuracy: float | None
    epochs_run: int
    steps: int
    seconds: float


class JobError(BaseModel):
    type: Literal["diverged", "timeout", "worker_lost", "invalid_data", "internal"]
    message: str


class JobResource(BaseModel):
    id: str
    dataset_id: str
    sweep_id: str | None
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    config: dict[str, Any]
    progress: Progress
    metrics: dict[str, float | int | None]
    result: Result | None
    error: JobError | None
    attempt: int
    created_at: str
    started_at: str | None
    finished_at: str | None


class JobList(BaseModel):
    jobs: list[JobResource]
    next_cursor: str | None


class TrainSeries(BaseModel):
    step: list[int]
    epoch: list[int]
    loss: list[float | None]
    smoothed: list[float | None]


class DevSeries(BaseModel):
    step: list[int]
    epoch: list[int]
    loss: list[float | None]


class History(BaseModel):
    train: TrainSeries
    dev: DevSeries
    next: int
    complete: bool


class Surface(BaseModel):
    axes: dict[str, list[float]]
    cost: list[Any] = Field(description="nested lists, one level per axis, in the order of `axes`")


class Health(BaseModel):
    status: Literal["ok"]


class PredictRequest(BaseModel):
    """Raw feature rows, in the dataset's original units and column order."""

    x: list[list[float]]


class Prediction(BaseModel):
    y: list[float]
    probability: list[float] | list[list[float]] | None = Field(
        None,
        description="classifiers only: P(y = 1) per row (bce), class probabilities per row (cross_entropy)",
    )


class ModelExport(BaseModel):
    """A trained model: apply `params` to raw features, then `output` (identity, sigmoid or softmax)."""

    job_id: str
    model: dict[str, Any]
    loss: str
    output: Literal["identity", "sigmoid", "softmax"]
    feature_names: list[str] | None
    target_name: str | None
    standardization: str
    params: LinearParams | list[Layer]


class SweepRequest(BaseModel):
    """`grid` maps dotted paths of a job request to the values to try; one job per combination."""

    dataset_id: str
    base: dict[str, Any] = Field(default_factory=dict, description="a job request without dataset_id")
    grid: dict[str, list[Any]]


class SweepJob(BaseModel):
    id: str
    overrides: dict[str, Any]
    status: str
    train_loss: float | None
    dev_loss: float | None
    seconds: float | None
    error: JobError | None


class SweepResource(BaseModel):
    id: str
    dataset_id: str
    status: Literal["running", "done"]
    ranked_by: Literal["dev_loss", "train_loss"]
    best_job_id: str | None
    counts: dict[str, int]
    jobs: list[SweepJob]
    base: dict[str, Any]
    grid: dict[str, list[Any]]
    created_at: str
