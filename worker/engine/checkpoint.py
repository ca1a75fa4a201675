"""Checkpoints: everything a gradient-descent run needs to continue exactly where it stopped.

Why: a worker can die or be told to stop, and the job then resumes on another worker from its last
checkpoint; the history and the result must be those of an uninterrupted run, bit for bit (same
thread count). So a checkpoint is the loop's complete state between two updates, taken right
after an update's bookkeeping (its history point, and the epoch-end work after an epoch's last
update), and `RunState` is that state with every field typed and checked.

Format (`Checkpoint.to_bytes`): a safetensors file — never pickle — whose metadata key
"descent.checkpoint" holds the JSON {"format": "descent.checkpoint", "version": 1,
"train_points": n, "dev_points": m, "meta": {...}}. The bytes are treated as untrusted:
`Checkpoint.from_bytes` checks all of it and raises ValueError on anything malformed, and train()
checks that it fits the job (config, data, model shapes) before using it.

Tensors:
- `model.<name>` float32: the model's parameters, by state_dict name (`linear.weight`, `net.0.bias`…);
- `optimizer.<i>.<key>` float32: torch.optim's state of parameter i (meta `parameters[i]`):
  `momentum_buffer` (momentum), or `step` (0-d), `exp_avg`, `exp_avg_sq` (adam); gd, sgd and
  minibatch keep none;
- `best.<name>` float32: early stopping's best parameters, once a best epoch exists;
- `shuffle.state` uint8: the shuffle generator's state at the start of the epoch in progress (the
  epoch's permutation is drawn again from it, and training continues at batch `batch`);
- `scaling.x_center`, `scaling.x_scale` float64: the standardization. It is recomputed from the
  data on resume (deterministic) and must equal these, which checks the data is the same.

Meta keys (floats as JSON numbers; NaN and ±infinity as the strings "nan", "inf", "-inf"):
- `config`: the job's config (descent.spec.JobConfig) as JSON, minus `dataset_id`, `log_every`,
  `max_runtime_seconds` and `optimizer.lr` (a stored config may carry the chosen lr instead of
  "auto"); it must equal the resumed job's;
- `data`: {rows (training rows), features, outputs}; `parameters`: parameter names, optimizer order;
- `lr` (the rate in use: "auto" is not chosen again), `log_every`, `batch_size`, `steps_per_epoch`;
- `step` (updates done), `epoch` (0-based epoch in progress = epochs completed), `batch` (next
  batch of that epoch; step = epoch·steps_per_epoch + batch), `epoch_cost_sum` (its updates' costs
  so far), `first_cost` and `previous_cost` (divergence and convergence; null before epoch 1);
- `history`: the open window {sum, count, step, epoch} and `smoothed`, the last smoothed value;
- `tracker`: null without a dev split, else {best_loss, best_epoch, stale_epochs};
- `metrics`: the last epoch's live metrics; `elapsed_seconds`: training seconds so far (all
  attempts), from which max_runtime_seconds keeps counting; `scaling`: {y_center, y_scale}.
Counts: `train_points` = step // log_every and `dev_points` = epoch (0 without a dev split).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import safetensors.numpy
import torch
from torch import nn

from descent.spec import JobConfig

from .data import Scaling
from .history import WindowState

FORMAT = "descent.checkpoint"
VERSION = 1
METADATA_KEY = "descent.checkpoint"
"""The safetensors metadata key that holds the checkpoint's JSON."""
OPTIMIZER_KEYS = frozenset({"momentum_buffer", "step", "exp_avg", "exp_avg_sq"})
"""Per-parameter optimizer state a checkpoint may hold (optimizers.DescentMethod.state_keys)."""
GENERATOR_STATE_BYTES = int(torch.Generator().get_state().numel())
"""Size of a CPU torch.Generator's state (mt19937 and the normal-distribution cache)."""

_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


