"""A training job: `JobRequest` is what a client sends, `JobConfig` the same job resolved.

`JobConfig` is a `JobRequest` with every default filled in, the optimizer reduced to the keys its
type uses, and what the service and the worker add (`max_history_points` from the settings,
`log_every` once training has started). The service validates requests with `JobRequest`, stores
`JobRequest.resolve(...)` as JSON, and shows it as the job's `config`; the worker parses that JSON
back into a `JobConfig` and hands it to the engine. A field is declared once, on `JobRequest`
(or on the class of its part: model.py, optimizer.py, grid.py), with its default and bounds.

A new field whose resolved form differs from the request's (as `optimizer` does) is declared on
both: the request's form on `JobRequest`, the resolved one on `JobConfig`. A default that depends
on other fields belongs in a validator of `JobRequest`, so the config shows the value used.
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from descent.settings import Settings

from .base import Int, Strict, bounded_int, documented_shape, drop_keys
from .features import Features, FeaturesConfig
from .model import LinearModel, Model, linear_by_default
from .names import CLASSIFICATION_LOSSES, SEARCH_LOSSES, Loss
from .optimizer import SEARCH_TYPES, AnyOptimizerConfig, Optimizer
from .rules import schedule_errors, search_errors

MAX_SEED = 2**63 - 1
MAX_DATASET_ID_LENGTH = 100


class Split(Strict):
    """Fractions of the rows held out (by a shuffle seeded with `seed`); `dev + test` must be < 1,
    and a fraction > 0 must hold out at least one row of the dataset."""

    dev: float = Field(0.0, ge=0, lt=1, allow_inf_nan=False)
    test: float = Field(0.0, ge=0, lt=1, allow_inf_nan=False)
    stratify: bool | None = Field(
        None,
        description="dev and test keep the class proportions of the target; default true for bce "
        "and cross_entropy (a config stored before the key existed reads as false)",
    )

    folds: bounded_int(ge=2) | None = Field(  # type: ignore[valid-type]
        None,
        description="cross-validation (a sweep's `validation.folds` sets it on each child): the rows "
        "not in test are dealt into `folds` folds by a seeded shuffle (by class when stratified), "
        "and fold number `fold` is the dev split",
        exclude_if=lambda value: value is None,
    )
    fold: bounded_int(ge=0) | None = Field(  # type: ignore[valid-type]
        None, description="with `folds`: the dev fold, 0 to folds − 1", exclude_if=lambda value: value is None
    )

    @model_validator(mode="after")
    def _leaves_training(self) -> Split:
        if self.dev + self.test >= 1:
            raise ValueError("dev + test must be < 1 to leave rows for training")
        if (self.folds is None) != (self.fold is None):
            raise ValueError("folds and fold go together: fold is the dev fold's number, 0 to folds - 1")
        if self.folds is not None and self.fold is not None:
            if self.fold >= self.folds:
                raise ValueError(f"fold must be < folds ({self.folds})")
            if self.dev > 0:
                raise ValueError("with folds the dev split is a fold: leave dev out")
        return self


class Data(Strict):
    """Which training rows a job learns from: `train_fraction` of the training split (the dev and
    test splits stay whole), a seeded subset, nested (a smaller fraction's rows are among a larger
    one's) and by class for a classifier when the split is stratified — a learning curve's x axis."""

    train_fraction: float = Field(1.0, gt=0, le=1, allow_inf_nan=False)


class EarlyStopping(Strict):
    """Stop after `patience` epochs without a dev-loss improvement larger than `min_delta`."""

    patience: Int = Field(10, ge=1)
    min_delta: float = Field(0.0, ge=0, allow_inf_nan=False)


def _search_rules(schema: dict[str, Any]) -> None:
    """What an exhaustive search needs of the rest of the job (rules.search_errors), as JSON Schema."""
    search = {"required": ["type"], "properties": {"type": {"enum": list(SEARCH_TYPES)}}}
    with_bias_range = {
        "required": ["type", "grid"],
        "properties": {
            "type": {"enum": list(SEARCH_TYPES)},
            "grid": {"type": "object", "required": ["b"], "properties": {"b": {"type": "object"}}},
        },
    }
    schema["allOf"] = [
        {
            "if": {"required": ["optimizer"], "properties": {"optimizer": search}},
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

    model_config = ConfigDict(json_schema_extra=_search_rules)

    dataset_id: str = Field(min_length=1, max_length=MAX_DATASET_ID_LENGTH)
    model: Model = Field(default_factory=LinearModel, json_schema_extra=drop_keys("discriminator"))
    loss: Loss = "mse"
    optimizer: Optimizer  # type: ignore[valid-type]
    epochs: Int = Field(100, ge=1)
    tolerance: float = Field(1e-7, ge=0, allow_inf_nan=False)
    split: Split = Field(default_factory=Split)
    early_stopping: EarlyStopping | None = None
    smoothing: float = Field(0.4, gt=0, le=1, allow_inf_nan=False)
    standardize: bool = True
    seed: Int = Field(0, ge=0, le=MAX_SEED)
    max_runtime_seconds: float = Field(3600, gt=0, allow_inf_nan=False)
    features: Features = Field(default_factory=Features)
    data: Data = Field(default_factory=Data)
    positive: str | bool | float | None = Field(
        None,
        description="bce: the positive class, one of the target's two values; default the second "
        "of the two in sorted order",
    )

    _linear_by_default = field_validator("model", mode="before")(linear_by_default)

    def resolve(self, max_history_points: int) -> JobConfig:
        """The config this request runs with (check it with rules.job_errors first). The fields the
        request left out stay the defaults, as written (`max_runtime_seconds` 3600, not 3600.0)."""
        fields = {name: getattr(self, name) for name in self.model_fields_set}
        fields["optimizer"] = self.optimizer.resolved()
        fields["features"] = FeaturesConfig.model_validate(self.features.model_dump())
        if self.split.stratify is None:  # the config shows the value used
            stratify = self.loss in CLASSIFICATION_LOSSES
            fields["split"] = self.split.model_copy(update={"stratify": stratify})
        return JobConfig.model_validate({**fields, "max_history_points": max_history_points})


class JobConfig(JobRequest):
    """The request with every default filled in, and only the optimizer keys its type uses."""

    optimizer: AnyOptimizerConfig  # type: ignore[assignment]
    features: FeaturesConfig = Field(default_factory=FeaturesConfig)  # type: ignore[assignment]
    max_history_points: Int = Field(
        Settings.max_history_points,
        ge=1,
        description="train points the history keeps (DESCENT_MAX_HISTORY_POINTS)",
    )
    log_every: bounded_int(ge=1) | None = Field(  # type: ignore[valid-type]
        None,
        description="set once training starts: updates averaged into one history point",
        exclude_if=lambda value: value is None,  # absent, not null, until a worker plans the history
    )

    @field_validator("max_history_points", mode="before")
    @classmethod
    def _stored_before_the_key(cls, value: Any) -> Any:
        """A config stored before the key existed lacks it or holds null: the setting's default."""
        return Settings.max_history_points if value is None else value

    @model_validator(mode="after")
    def _searchable(self) -> JobConfig:
        """A config is always one the engine can run: the service checked the request's rules.
        A cosine schedule without `t_max` spans the job's epochs (the config shows the number)."""
        schedule = getattr(self.optimizer, "schedule", None)
        if schedule is not None and schedule.type == "cosine" and schedule.t_max is None:
            cosine = schedule.model_copy(update={"t_max": self.epochs})
            self.optimizer = self.optimizer.model_copy(update={"schedule": cosine})
        errors = [*search_errors(self), *schedule_errors(self)]
        if errors:
            raise ValueError("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        return self

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """In the API's documents (built in validation mode): the config as stored and shown."""
        if handler.mode == "serialization":
            return handler(core_schema)
        schema = documented_shape(cls)
        log_every = schema["properties"]["log_every"]
        (number,) = [s for s in log_every.pop("anyOf") if s.get("type") != "null"]
        log_every.update(number)
        return schema
