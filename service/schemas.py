"""The API's shapes as pydantic models: they validate requests and generate `/openapi.json`.

Request models are strict (no "5" for 5, no true for 1) and forbid unknown keys, so a typo is an
error that names the field instead of a silently ignored setting. Where a field validator gives a
better message than a pydantic constraint would, the field's JSON schema is written out next to it
(`json_schema_extra`), so the document still states exactly what the validator accepts.

Response models document what the views return, exactly: every key, its type and whether it may be
null, and nothing else (`additionalProperties: false`). `service.openapi` turns all of them into
the OpenAPI document and adds what depends on the running service's settings (its limits).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

OPTIMIZER_TYPES = ("exhaustive", "gd", "sgd", "minibatch", "momentum", "adam")
LOSSES = ("mse", "mae", "huber", "bce", "cross_entropy")
CLASSIFICATION_LOSSES = ("bce", "cross_entropy")
SEARCH_LOSSES = ("mse", "mae", "huber", "bce")
"""Losses exhaustive search takes: those of a one-output linear model (not cross_entropy)."""
ACTIVATIONS = ("relu", "sigmoid", "tanh", "identity")

DEFAULT_LR = 0.01
DEFAULT_ADAM_LR = 0.001
DEFAULT_BATCH_SIZE = 32
DEFAULT_MOMENTUM = 0.9
DEFAULT_BETAS = (0.9, 0.999)
MAX_HIDDEN_LAYERS = 8
MAX_LAYER_WIDTH = 4096
MAX_SEED = 2**63 - 1
MAX_NAME_LENGTH = 200
MAX_DATASET_ID_LENGTH = 100

FLOAT32_LIMIT = 2.0**128 - 2.0**103
"""Datasets are float32: a value is stored when |v| is below this (FLT_MAX plus half an ulp)."""

NON_BLANK = r"[^\s\x1c-\x1f]"
"""A string matching this somewhere is not empty once stripped (str.strip's whitespace)."""

GRID_MISSING = "grid_missing"
"""The pydantic error type of an exhaustive optimizer without `grid` (a key the request lacks)."""


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


def _integral(value: Any) -> Any:
    """JSON has one number type: 10.0 is the integer 10 (as JSON Schema's "integer" says)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Int = Annotated[int, BeforeValidator(_integral)]
"""An integer field: a JSON number without a fractional part (not a string, not a boolean)."""


def _drop(*keys: str):
    """A json_schema_extra that removes keywords pydantic writes but the document should not have."""

    def edit(schema: dict[str, Any]) -> None:
        for key in keys:
            schema.pop(key, None)

    return edit


# -- requests ------------------------------------------------------------------------------------


class LinearModel(Strict):
    """ŷ = w·x + b; `bias: false` gives ŷ = w·x. A model without `type` is linear."""

    type: Literal["linear"] = "linear"
    bias: bool = True


class MlpModel(Strict):
    """A multi-layer perceptron: linear layers with `activation` between them."""

    type: Literal["mlp"]
    hidden: list[Int] = Field(
        default_factory=lambda: [16],
        min_length=1,
        max_length=MAX_HIDDEN_LAYERS,
        description="widths of the hidden layers",
        json_schema_extra={"items": {"type": "integer", "minimum": 1, "maximum": MAX_LAYER_WIDTH}},
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
    """Evenly spaced grid values from `min` to `max` inclusive (`max` >= `min`)."""

    min: float = Field(allow_inf_nan=False)
    max: float = Field(allow_inf_nan=False)
    steps: Int = Field(ge=1, description="number of grid values; 1 gives just `min`")

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.max < self.min:
            raise ValueError("max must be >= min")
        return self


def _one_or_many_ranges(schema: dict[str, Any]) -> None:
    """`w` is one range (for every feature) or a list of ranges: the validator wraps a lone one."""
    many = {k: v for k, v in schema.items() if k != "description"}
    description = schema.get("description")
    schema.clear()
    schema["anyOf"] = [many["items"], many]
    if description:
        schema["description"] = description


class Grid(Strict):
    """The exhaustive search grid, in the dataset's original units. The search takes a linear model
    and loss `mse`, `mae`, `huber` or `bce` (not `cross_entropy`: one output per class)."""

    w: list[Range] = Field(
        description="one range for every feature, or a list with one range per feature",
        min_length=1,
        json_schema_extra=_one_or_many_ranges,
    )
    b: Range | None = Field(None, description="bias range; without it the bias is fixed at 0")

    @field_validator("w", mode="before")
    @classmethod
    def _one_range(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value


def _exhaustive_needs_grid(schema: dict[str, Any]) -> None:
    schema["if"] = {"required": ["type"], "properties": {"type": {"const": "exhaustive"}}}
    schema["then"] = {"required": ["grid"], "properties": {"grid": {"type": "object"}}}


class Optimizer(Strict):
    """Keys that do not apply to `type` are accepted and ignored, so a sweep can vary the type.

    `grid` is required (and not null) when `type` is `exhaustive`.
    """

    model_config = ConfigDict(strict=True, extra="forbid", json_schema_extra=_exhaustive_needs_grid)

    type: Literal["exhaustive", "gd", "sgd", "minibatch", "momentum", "adam"]
    lr: float | Literal["auto"] | None = Field(
        None,
        description=f'learning rate > 0, or "auto" (default {DEFAULT_LR}; {DEFAULT_ADAM_LR} for adam)',
        json_schema_extra={
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"const": "auto", "type": "string"},
                {"type": "null"},
            ]
        },
    )
    batch_size: Int | None = Field(None, ge=1, description=f"minibatch size ({DEFAULT_BATCH_SIZE})")
    momentum: float | None = Field(
        None, ge=0, lt=1, allow_inf_nan=False, description=f"momentum's β ({DEFAULT_MOMENTUM})"
    )
    betas: list[float] | None = Field(
        None,
        description=f"adam's (β1, β2), each in [0, 1) ({list(DEFAULT_BETAS)})",
        json_schema_extra={
            "anyOf": [
                {
                    "type": "array",
                    "items": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
                    "minItems": 2,
                    "maxItems": 2,
                },
                {"type": "null"},
            ]
        },
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
        if value is not None and (len(value) != 2 or not all(0 <= b < 1 for b in value)):
            raise ValueError("must be two numbers, each in [0, 1)")
        return value

    @model_validator(mode="after")
    def _grid_for_exhaustive(self) -> Optimizer:
        if self.type == "exhaustive" and self.grid is None:
            raise PydanticCustomError(GRID_MISSING, "`grid` is required for the exhaustive optimizer")
        return self


class Split(Strict):
    """Fractions of the rows held out (by a shuffle seeded with `seed`); `dev + test` must be < 1,
    and a fraction > 0 must hold out at least one row of the dataset."""

    dev: float = Field(0.0, ge=0, lt=1, allow_inf_nan=False)
    test: float = Field(0.0, ge=0, lt=1, allow_inf_nan=False)

    @model_validator(mode="after")
    def _leaves_training(self) -> Split:
        if self.dev + self.test >= 1:
            raise ValueError("dev + test must be < 1 to leave rows for training")
        return self


class EarlyStopping(Strict):
    patience: Int = Field(10, ge=1)
    min_delta: float = Field(0.0, ge=0, allow_inf_nan=False)


def _exhaustive_rules(schema: dict[str, Any]) -> None:
    """What an exhaustive search needs of the rest of the request (checked with the dataset)."""
    exhaustive = {"required": ["type"], "properties": {"type": {"const": "exhaustive"}}}
    with_bias_range = {
        "required": ["type", "grid"],
        "properties": {
            "type": {"const": "exhaustive"},
            "grid": {"type": "object", "required": ["b"], "properties": {"b": {"type": "object"}}},
        },
    }
    schema["allOf"] = [
        {
            "if": {"required": ["optimizer"], "properties": {"optimizer": exhaustive}},
            "then": {
                "properties": {
                    "model": {"properties": {"type": {"const": "linear"}}},
                    "loss": {"enum": list(SEARCH_LOSSES)},
                }
            },
        },
        {
            "if": {"required": ["optimizer"], "properties": {"optimizer": with_bias_range}},
            "then": {"properties": {"model": {"properties": {"bias": {"const": True}}}}},
        },
    ]


class JobRequest(Strict):
    """`POST /v1/jobs`. Only `dataset_id` and `optimizer` are required.

    Checked against the dataset, so not expressible here: an exhaustive grid has one range or one
    per feature and at most DESCENT_MAX_GRID_POINTS points; an MLP has at most
    DESCENT_MAX_MLP_PARAMETERS parameters; `bce` needs targets 0/1 and `cross_entropy` classes
    0..K-1 (K <= DESCENT_MAX_CLASSES); each split fraction > 0 holds out at least one row.
    """

    model_config = ConfigDict(strict=True, extra="forbid", json_schema_extra=_exhaustive_rules)

    dataset_id: str = Field(min_length=1, max_length=MAX_DATASET_ID_LENGTH)
    model: LinearModel | MlpModel = Field(
        default_factory=LinearModel, discriminator="type", json_schema_extra=_drop("discriminator")
    )
    loss: Literal["mse", "mae", "huber", "bce", "cross_entropy"] = "mse"
    optimizer: Optimizer
    epochs: Int = Field(100, ge=1)
    tolerance: float = Field(1e-7, ge=0, allow_inf_nan=False)
    split: Split = Field(default_factory=Split)
    early_stopping: EarlyStopping | None = None
    smoothing: float = Field(0.4, gt=0, le=1, allow_inf_nan=False)
    standardize: bool = True
    seed: Int = Field(0, ge=0, le=MAX_SEED)
    max_runtime_seconds: float = Field(3600, gt=0, allow_inf_nan=False)

    @field_validator("model", mode="before")
    @classmethod
    def _model_type_defaults_to_linear(cls, value: Any) -> Any:
        if isinstance(value, dict) and "type" not in value:
            return {**value, "type": "linear"}
        return value


Float32 = Annotated[float, Field(gt=-FLOAT32_LIMIT, lt=FLOAT32_LIMIT)]
"""A dataset value: any JSON number that float32 can hold (datasets are stored as float32)."""
Name = Annotated[str, Field(max_length=MAX_NAME_LENGTH)]


class DatasetXY(Strict):
    """`{"x": [[…], …], "y": […]}`: every row of `x` as long as `x[0]`, and one `y` per row."""

    name: Name | None = None
    x: list[Annotated[list[Float32], Field(min_length=1)]] = Field(min_length=2)
    y: list[Float32] = Field(min_length=2)


class DatasetRows(Strict):
    """`{"columns": […], "rows": [[…], …], "target": …}`: every row has one value per column;
    `target` is a column name, a 0-based index (negative from the end) or null (the last)."""

    name: Name | None = None
    columns: list[Annotated[str, Field(pattern=NON_BLANK)]] = Field(
        min_length=2, json_schema_extra={"uniqueItems": True}
    )
    rows: list[Annotated[list[Float32], Field(min_length=2)]] = Field(min_length=2)
    target: str | Int | None = None


class PredictRequest(Strict):
    """Raw feature rows, in the dataset's original units and column order (one value per feature)."""

    x: list[Annotated[list[float], Field(min_length=1)]] = Field(min_length=1)


# -- responses -------------------------------------------------------------------------------------


class Exact(BaseModel):
    """A response shape: exactly these keys."""

    model_config = ConfigDict(extra="forbid")


def absent(**constraints: Any) -> Any:
    """A key that may be missing, but is never null."""
    return Field(None, json_schema_extra=_drop("default"), **constraints)


Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class FieldError(Exact):
    """One invalid field: a dotted path (`optimizer.lr`, `x[3][1]`, `csv`) and what is wrong.

    CSV faults also say where: the 1-based `row` (line) and the column (`column` name and 1-based
    `column_number`), `values`/`expected` cell counts of a ragged row, or the `byte_offset` of
    invalid UTF-8.
    """

    field: str
    message: str
    row: int = absent(ge=1)
    column: str = absent()
    column_number: int = absent(ge=1)
    values: int = absent(ge=0)
    expected: int = absent(ge=0)
    byte_offset: int = absent(ge=0)


class ProblemDoc(Exact):
    """application/problem+json (RFC 9457)."""

    type: str
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    errors: list[FieldError] = absent(description="every invalid field (present on most 400s)")


class DatasetStats(Exact):
    x_mean: list[float]
    x_std: list[float]
    y_mean: float
    y_std: float
    y_min: float
    y_max: float


class DatasetResource(Exact):
    id: str
    name: str
    rows: int = Field(ge=2)
    features: int = Field(ge=1)
    feature_names: list[str]
    target_name: str
    created_at: Timestamp
    bytes: int = Field(ge=0)
    stats: DatasetStats
    target_integer: bool = Field(description="every target value is a whole number (class labels)")


class DatasetList(Exact):
    datasets: list[DatasetResource]
    next_cursor: str | None = Field(description="the `cursor` of the next page; null on the last page")


class LinearConfig(Exact):
    type: Literal["linear"]
    bias: bool


class MlpConfig(Exact):
    type: Literal["mlp"]
    hidden: list[int]
    activation: Literal["relu", "sigmoid", "tanh", "identity"]


LearningRate = Annotated[
    float | Literal["auto"],
    Field(description='the request\'s rate; "auto" until a worker has chosen one, then that number'),
]


class GridConfig(Exact):
    w: list[Range]
    b: Range | None


class ExhaustiveConfig(Exact):
    type: Literal["exhaustive"]
    grid: GridConfig


class PlainDescentConfig(Exact):
    type: Literal["gd", "sgd"]
    lr: LearningRate


class MinibatchConfig(Exact):
    type: Literal["minibatch"]
    lr: LearningRate
    batch_size: int


class MomentumConfig(Exact):
    type: Literal["momentum"]
    lr: LearningRate
    batch_size: int
    momentum: float


class AdamConfig(Exact):
    type: Literal["adam"]
    lr: LearningRate
    batch_size: int
    betas: list[float] = Field(min_length=2, max_length=2)


class SplitConfig(Exact):
    dev: float
    test: float


class EarlyStoppingConfig(Exact):
    patience: int
    min_delta: float


class JobConfig(Exact):
    """The request with every default filled in, and only the optimizer keys its type uses."""

    dataset_id: str
    model: LinearConfig | MlpConfig = Field(discriminator="type")
    loss: Literal["mse", "mae", "huber", "bce", "cross_entropy"]
    optimizer: ExhaustiveConfig | PlainDescentConfig | MinibatchConfig | MomentumConfig | AdamConfig = Field(
        discriminator="type"
    )
    epochs: int
    tolerance: float
    split: SplitConfig
    early_stopping: EarlyStoppingConfig | None
    smoothing: float
    standardize: bool
    seed: int
    max_runtime_seconds: float
    max_history_points: int = Field(description="train points the history keeps (DESCENT_MAX_HISTORY_POINTS)")
    log_every: int = absent(
        ge=1, description="set once training starts: updates averaged into one history point"
    )


class Progress(Exact):
    epoch: int = Field(ge=0)
    epochs: int = Field(ge=0)
    step: int = Field(ge=0)
    fraction: float = Field(ge=0, le=1)


class Metrics(Exact):
    """Live numbers of a running job (the last epoch's), final ones once it ended; `{}` before."""

    train_loss: float | None = None
    train_loss_smoothed: float | None = None
    dev_loss: float | None = None
    best_dev_loss: float | None = None
    best_epoch: int | None = None


class LinearParams(Exact):
    """ŷ = x·w + b in original units; for cross_entropy one row of weights and one bias per class."""

    weights: list[float] | list[list[float]]
    bias: float | list[float]


class Layer(Exact):
    """One MLP layer in nn.Linear's convention: output = input · weightᵀ + bias."""

    weight: list[list[float]]
    bias: list[float]


class Result(Exact):
    """Losses are null where they overflowed (a diverging fit can still end within max_epochs)."""

    outcome: Literal["converged", "max_epochs", "early_stopped", "searched"]
    params: LinearParams | list[Layer]
    train_loss: float | None
    dev_loss: float | None
    test_loss: float | None
    r2: float | None
    accuracy: float | None
    dev_r2: float | None = absent()
    test_r2: float | None = absent()
    dev_accuracy: float | None = absent()
    test_accuracy: float | None = absent()
    epochs_run: int = Field(ge=0)
    steps: int = Field(ge=0)
    seconds: float = Field(ge=0)


class JobError(Exact):
    type: Literal["diverged", "timeout", "worker_lost", "invalid_data", "internal"]
    message: str


class JobResource(Exact):
    id: str
    dataset_id: str
    sweep_id: str | None
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    config: JobConfig
    progress: Progress
    metrics: Metrics
    result: Result | None = Field(description="set once the job succeeded")
    error: JobError | None = Field(description="set once the job failed")
    attempt: int = Field(ge=0)
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None


class JobList(Exact):
    jobs: list[JobResource]
    next_cursor: str | None = Field(description="the `cursor` of the next page; null on the last page")


class TrainSeries(Exact):
    step: list[Annotated[int, Field(ge=1)]]
    epoch: list[Annotated[int, Field(ge=0)]]
    loss: list[float | None] = Field(description="null where the cost overflowed")
    smoothed: list[float | None]


class DevSeries(Exact):
    step: list[Annotated[int, Field(ge=0)]]
    epoch: list[Annotated[int, Field(ge=1)]]
    loss: list[float | None]


class History(Exact):
    train: TrainSeries
    dev: DevSeries
    next: int = Field(ge=0)
    complete: bool


def _nested_costs(schema: dict[str, Any]) -> None:
    schema.clear()
    schema.update(
        {
            "description": "nested lists, one level per axis in the order of `axes`; null where the cost overflowed",
            "type": "array",
            "items": {"anyOf": [{"type": "number"}, {"type": "null"}, {"$ref": "#/$defs/CostArray"}]},
            "$defs": {
                "CostArray": {
                    "type": "array",
                    "items": {"anyOf": [{"type": "number"}, {"type": "null"}, {"$ref": "#/$defs/CostArray"}]},
                }
            },
        }
    )


class Surface(Exact):
    axes: dict[Annotated[str, Field(pattern=r"^(w|w[0-9]+|b)$")], list[float]] = Field(
        description="`w` (one range for every feature) or `w0`, `w1`, … (one per feature), then `b`"
    )
    cost: list[Any] = Field(json_schema_extra=_nested_costs)


class Health(Exact):
    status: Literal["ok"]


class Readiness(Exact):
    status: Literal["ready", "no workers", "unavailable"]
    redis: Literal["ok", "unreachable"]
    workers: int = Field(ge=0, description="workers whose heartbeat is recent")


class Prediction(Exact):
    y: list[float | None] = Field(description="one per row; null where the output overflowed")
    probability: list[float] | list[list[float]] = absent(
        description="classifiers only: P(y = 1) per row (bce), class probabilities per row (cross_entropy)",
    )


class ModelExport(Exact):
    """A trained model: apply `params` to raw features, then `output` (identity, sigmoid or softmax)."""

    job_id: str
    model: LinearConfig | MlpConfig = Field(discriminator="type")
    loss: Literal["mse", "mae", "huber", "bce", "cross_entropy"]
    output: Literal["identity", "sigmoid", "softmax"]
    feature_names: list[str] | None = Field(description="null when the dataset has expired")
    target_name: str | None
    standardization: str
    params: LinearParams | list[Layer]


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
    grid: dict[str, list[Any]]
    created_at: Timestamp