@dataclass(eq=False)
class Checkpoint:
    """A run's state between two updates: tensors plus JSON-able meta (module docstring)."""

    tensors: dict[str, np.ndarray]
    meta: dict[str, Any]
    train_points: int
    """History train points emitted (reporter.train_point calls, all attempts) up to the checkpoint."""
    dev_points: int
    """Dev points emitted up to the checkpoint."""

    def to_bytes(self) -> bytes:
        """A safetensors file with the JSON meta in its metadata (never pickle)."""
        header = {
            "format": FORMAT,
            "version": VERSION,
            "train_points": int(self.train_points),
            "dev_points": int(self.dev_points),
            "meta": self.meta,
        }
        text = json.dumps(header, allow_nan=False, separators=(",", ":"))
        arrays = {name: np.asarray(a, order="C") for name, a in self.tensors.items()}
        return safetensors.numpy.save(arrays, metadata={METADATA_KEY: text})

    @classmethod
    def from_bytes(cls, data: bytes) -> Checkpoint:
        """Read `to_bytes` output, checking everything; ValueError on anything malformed."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ValueError(f"checkpoint: expected bytes, got {type(data).__name__}")
        data = bytes(data)
        try:
            tensors = safetensors.numpy.load(data)
        except Exception as exc:  # SafetensorError and whatever else malformed bytes raise
            raise ValueError(f"checkpoint: not a readable safetensors file ({exc})") from None
        header = _header(data)
        if header.get("format") != FORMAT or header.get("version") != VERSION:
            raise ValueError(
                f"checkpoint: format {header.get('format')!r} version {header.get('version')!r} "
                f"is not {FORMAT!r} version {VERSION}"
            )
        checkpoint = cls(
            tensors=tensors,
            meta=_field(header, "meta", "checkpoint"),
            train_points=_int(_field(header, "train_points", "checkpoint"), "checkpoint.train_points"),
            dev_points=_int(_field(header, "dev_points", "checkpoint"), "checkpoint.dev_points"),
        )
        RunState.from_checkpoint(checkpoint)  # the structural checks
        return checkpoint


def _header(data: bytes) -> dict[str, Any]:
    """The checkpoint JSON from the safetensors header (which safetensors has already checked)."""

    def reject(constant: str) -> None:
        raise ValueError(f"checkpoint: {constant} is not JSON")

    try:
        size = int.from_bytes(data[:8], "little")
        raw = json.loads(data[8 : 8 + size])
        text = raw["__metadata__"][METADATA_KEY]
        if not isinstance(text, str):
            raise TypeError("metadata is not a string")
        header = json.loads(text, parse_constant=reject)
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise ValueError(f"checkpoint: no descent checkpoint metadata ({exc})") from None
    if not isinstance(header, dict):
        raise ValueError("checkpoint: the metadata is not a JSON object")
    return header


@dataclass(frozen=True)
class TrackerState:
    """DevTracker's bookkeeping (its best parameters are RunState.best)."""

    best_loss: float | None
    best_epoch: int | None
    stale_epochs: int


