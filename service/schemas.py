"""The API's shapes as pydantic models: they validate requests and generate `/openapi.json`.

A job's request and its resolved config are the job spec (descent.spec), shared with the engine;
they are re-exported here, so `service.openapi` finds every model of the document in this module.
The rest are the service's own: dataset uploads and predict requests (strict, closed, like the
spec), and the response models.

Response models document what the views return, exactly: every key, its type and whether it may be
null, and nothing else (`additionalProperties: false`). `service.openapi` turns all of them into
the OpenAPI document and adds what depends on the running service's settings (its limits).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema

# `X as X`: the job spec's models and names, re-exported under the names the document uses
from descent.spec import MAX_SEED as MAX_SEED
from descent.spec import OPTIMIZER_TYPES as OPTIMIZER_TYPES
from descent.spec import EarlyStopping as EarlyStopping
from descent.spec import Grid as Grid
from descent.spec import Int, Model, Strict, documented_shape
from descent.spec import JobConfig as JobConfig
from descent.spec import JobRequest as JobRequest
from descent.spec import LinearModel as LinearModel
from descent.spec import MlpModel as MlpModel
from descent.spec import Optimizer as Optimizer
from descent.spec import Range as Range
from descent.spec import Split as Split
from descent.spec.base import drop_keys
from descent.spec.names import Loss

from .metrics_schemas import ResultMetrics
from .schema_base import Exact as Exact

MAX_NAME_LENGTH = 200

FLOAT32_LIMIT = 2.0**128 - 2.0**103
"""Datasets are float32: a value is stored when |v| is below this (FLT_MAX plus half an ulp)."""

NON_BLANK = r"[^\s\x1c-\x1f]"
"""A string matching this somewhere is not empty once stripped (str.strip's whitespace)."""


Float32 = Annotated[float, Field(gt=-FLOAT32_LIMIT, lt=FLOAT32_LIMIT)]
"""A dataset value: any JSON number that float32 can hold (datasets are stored as float32)."""
Name = Annotated[str, Field(max_length=MAX_NAME_LENGTH)]


class DatasetXY(Strict):
    """`{"x": [[…], …], "y": […]}`: every row of `x` as long as `x[0]`, and one `y` per row."""

    name: Name | None = None
    x: list[Annotated[list[Float32 | None], Field(min_length=1)]] = Field(min_length=2)
    y: list[Float32 | None] = Field(min_length=2)


class DatasetRows(Strict):
    """`{"columns": […], "rows": [[…], …], "target": …}`: every row has one value per column;
    `target` is a column name, a 0-based index (negative from the end) or null (the last)."""

    name: Name | None = None
    columns: list[Annotated[str, Field(pattern=NON_BLANK)]] = Field(
        min_length=2, json_schema_extra={"uniqueItems": True}
    )
    rows: list[Annotated[list[Float32 | str | bool | None], Field(min_length=2)]] = Field(min_length=2)
    target: str | Int | None = None


def absent(**constraints: Any) -> Any:
    """A key that may be missing, but is never null."""
    return Field(None, json_schema_extra=drop_keys("default"), **constraints)


class PredictRequest(Strict):
    """One of: `rows` (objects by column name), `columns` with `rows` (lists, matched by name),
    `dataset_id` (every row of a stored dataset), or `x` (numbers in `feature_names` order)."""

    x: list[Annotated[list[float], Field(min_length=1)]] = absent(
        min_length=1, description="raw feature rows in the dataset's original units and feature order"
    )
    rows: list[dict[str, Any]] | list[list[Any]] = absent(
        min_length=1,
        description="objects by column name (a missing key or null is a missing value), or lists "
        "in the order of `columns`",
    )
    columns: list[str] = absent(description="the names of the values of each list in `rows`")
    dataset_id: str = absent(description="predict every row of this dataset (yours)")


# -- responses -------------------------------------------------------------------------------------


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
    limit: str = absent(description="the variable of the per-tenant limit that refused the request (403, 429)")
    quota_bytes: int = absent(ge=0, description="403 quota-exceeded: the tenant's storage quota")
    stored_bytes: int = absent(ge=0, description="403 quota-exceeded: the bytes the tenant stores already")
    requested_bytes: int = absent(ge=0, description="403 quota-exceeded: the bytes the upload needs")
    retry_after: int = absent(ge=1, description="429: seconds to wait, as the Retry-After header says")
    refused_by: Literal["proxy"] = absent(
        description="429 rate-limited: nginx in front of the API refused the request by its own count "
        "for the API key, before the API saw it"
    )


class DatasetStats(Exact):
    x_mean: list[float]
    x_std: list[float]
    y_mean: float
    y_std: float
    y_min: float
    y_max: float


class CategoryCount(Exact):
    value: str | bool
    count: int = Field(ge=1)


class ColumnSummary(Exact):
    """One column: its kind, missing cells and distinct values (null for text: its values are not
    kept); numbers add min, max, mean and std, datetimes min and max (ISO 8601), categories the
    most frequent values (up to 50)."""

    name: str
    kind: Literal["number", "category", "datetime", "text"]
    missing: int | None = Field(ge=0)
    distinct: int | None = Field(ge=0)
    categories: list[CategoryCount] = absent()
    min: float | str | None = absent()
    max: float | str | None = absent()
    mean: float | None = absent()
    std: float | None = absent()
    histogram: list[int] = absent(description="numbers: counts in 10 equal bins from min to max")


class DatasetResource(Exact):
    id: str
    name: str
    rows: int = Field(ge=2)
    features: int = Field(ge=0, description="the usable feature columns: numbers, categories, datetimes")
    feature_names: list[str]
    target_name: str
    created_at: Timestamp
    bytes: int = Field(ge=0)
    columns: list[ColumnSummary] = absent(description="every column; absent for a dataset stored before kinds")
    warnings: list[str] = absent(description="what is worth knowing before training (constant or id columns…)")
    stats: DatasetStats = absent(description="when every feature and the target are numbers without missing cells")
    target_integer: bool = absent(description="a number target: every value is a whole number")


class DatasetList(Exact):
    datasets: list[DatasetResource]
    next_cursor: str | None = Field(description="the `cursor` of the next page; null on the last page")


ModelConfig = Annotated[Model, WithJsonSchema(documented_shape(Model))]
"""A job's resolved `model`: every key present."""


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
    feature_names: list[str] = absent(
        description="the name of each encoded feature, in the order of `weights` (`Sex=female`, "
        "`Age_missing`, `Date.month`)"
    )


class Layer(Exact):
    """One MLP layer in nn.Linear's convention: output = input · weightᵀ + bias."""

    weight: list[list[float]]
    bias: list[float]


class Result(Exact):
    """Losses are null where they overflowed (a diverging fit can still end within max_epochs)."""

    outcome: Literal["converged", "max_epochs", "early_stopped", "pruned", "searched"] = Field(
        description="`pruned`: a search's pruner ended this trial early (API.md, Model selection)"
    )
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
    metrics: ResultMetrics = absent(
        description="evaluation per split (regression, bce or cross_entropy metrics); absent from the "
        "results of jobs that ended before it existed. Not the job's live `metrics`"
    )
    epochs_run: int = Field(ge=0)
    steps: int = Field(ge=0)
    seconds: float = Field(ge=0)
    classes: list[str | bool | float] = absent(
        description="classifiers: the target's values, in the order `probability` uses"
    )
    rows_dropped: int = absent(
        ge=0, description="rows left out: a missing target, or a missing feature with `impute: drop`"
    )
    train_rows: int = absent(ge=1, description="rows trained on (after `data.train_fraction`)")
    dev_rows: int = absent(ge=0, description="rows of the dev split (a cross-validation child: its fold)")
    test_rows: int = absent(ge=0, description="rows of the test split")


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
    lr: list[float | None] = Field(
        description="the learning rate of each point's last step (it changes between epochs under "
        "`optimizer.schedule`); null only where it is not known"
    )


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
    status: Literal["ready"]
    redis: Literal["ok"]
    workers: int = Field(ge=0, description="workers whose heartbeat is recent")


class NotReady(ProblemDoc):
    """/readyz's 503: a problem document that says why (`redis`)."""

    redis: Literal["unreachable", "full"] = Field(
        description="`unreachable`: Redis does not answer; `full`: it answers but refuses writes (maxmemory)"
    )
    workers: int = Field(ge=0, description="workers whose heartbeat is recent (0 when Redis does not answer)")
    used_bytes: int = absent(ge=0, description="`full` only: Redis's used_memory")
    max_bytes: int = absent(ge=0, description="`full` only: Redis's maxmemory")


class Prediction(Exact):
    y: list[str | bool | float | None] = Field(
        description="one per row: the target's own values for a classifier; null where the output overflowed"
    )
    probability: list[float] | list[list[float]] = absent(
        description="classifiers only: P(y = 1) per row (bce), class probabilities per row (cross_entropy)",
    )
    classes: list[str | bool | float] = absent(
        description="classifiers: the classes, in the order `probability` uses (bce: the other class, "
        "then the positive one)"
    )
    warnings: list[str] = absent(description="rows with a category not seen in training, per column")


class ModelExport(Exact):
    """A trained model: make the features from raw columns as `preprocessing` says, apply `params`,
    then `output` (identity, sigmoid or softmax)."""

    job_id: str
    model: ModelConfig
    loss: Loss
    output: Literal["identity", "sigmoid", "softmax"]
    feature_names: list[str] | None = Field(description="null when the dataset has expired")
    target_name: str | None
    standardization: str
    params: LinearParams | list[Layer]
    preprocessing: dict[str, Any] = absent(
        description="how raw columns become the features (the job's config.features.fitted): imputed "
        "values, kept categories, datetime parts, the name of each feature"
    )
    classes: list[str | bool | float] = absent(description="classifiers: the classes, in output order")
