"""The job spec: one pydantic model of a training job, shared by the service and the engine.

Why one model: a job's fields, defaults, bounds and cross-field rules used to be written three
times (the service's request schema and validation, the engine's config reader, the names in
descent.predict), kept in step by a test. Here each is written once, and everything else is
derived: the service validates `POST /v1/jobs` and sweeps with `JobRequest`, generates the
OpenAPI document from it, and stores `JobRequest.resolve(...)` — a `JobConfig`, the job's `config`
in the API; the worker parses that JSON back into a `JobConfig` and the engine reads its
attributes. Torch-free (pydantic only), so the service and descent.predict can import it.

Modules, each with one part of the job:
- names.py — the closed sets (models, activations, losses) and their groups;
- model.py, grid.py, optimizer.py — the `model`, the exhaustive grid, the `optimizer` (one class
  per type; the request's lenient `Optimizer` is generated from them);
- schedule.py — the optimizer's learning-rate `schedule` (one class per type);
- features.py — the job's `features` (columns and their encoding);
- job.py — `JobRequest` and `JobConfig`, the whole job;
- rules.py — rules across fields, and those that need the dataset or the DESCENT_MAX_* settings;
- base.py — the strict base model and the JSON-schema helpers.

Adding a field: one line on the class it belongs to (its type, default and bounds are its checks
and its documentation), plus the code that uses it. A rule that relates fields goes in rules.py.
"""

from .base import Int, Strict, documented_shape
from .features import IMPUTE_STRATEGIES, Features, FeaturesConfig
from .grid import Grid, Range
from .job import MAX_DATASET_ID_LENGTH, MAX_SEED, Data, EarlyStopping, JobConfig, JobRequest, Split
from .model import MAX_HIDDEN_LAYERS, MAX_LAYER_WIDTH, LinearModel, MlpModel, Model
from .names import (
    ACTIVATIONS,
    CLASSIFICATION_LOSSES,
    DEFAULT_ACTIVATION,
    LOSSES,
    MODEL_TYPES,
    REGRESSION_LOSSES,
    SEARCH_LOSSES,
)
from .optimizer import (
    AUTO,
    GRADIENT_TYPES,
    MISSING_FOR_TYPE,
    OPTIMIZER_TYPES,
    SEARCH_TYPES,
    Adam,
    AnyOptimizerConfig,
    Exhaustive,
    Gd,
    GradientOptimizer,
    Minibatch,
    Momentum,
    Optimizer,
    OptimizerConfig,
    Sgd,
)
from .rules import (
    ColumnFacts,
    DatasetFacts,
    FieldError,
    job_errors,
    mlp_parameters,
    schedule_errors,
    search_errors,
)
from .schedule import (
    SCHEDULE_TYPES,
    CosineSchedule,
    ExponentialSchedule,
    PlateauSchedule,
    Schedule,
    StepSchedule,
)

__all__ = [
    "ACTIVATIONS",
    "AUTO",
    "CLASSIFICATION_LOSSES",
    "DEFAULT_ACTIVATION",
    "GRADIENT_TYPES",
    "IMPUTE_STRATEGIES",
    "LOSSES",
    "MAX_DATASET_ID_LENGTH",
    "MAX_HIDDEN_LAYERS",
    "MAX_LAYER_WIDTH",
    "MAX_SEED",
    "MISSING_FOR_TYPE",
    "MODEL_TYPES",
    "OPTIMIZER_TYPES",
    "REGRESSION_LOSSES",
    "SCHEDULE_TYPES",
    "SEARCH_LOSSES",
    "SEARCH_TYPES",
    "Adam",
    "AnyOptimizerConfig",
    "ColumnFacts",
    "CosineSchedule",
    "Data",
    "DatasetFacts",
    "EarlyStopping",
    "Exhaustive",
    "ExponentialSchedule",
    "Features",
    "FeaturesConfig",
    "FieldError",
    "Gd",
    "GradientOptimizer",
    "Grid",
    "Int",
    "JobConfig",
    "JobRequest",
    "LinearModel",
    "Minibatch",
    "MlpModel",
    "Model",
    "Momentum",
    "Optimizer",
    "OptimizerConfig",
    "PlateauSchedule",
    "Range",
    "Schedule",
    "Sgd",
    "Split",
    "StepSchedule",
    "Strict",
    "documented_shape",
    "job_errors",
    "mlp_parameters",
    "schedule_errors",
    "search_errors",
]