@dataclass
class RunState:
    """The loop's state between two updates, typed; `Checkpoint` is its serialised form."""

    config: dict[str, Any]
    rows: int
    features: int
    outputs: int
    parameters: list[str]
    lr: float
    log_every: int
    batch_size: int
    steps_per_epoch: int
    step: int
    epoch: int
    batch: int
    epoch_cost_sum: float
    first_cost: float | None
    previous_cost: float | None
    window: WindowState
    tracker: TrackerState | None
    metrics: dict[str, float | int | None]
    elapsed_seconds: float
    y_center: float
    y_scale: float
    model: dict[str, np.ndarray]
    optimizer: dict[int, dict[str, np.ndarray]]
    best: dict[str, np.ndarray]
    shuffle: np.ndarray
    x_center: np.ndarray
    x_scale: np.ndarray
    train_points: int
    dev_points: int

    # -- to a checkpoint -----------------------------------------------------------------------------
    def to_checkpoint(self) -> Checkpoint:
        """The serialisable form (the arrays are not copied: RunState's are already copies)."""
        tensors: dict[str, np.ndarray] = {f"model.{k}": v for k, v in self.model.items()}
        for index, state in self.optimizer.items():
            tensors.update({f"optimizer.{index}.{k}": v for k, v in state.items()})
        tensors.update({f"best.{k}": v for k, v in self.best.items()})
        tensors["shuffle.state"] = self.shuffle
        tensors["scaling.x_center"] = self.x_center
        tensors["scaling.x_scale"] = self.x_scale
        w = self.window
        tracker = None
        if self.tracker is not None:
            t = self.tracker
            tracker = {
                "best_loss": _f(t.best_loss),
                "best_epoch": t.best_epoch,
                "stale_epochs": t.stale_epochs,
            }
        meta = {
            "config": self.config,
            "data": {"rows": self.rows, "features": self.features, "outputs": self.outputs},
            "parameters": list(self.parameters),
            "lr": _f(self.lr),
            "log_every": self.log_every,
            "batch_size": self.batch_size,
            "steps_per_epoch": self.steps_per_epoch,
            "step": self.step,
            "epoch": self.epoch,
            "batch": self.batch,
            "epoch_cost_sum": _f(self.epoch_cost_sum),
            "first_cost": _f(self.first_cost),
            "previous_cost": _f(self.previous_cost),
            "history": {
                "sum": _f(w.sum),
                "count": w.count,
                "step": w.step,
                "epoch": w.epoch,
                "smoothed": _f(w.smoothed),
            },
            "tracker": tracker,
            "metrics": {k: v if isinstance(v, int) else _f(v) for k, v in self.metrics.items()},
            "elapsed_seconds": _f(self.elapsed_seconds),
            "scaling": {"y_center": _f(self.y_center), "y_scale": _f(self.y_scale)},
        }
        return Checkpoint(tensors, meta, self.train_points, self.dev_points)

    # -- from a checkpoint ---------------------------------------------------------------------------
    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint) -> RunState:
        """Parse and check a checkpoint on its own (types, ranges, internal consistency); ValueError.

        Whether it fits a job (config, data, model) is `check_fits`.
        """
        if not isinstance(checkpoint, Checkpoint):
            raise ValueError(f"checkpoint: expected a Checkpoint, got {type(checkpoint).__name__}")
        meta = checkpoint.meta
        if not isinstance(meta, dict):
            raise ValueError("checkpoint.meta: must be an object")
        tensors = checkpoint.tensors
        if not isinstance(tensors, dict) or not all(
            isinstance(k, str) and isinstance(v, np.ndarray) for k, v in tensors.items()
        ):
            raise ValueError("checkpoint.tensors: must map names to numpy arrays")

        def get(key: str) -> Any:
            return _field(meta, key, "meta")

        config = get("config")
        if not isinstance(config, dict):
            raise ValueError("checkpoint meta.config: must be an object")
        data = get("data")
        parameters = get("parameters")
        if (
            not isinstance(parameters, list)
            or not parameters
            or not all(isinstance(p, str) for p in parameters)
            or len(set(parameters)) != len(parameters)
        ):
            raise ValueError("checkpoint meta.parameters: must be a non-empty list of distinct names")
        history = get("history")
        scaling = get("scaling")
        state = cls(
            config=config,
            rows=_int(_field(data, "rows", "meta.data"), "meta.data.rows", 1),
            features=_int(_field(data, "features", "meta.data"), "meta.data.features", 1),
            outputs=_int(_field(data, "outputs", "meta.data"), "meta.data.outputs", 1),
            parameters=parameters,
            lr=_positive(get("lr"), "meta.lr"),
            log_every=_int(get("log_every"), "meta.log_every", 1),
            batch_size=_int(get("batch_size"), "meta.batch_size", 1),
            steps_per_epoch=_int(get("steps_per_epoch"), "meta.steps_per_epoch", 1),
            step=_int(get("step"), "meta.step"),
            epoch=_int(get("epoch"), "meta.epoch"),
            batch=_int(get("batch"), "meta.batch"),
            epoch_cost_sum=_float(get("epoch_cost_sum"), "meta.epoch_cost_sum"),
            first_cost=_opt_float(get("first_cost"), "meta.first_cost"),
            previous_cost=_opt_float(get("previous_cost"), "meta.previous_cost"),
            window=WindowState(
                sum=_float(_field(history, "sum", "meta.history"), "meta.history.sum"),
                count=_int(_field(history, "count", "meta.history"), "meta.history.count"),
                step=_int(_field(history, "step", "meta.history"), "meta.history.step"),
                epoch=_int(_field(history, "epoch", "meta.history"), "meta.history.epoch"),
                smoothed=_opt_float(_field(history, "smoothed", "meta.history"), "meta.history.smoothed"),
            ),
            tracker=_tracker(get("tracker")),
            metrics=_metrics(get("metrics")),
            elapsed_seconds=_elapsed(get("elapsed_seconds")),
            y_center=_float(_field(scaling, "y_center", "meta.scaling"), "meta.scaling.y_center"),
            y_scale=_positive(_field(scaling, "y_scale", "meta.scaling"), "meta.scaling.y_scale"),
            model={},
            optimizer={},
            best={},
            shuffle=np.zeros(0, dtype=np.uint8),
            x_center=np.zeros(0),
            x_scale=np.zeros(0),
            train_points=_int(checkpoint.train_points, "checkpoint.train_points"),
            dev_points=_int(checkpoint.dev_points, "checkpoint.dev_points"),
        )
        state._take_tensors(tensors)
        state._check_consistency()
        return state

    def _take_tensors(self, tensors: dict[str, np.ndarray]) -> None:
        """Sort the named arrays into their fields, checking names, dtypes and shapes."""
        index_of = {name: i for i, name in enumerate(self.parameters)}
        singles = {"shuffle.state": None, "scaling.x_center": None, "scaling.x_scale": None}
        for name, array in tensors.items():
            group, _, rest = name.partition(".")
            if name in singles:
                singles[name] = array
            elif group in ("model", "best") and rest:
                _check_dtype(array, np.float32, name)
                (self.model if group == "model" else self.best)[rest] = array
            elif group == "optimizer":
                index, _, key = rest.partition(".")
                if not index.isdigit() or str(int(index)) != index or int(index) >= len(self.parameters):
                    raise ValueError(f"checkpoint tensor {name}: no parameter {index!r}")
                if key not in OPTIMIZER_KEYS:
                    raise ValueError(f"checkpoint tensor {name}: unknown optimizer state {key!r}")
                _check_dtype(array, np.float32, name)
                self.optimizer.setdefault(int(index), {})[key] = array
            else:
                raise ValueError(f"checkpoint tensor {name}: unknown name")
        for name, array in singles.items():
            if array is None:
                raise ValueError(f"checkpoint tensor {name}: missing")
        shuffle, x_center, x_scale = singles.values()
        assert shuffle is not None and x_center is not None and x_scale is not None
        _check_dtype(shuffle, np.uint8, "shuffle.state")
        if shuffle.shape != (GENERATOR_STATE_BYTES,):
            raise ValueError(
                f"checkpoint tensor shuffle.state: shape {shuffle.shape} is not a generator state"
            )
        for name, array in (("scaling.x_center", x_center), ("scaling.x_scale", x_scale)):
            _check_dtype(array, np.float64, name)
            if array.shape != (self.features,):
                raise ValueError(
                    f"checkpoint tensor {name}: shape {array.shape}, expected ({self.features},)"
                )
        self.shuffle, self.x_center, self.x_scale = shuffle, x_center, x_scale
        if set(self.model) != set(index_of):
            raise ValueError("checkpoint: the model tensors are not those meta.parameters names")
        for index, state in self.optimizer.items():
            shape = self.model[self.parameters[index]].shape
            for key, array in state.items():
                expected = () if key == "step" else shape
                if array.shape != expected:
                    raise ValueError(
                        f"checkpoint tensor optimizer.{index}.{key}: shape {array.shape}, expected {expected}"
                    )
        for name, array in self.best.items():
            if name in self.model and array.shape != self.model[name].shape:
                raise ValueError(
                    f"checkpoint tensor best.{name}: shape {array.shape}, expected {self.model[name].shape}"
                )
        if self.best and set(self.best) != set(self.model):
            raise ValueError("checkpoint: the best.* tensors do not match the model.* tensors")

    def _check_consistency(self) -> None:
        """The counters agree with each other (they are all derived from step and epoch)."""
        spe = self.steps_per_epoch
        if self.batch_size > self.rows or spe != math.ceil(self.rows / self.batch_size):
            raise ValueError("checkpoint: batch_size and steps_per_epoch do not fit the training rows")
        if self.batch >= spe or self.step != self.epoch * spe + self.batch:
            raise ValueError("checkpoint: step is not epoch · steps_per_epoch + batch")
        if self.window.count >= self.log_every or self.window.count != self.step % self.log_every:
            raise ValueError("checkpoint: the open history window does not fit step and log_every")
        if self.train_points != self.step // self.log_every:
            raise ValueError("checkpoint: train_points is not step // log_every")
        if (self.window.smoothed is None) != (self.train_points == 0):
            raise ValueError("checkpoint: meta.history.smoothed must be null exactly before the first point")
        if (self.first_cost is None) != (self.epoch == 0) or (self.previous_cost is None) != (
            self.epoch == 0
        ):
            raise ValueError("checkpoint: first_cost and previous_cost must be null exactly in epoch 0")
        if self.batch == 0 and self.epoch_cost_sum != 0.0:
            raise ValueError("checkpoint: an epoch's cost sum must be 0 before its first batch")
        tracker = self.tracker
        if tracker is None:
            if self.dev_points != 0 or self.best:
                raise ValueError("checkpoint: dev points or best parameters without a dev tracker")
            return
        if self.dev_points != self.epoch:
            raise ValueError("checkpoint: dev_points must equal the completed epochs")
        if (tracker.best_loss is None) != (self.epoch == 0) or (tracker.best_epoch is None) != (
            self.epoch == 0
        ):
            raise ValueError("checkpoint: meta.tracker's best must be null exactly in epoch 0")
        if tracker.best_epoch is not None and not 1 <= tracker.best_epoch <= self.epoch:
            raise ValueError("checkpoint: meta.tracker.best_epoch is not a completed epoch")
        if tracker.stale_epochs > self.epoch:
            raise ValueError("checkpoint: meta.tracker.stale_epochs exceeds the completed epochs")

    # -- fitting a job --------------------------------------------------------------------------------
    def check_fits(
        self,
        *,
        config: JobConfig,
        rows: int,
        features: int,
        outputs: int,
        batch_size: int,
        model: nn.Module,
        state_keys: frozenset[str],
        has_dev: bool,
        scaling: Scaling,
    ) -> None:
        """ValueError unless this state belongs to this job (config, data, model, optimizer)."""
        differences = _differences(self.config, config_fingerprint(config))
        if differences:
            raise ValueError("checkpoint does not fit the job config: " + "; ".join(differences[:5]))
        if not config.optimizer.auto_lr and config.optimizer.lr != self.lr:
            raise ValueError(
                f"checkpoint does not fit the job config: optimizer.lr is {self.lr!r} in the "
                f"checkpoint but {config.optimizer.lr!r} in the config"
            )
        if self.epoch >= config.epochs:
            raise ValueError(f"checkpoint: epoch {self.epoch} is past the job's {config.epochs} epochs")
        data = (self.rows, self.features, self.outputs)
        if data != (rows, features, outputs):
            raise ValueError(
                f"checkpoint does not fit the data: (training rows, features, outputs) {data} in "
                f"the checkpoint, {(rows, features, outputs)} here"
            )
        if self.batch_size != batch_size:
            raise ValueError(f"checkpoint: batch_size {self.batch_size}, the job's is {batch_size}")
        names = [name for name, _ in model.named_parameters()]
        live = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        if names != self.parameters or set(live) != set(names):
            raise ValueError(f"checkpoint: parameters {self.parameters}, the model's are {names}")
        for name, shape in live.items():
            if self.model[name].shape != shape:
                raise ValueError(
                    f"checkpoint tensor model.{name}: shape {self.model[name].shape}, the model's is {shape}"
                )
        for index, state in self.optimizer.items():
            if set(state) != state_keys:
                raise ValueError(
                    f"checkpoint: optimizer state {sorted(state)} of parameter {index}, "
                    f"{config.optimizer.type} keeps {sorted(state_keys)}"
                )
        if has_dev != (self.tracker is not None):
            raise ValueError("checkpoint: dev tracking does not match the job's dev split")
        wants_best = config.early_stopping is not None and self.tracker is not None and self.epoch > 0
        if wants_best != bool(self.best):
            raise ValueError("checkpoint: early stopping's best parameters are missing or unexpected")
        if not (
            np.array_equal(self.x_center, scaling.x_center)
            and np.array_equal(self.x_scale, scaling.x_scale)
            and self.y_center == scaling.y_center
            and self.y_scale == scaling.y_scale
        ):
            raise ValueError("checkpoint: the training data differs from the data it was taken on")


