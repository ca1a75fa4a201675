"""A training job's configuration as typed, frozen dataclasses, read once from the stored JSON.

Why: the service stores a job's config with every default filled in; reading it here, once, lets
the training code use checked attributes instead of dict lookups, and makes an inconsistent dict
fail (ValueError naming the dotted field) before any training starts. Keys this engine does not
use ("dataset_id", "log_every", a "batch_size" for gd, a "momentum" for adam, ...) are ignored.
Pure Python: no torch, so the names of what exists can be read without loading the engine.

Keys read (default when missing):
- model: {"type": "linear", "bias": true} or {"type": "mlp", "hidden": [16], "activation": "relu"}
  (activation relu | sigmoid | tanh | identity; every MLP layer has a bias, "bias" is ignored);
  a missing model is linear with bias.
- loss: mse | mae | huber | bce | cross_entropy (mse).
- optimizer (required): {"type": ...} with
  exhaustive: "grid" (required; "lr" and the rest ignored; linear model, loss other than
  cross_entropy);
  gd, sgd: "lr" (0.01); minibatch: "lr" (0.01), "batch_size" (32);
  momentum: "lr" (0.01), "batch_size" (32), "momentum" (0.9, in [0, 1));
  adam: "lr" (0.001), "batch_size" (32), "betas" ([0.9, 0.999], each in [0, 1)).
  Every descent "lr" is a number > 0 or "auto" (OptimizerConfig.lr None; see lr_auto.py).
- epochs (100), tolerance (1e-7), split {"dev": 0, "test": 0}, early_stopping (null, else
  {"patience": required, "min_delta": 0}), smoothing (0.4), standardize (true), seed (0),
  max_runtime_seconds (3600), max_history_points (100000).

Adding a model, loss or optimizer means adding its name to a tuple below, the fields it reads to
the dataclasses, and its implementation to the registry of models.py, losses.py or optimizers.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MODEL_TYPES: tuple[str, ...] = ("linear", "mlp")
"""Models this engine can train (the registry in models.py has exactly these)."""
ACTIVATIONS: tuple[str, ...] = ("relu", "sigmoid", "tanh", "identity")
"""Nonlinearities an MLP can put between its layers."""
REGRESSION_LOSSES: tuple[str, ...] = ("mse", "mae", "huber")
"""Losses on a real-valued target (standardized with the features; r2 is reported)."""
CLASSIFICATION_LOSSES: tuple[str, ...] = ("bce", "cross_entropy")
"""Losses on class labels (the target is never standardized; accuracy is reported)."""
LOSS_TYPES: tuple[str, ...] = REGRESSION_LOSSES + CLASSIFICATION_LOSSES
"""Losses this engine can train with (the registry in losses.py has exactly these)."""
SEARCH_TYPES: tuple[str, ...] = ("exhaustive",)
"""Optimizers that evaluate a grid instead of taking gradient steps (search.py)."""
SEARCH_LOSSES: tuple[str, ...] = ("mse", "mae", "huber", "bce")
"""Losses whose cost surface search.py can evaluate: every loss of a one-output linear model
(cross_entropy's model has one output per class, a weight per class and feature)."""
DESCENT_TYPES: tuple[str, ...] = ("gd", "sgd", "minibatch", "momentum", "adam")
"""Gradient-based optimizers (the registry in optimizers.py has exactly these)."""
BATCHED_TYPES: tuple[str, ...] = ("minibatch", "momentum", "adam")
"""Descent optimizers that read `batch_size`."""

AUTO = "auto"
"""The `lr` that asks the engine to choose the learning rate (lr_auto.py)."""
DEFAULT_LR = 0.01
"""`lr` of every descent optimizer but adam when the config leaves it out (the API's default)."""
DEFAULT_ADAM_LR = 0.001
"""adam's `lr` when the config leaves it out."""
DEFAULT_BATCH_SIZE = 32
DEFAULT_MOMENTUM = 0.9
DEFAULT_BETAS = (0.9, 0.999)
DEFAULT_HIDDEN = (16,)
DEFAULT_ACTIVATION = "relu"

DEFAULT_MAX_HISTORY_POINTS = 100_000
"""Train points a job keeps when the config does not say (the service's default)."""


@dataclass(frozen=True)
class GridRange:
    """Evenly spaced values min + i·(max − min)/(steps − 1), i = 0..steps−1 (steps = 1: just min)."""

    min: float
    max: float
    steps: int

    def points(self) -> list[float]:
        """The values, computed exactly as the formula reads, so w = 2 is exactly 2.0 on [0, 4]."""
        if self.steps == 1:
            return [self.min]
        span = self.max - self.min
        return [self.min + i * span / (self.steps - 1) for i in range(self.steps)]


@dataclass(frozen=True)
class Grid:
    """An exhaustive search grid: one range for every weight (or one per feature), maybe a bias."""

    w: tuple[GridRange, ...]
    b: GridRange | None = None


@dataclass(frozen=True)
class ModelConfig:
    """The model: `linear` is ŷ = w·x + b (or ŷ = w·x without bias); `mlp` is nn.Linear layers of
    widths n_features → hidden… → outputs with `activation` between them (every layer has a bias,
    so `bias` is always true for it and `hidden`/`activation` matter only to it)."""

    type: str = "linear"
    bias: bool = True
    hidden: tuple[int, ...] = DEFAULT_HIDDEN
    activation: str = DEFAULT_ACTIVATION


@dataclass(frozen=True)
class OptimizerConfig:
    """How parameters are found. Each field matters only to the types that use it.

    `lr` is None when the config says "auto": train() then chooses it (lr_auto.py) and reports the
    value it used through Reporter.plan and TrainOutput.lr.
    """

    type: str
    lr: float | None = DEFAULT_LR
    batch_size: int = DEFAULT_BATCH_SIZE
    momentum: float = DEFAULT_MOMENTUM
    betas: tuple[float, float] = DEFAULT_BETAS
    grid: Grid | None = None

    @property
    def is_search(self) -> bool:
        """True for grid search (no gradient steps, no epochs)."""
        return self.type in SEARCH_TYPES

    @property
    def auto_lr(self) -> bool:
        """True when the learning rate is to be chosen by the engine."""
        return self.lr is None and not self.is_search


@dataclass(frozen=True)
class SplitConfig:
    """Fractions of the rows held out as dev and test sets."""

    dev: float = 0.0
    test: float = 0.0


@dataclass(frozen=True)
class EarlyStoppingConfig:
    """Stop after `patience` epochs without a dev-loss improvement larger than `min_delta`."""

    patience: int
    min_delta: float = 0.0


@dataclass(frozen=True)
class TrainConfig:
    """Everything `train()` needs besides the data and the reporter."""

    optimizer: OptimizerConfig
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: str = "mse"
    epochs: int = 100
    tolerance: float = 1e-7
    split: SplitConfig = field(default_factory=SplitConfig)
    early_stopping: EarlyStoppingConfig | None = None
    smoothing: float = 0.4
    standardize: bool = True
    seed: int = 0
    max_runtime_seconds: float = 3600.0
    max_history_points: int = DEFAULT_MAX_HISTORY_POINTS

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Read a job config as the API stores it; a missing key takes the API's default.

        Raises ValueError, naming the field, on anything inconsistent or not supported yet.
        """
        _require_mapping(data, "config")
        model = _model(data.get("model"))
        loss = _choice(data, "loss", "loss", LOSS_TYPES, default="mse")
        optimizer = _optimizer(data.get("optimizer"))
        config = cls(
            optimizer=optimizer,
            model=model,
            loss=loss,
            epochs=_int(data, "epochs", "epochs", default=100, minimum=1),
            tolerance=_float(data, "tolerance", "tolerance", default=1e-7, minimum=0.0),
            split=_split(data.get("split")),
            early_stopping=_early_stopping(data.get("early_stopping")),
            smoothing=_float(data, "smoothing", "smoothing", default=0.4, above=0.0, maximum=1.0),
            standardize=_bool(data, "standardize", "standardize", default=True),
            seed=_int(data, "seed", "seed", default=0),
            max_runtime_seconds=_float(
                data, "max_runtime_seconds", "max_runtime_seconds", default=3600.0, above=0.0
            ),
            max_history_points=_history_points(data),
        )
        _check_search(config)
        return config


def _history_points(data: Mapping[str, Any]) -> int:
    """Older stored configs lack the key (or hold null): both mean the default."""
    if data.get("max_history_points") is None:
        return DEFAULT_MAX_HISTORY_POINTS
    return _int(data, "max_history_points", "max_history_points", minimum=1)


def _model(raw: Any) -> ModelConfig:
    if raw is None:
        return ModelConfig()
    _require_mapping(raw, "model")
    kind = _choice(raw, "type", "model.type", MODEL_TYPES, default="linear")
    if kind == "linear":
        return ModelConfig(type=kind, bias=_bool(raw, "bias", "model.bias", default=True))
    hidden = raw.get("hidden", list(DEFAULT_HIDDEN))
    if not isinstance(hidden, list | tuple) or not hidden:
        raise ValueError(f"model.hidden: must be a non-empty list of layer widths, got {hidden!r}")
    widths = tuple(_int({"w": w}, "w", f"model.hidden.{i}", minimum=1) for i, w in enumerate(hidden))
    return ModelConfig(
        type=kind,
        bias=True,
        hidden=widths,
        activation=_choice(raw, "activation", "model.activation", ACTIVATIONS, default=DEFAULT_ACTIVATION),
    )


def _optimizer(raw: Any) -> OptimizerConfig:
    if raw is None:
        raise ValueError('optimizer: required (for example {"type": "gd", "lr": 0.01})')
    _require_mapping(raw, "optimizer")
    kind = _choice(raw, "type", "optimizer.type", SEARCH_TYPES + DESCENT_TYPES)
    if kind in SEARCH_TYPES:
        return OptimizerConfig(type=kind, lr=None, grid=_grid(raw.get("grid")))
    lr: float | None = None
    if raw.get("lr") != AUTO:
        default = DEFAULT_ADAM_LR if kind == "adam" else DEFAULT_LR
        lr = _float(raw, "lr", "optimizer.lr", default=default, above=0.0)
    batch_size = DEFAULT_BATCH_SIZE
    if kind in BATCHED_TYPES:
        batch_size = _int(raw, "batch_size", "optimizer.batch_size", default=DEFAULT_BATCH_SIZE, minimum=1)
    momentum = DEFAULT_MOMENTUM
    if kind == "momentum":
        momentum = _float(
            raw, "momentum", "optimizer.momentum", default=DEFAULT_MOMENTUM, minimum=0.0, below=1.0
        )
    betas = DEFAULT_BETAS
    if kind == "adam":
        betas = _betas(raw.get("betas", list(DEFAULT_BETAS)))
    return OptimizerConfig(type=kind, lr=lr, batch_size=batch_size, momentum=momentum, betas=betas)


def _betas(raw: Any) -> tuple[float, float]:
    if not isinstance(raw, list | tuple) or len(raw) != 2:
        raise ValueError(f"optimizer.betas: must be a list of two numbers [β1, β2], got {raw!r}")
    b1, b2 = (
        _float({"b": b}, "b", f"optimizer.betas.{i}", minimum=0.0, below=1.0) for i, b in enumerate(raw)
    )
    return (b1, b2)


def _grid(raw: Any) -> Grid:
    if raw is None:
        raise ValueError("optimizer.grid: required for the exhaustive optimizer")
    _require_mapping(raw, "optimizer.grid")
    w_raw = raw.get("w")
    if isinstance(w_raw, Mapping):
        w_raw = [w_raw]
    if not isinstance(w_raw, list | tuple) or not w_raw:
        raise ValueError("optimizer.grid.w: must be a range or a non-empty list of ranges")
    w = tuple(_range(r, f"optimizer.grid.w.{i}") for i, r in enumerate(w_raw))
    b_raw = raw.get("b")
    b = None if b_raw is None else _range(b_raw, "optimizer.grid.b")
    return Grid(w=w, b=b)


def _range(raw: Any, path: str) -> GridRange:
    _require_mapping(raw, path)
    lo = _float(raw, "min", f"{path}.min")
    hi = _float(raw, "max", f"{path}.max")
    steps = _int(raw, "steps", f"{path}.steps", minimum=1)
    if hi < lo:
        raise ValueError(f"{path}: max ({hi}) must not be below min ({lo})")
    return GridRange(min=lo, max=hi, steps=steps)


def _split(raw: Any) -> SplitConfig:
    if raw is None:
        return SplitConfig()
    _require_mapping(raw, "split")
    dev = _float(raw, "dev", "split.dev", default=0.0, minimum=0.0, below=1.0)
    test = _float(raw, "test", "split.test", default=0.0, minimum=0.0, below=1.0)
    if dev + test >= 1.0:
        raise ValueError(f"split: dev + test = {dev + test:g} must be below 1 (training needs rows)")
    return SplitConfig(dev=dev, test=test)


def _early_stopping(raw: Any) -> EarlyStoppingConfig | None:
    if raw is None:
        return None
    _require_mapping(raw, "early_stopping")
    return EarlyStoppingConfig(
        patience=_int(raw, "patience", "early_stopping.patience", minimum=1),
        min_delta=_float(raw, "min_delta", "early_stopping.min_delta", default=0.0, minimum=0.0),
    )


def _check_search(config: TrainConfig) -> None:
    """Exhaustive search evaluates a linear model's cost surface; reject what it cannot do."""
    opt = config.optimizer
    if not opt.is_search:
        return
    if config.model.type != "linear":
        raise ValueError(f"optimizer.type: {opt.type} supports only linear models")
    if config.loss not in SEARCH_LOSSES:
        why = (
            ": its model has one output per class (a weight per class and feature), the grid one "
            "weight per feature"
            if config.loss == "cross_entropy"
            else ""
        )
        raise ValueError(
            f"loss: {opt.type} search does not support {config.loss}{why}; "
            f"supported: {', '.join(SEARCH_LOSSES)}"
        )
    if opt.grid is not None and opt.grid.b is not None and not config.model.bias:
        raise ValueError("optimizer.grid.b: the model has no bias (model.bias is false)")


# -- field readers: each names the dotted path of what it rejects ---------------------------------

_MISSING: Any = object()


def _require_mapping(value: Any, path: str) -> None:
    if not isinstance(value, Mapping):
        raise ValueError(f"{path}: must be an object, got {type(value).__name__}")


def _get(data: Mapping[str, Any], key: str, path: str, default: Any) -> Any:
    value = data.get(key, default)
    if value is _MISSING:
        raise ValueError(f"{path}: required")
    return value


def _choice(
    data: Mapping[str, Any],
    key: str,
    path: str,
    known: tuple[str, ...],
    default: Any = _MISSING,
) -> str:
    value = _get(data, key, path, default)
    if value not in known:
        raise ValueError(f"{path}: {value!r} is unknown or not supported yet (supported: {', '.join(known)})")
    return str(value)


def _bool(data: Mapping[str, Any], key: str, path: str, default: Any = _MISSING) -> bool:
    value = _get(data, key, path, default)
    if not isinstance(value, bool):
        raise ValueError(f"{path}: must be true or false, got {value!r}")
    return value


def _int(
    data: Mapping[str, Any],
    key: str,
    path: str,
    default: Any = _MISSING,
    minimum: int | None = None,
) -> int:
    value = _get(data, key, path, default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{path}: must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{path}: must be ≥ {minimum}, got {value}")
    return value


def _float(
    data: Mapping[str, Any],
    key: str,
    path: str,
    default: Any = _MISSING,
    *,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
    below: float | None = None,
) -> float:
    value = _get(data, key, path, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{path}: must be a finite number, got {value!r}")
    value = float(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{path}: must be ≥ {minimum:g}, got {value:g}")
    if above is not None and value <= above:
        raise ValueError(f"{path}: must be > {above:g}, got {value:g}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{path}: must be ≤ {maximum:g}, got {value:g}")
    if below is not None and value >= below:
        raise ValueError(f"{path}: must be < {below:g}, got {value:g}")
    return value