def config_fingerprint(config: JobConfig) -> dict[str, Any]:
    """The config a checkpoint records: the config's JSON minus what may change on resume.

    `max_runtime_seconds` is a limit, not part of the trajectory; `optimizer.lr` is checked on its
    own (a stored config may carry the rate "auto" chose in place of "auto"); `log_every` is added
    to the stored config once training starts, and `dataset_id` is checked by the data itself.
    """
    raw: dict[str, Any] = config.model_dump(
        mode="json", exclude={"dataset_id", "max_runtime_seconds", "log_every"}
    )
    raw["optimizer"].pop("lr", None)
    return raw


def _differences(stored: Any, current: Any, path: str = "") -> list[str]:
    """Dotted paths where two JSON values differ, with both values."""
    if isinstance(stored, dict) and isinstance(current, dict):
        out: list[str] = []
        for key in sorted(set(stored) | set(current), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in stored or key not in current:
                out.append(f"{sub} is only in the {'config' if key in current else 'checkpoint'}")
            else:
                out += _differences(stored[key], current[key], sub)
        return out
    if stored != current or type(stored) is not type(current):
        return [f"{path or 'config'} is {stored!r} in the checkpoint but {current!r} in the config"]
    return []


# -- meta readers: each names the path of what it rejects ---------------------------------------------


def _f(value: float | None) -> float | str | None:
    """A float for JSON: finite as a number, else "nan", "inf" or "-inf"."""
    if value is None:
        return None
    value = float(value)
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _field(obj: Any, key: str, path: str) -> Any:
    if not isinstance(obj, Mapping):
        raise ValueError(f"checkpoint {path}: must be an object")
    if key not in obj:
        raise ValueError(f"checkpoint {path}.{key}: missing")
    return obj[key]


def _int(value: Any, path: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"checkpoint {path}: must be an integer ≥ {minimum}, got {value!r}")
    return value


def _float(value: Any, path: str) -> float:
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"checkpoint {path}: must be a number, got {value!r}")
    return float(value)


def _opt_float(value: Any, path: str) -> float | None:
    return None if value is None else _float(value, path)


def _positive(value: Any, path: str) -> float:
    number = _float(value, path)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"checkpoint {path}: must be a finite number > 0, got {value!r}")
    return number


def _elapsed(value: Any) -> float:
    number = _float(value, "meta.elapsed_seconds")
    if not (math.isfinite(number) and number >= 0):
        raise ValueError(f"checkpoint meta.elapsed_seconds: must be a finite number ≥ 0, got {value!r}")
    return number


def _tracker(value: Any) -> TrackerState | None:
    if value is None:
        return None
    best_epoch = _field(value, "best_epoch", "meta.tracker")
    return TrackerState(
        best_loss=_opt_float(_field(value, "best_loss", "meta.tracker"), "meta.tracker.best_loss"),
        best_epoch=None if best_epoch is None else _int(best_epoch, "meta.tracker.best_epoch", 1),
        stale_epochs=_int(_field(value, "stale_epochs", "meta.tracker"), "meta.tracker.stale_epochs"),
    )


def _metrics(value: Any) -> dict[str, float | int | None]:
    if not isinstance(value, dict):
        raise ValueError("checkpoint meta.metrics: must be an object")
    out: dict[str, float | int | None] = {}
    for key, item in value.items():
        if item is None or (isinstance(item, int) and not isinstance(item, bool)):
            out[key] = item
        else:
            out[key] = _float(item, f"meta.metrics.{key}")
    return out


def _check_dtype(array: np.ndarray, dtype: type, name: str) -> None:
    if array.dtype != dtype:
        raise ValueError(f"checkpoint tensor {name}: dtype {array.dtype}, expected {np.dtype(dtype)}")
