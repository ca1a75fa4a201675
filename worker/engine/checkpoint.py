"""The checkpoint codec: a RunState to bytes and back, checking everything on the way back.

Why: a worker can die or be told to stop, and the job then resumes on another worker from its last
checkpoint, stored in Redis as these bytes. They are treated as untrusted: `decode_checkpoint`
checks types, ranges and internal consistency and raises ValueError on anything malformed;
whether a checkpoint fits the job (config, data, model) is resume.check_fits's business.

Format: a safetensors file — never pickle, never torch.load — whose metadata key
"descent.checkpoint" holds the JSON {"format": "descent.checkpoint", "version": 2,
"train_points": n, "dev_points": m, "meta": {...}}.

Tensors:
- `model.<name>` float32: the model's parameters, by state_dict name (`linear.weight`, `net.0.bias`…);
- `optimizer.<i>.<key>` float32: torch.optim's state of parameter i (meta `parameters[i]`):
  `momentum_buffer` (momentum), or `step` (0-d), `exp_avg`, `exp_avg_sq` (adam); gd, sgd and
  minibatch keep none;
- `best.<name>` float32: early stopping's best parameters, once a best epoch exists;
- `shuffle.state` uint8: the shuffle generator's state at the start of the epoch in progress (the
  epoch's permutation is drawn again from it, and training continues at batch `batch`);
- `scaling.x_center`, `scaling.x_scale` float64: the standardization.

Meta keys (floats as JSON numbers; NaN and ±infinity as the strings "nan", "inf", "-inf"):
`config`; `data`: {rows, features, outputs}; `parameters`; `lr`, `log_every`, `batch_size`,
`steps_per_epoch`; `step`, `epoch`, `batch`, `epoch_cost_sum`, `first_cost`, `previous_cost`;
`history`: the open window {sum, count, step, epoch} and `smoothed`; `tracker`: null or
{best_loss, best_epoch, stale_epochs}; `schedule`: {epoch, lr, best, bad_epochs}; `metrics`;
`elapsed_seconds`; `scaling`: {y_center, y_scale} — each the RunState field of that name
(run_state.py says what they mean).

Version 2 added `schedule` (weight decay, clipping and schedules came with it, and their keys are
in every config since, so a version 1 checkpoint would not fit its job's config anyway).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import safetensors.numpy
import torch

from .checkpoint_fields import (
    check_dtype,
    elapsed,
    field,
    integer,
    json_float,
    metrics,
    number,
    optional_number,
    positive,
)
from .run_state import RunState, ScheduleState, TrackerState, WindowState

FORMAT = "descent.checkpoint"
VERSION = 2
METADATA_KEY = "descent.checkpoint"
"""The safetensors metadata key that holds the checkpoint's JSON."""
OPTIMIZER_KEYS = frozenset({"momentum_buffer", "step", "exp_avg", "exp_avg_sq"})
"""Per-parameter optimizer state a checkpoint may hold (optimizers.DescentMethod.state_keys)."""
GENERATOR_STATE_BYTES = int(torch.Generator().get_state().numel())
"""Size of a CPU torch.Generator's state (mt19937 and the normal-distribution cache)."""


def encode_checkpoint(state: RunState) -> bytes:
    """The state as a safetensors file with the JSON header in its metadata (module docstring)."""
    header = {
        "format": FORMAT,
        "version": VERSION,
        "train_points": int(state.train_points),
        "dev_points": int(state.dev_points),
        "meta": _meta(state),
    }
    text = json.dumps(header, allow_nan=False, separators=(",", ":"))
    tensors: dict[str, np.ndarray] = {f"model.{k}": v for k, v in state.model.items()}
    for index, entries in state.optimizer.items():
        tensors.update({f"optimizer.{index}.{k}": v for k, v in entries.items()})
    tensors.update({f"best.{k}": v for k, v in state.best.items()})
    tensors["shuffle.state"] = state.shuffle
    tensors["scaling.x_center"] = state.x_center
    tensors["scaling.x_scale"] = state.x_scale
    arrays = {name: np.asarray(a, order="C") for name, a in tensors.items()}
    return safetensors.numpy.save(arrays, metadata={METADATA_KEY: text})


def decode_checkpoint(data: bytes) -> RunState:
    """Read `encode_checkpoint` output, checking everything; ValueError on anything malformed."""
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
    state = _state(
        field(header, "meta", "checkpoint"),
        integer(field(header, "train_points", "checkpoint"), "checkpoint.train_points"),
        integer(field(header, "dev_points", "checkpoint"), "checkpoint.dev_points"),
    )
    _take_tensors(state, tensors)
    _check_consistency(state)
    return state


def _meta(state: RunState) -> dict[str, Any]:
    """The JSON meta of a state (floats through json_float: non-finite ones as strings)."""
    f = json_float
    w = state.window
    tracker = None
    if state.tracker is not None:
        t = state.tracker
        tracker = {"best_loss": f(t.best_loss), "best_epoch": t.best_epoch, "stale_epochs": t.stale_epochs}
    return {
        "config": state.config,
        "data": {"rows": state.rows, "features": state.features, "outputs": state.outputs},
        "parameters": list(state.parameters),
        "lr": f(state.lr),
        "log_every": state.log_every,
        "batch_size": state.batch_size,
        "steps_per_epoch": state.steps_per_epoch,
        "step": state.step,
        "epoch": state.epoch,
        "batch": state.batch,
        "epoch_cost_sum": f(state.epoch_cost_sum),
        "first_cost": f(state.first_cost),
        "previous_cost": f(state.previous_cost),
        "history": {
            "sum": f(w.sum),
            "count": w.count,
            "step": w.step,
            "epoch": w.epoch,
            "smoothed": f(w.smoothed),
        },
        "tracker": tracker,
        "schedule": {
            "epoch": state.schedule.epoch,
            "lr": f(state.schedule.lr),
            "best": f(state.schedule.best),
            "bad_epochs": state.schedule.bad_epochs,
        },
        "metrics": {k: v if isinstance(v, int) else f(v) for k, v in state.metrics.items()},
        "elapsed_seconds": f(state.elapsed_seconds),
        "scaling": {"y_center": f(state.y_center), "y_scale": f(state.y_scale)},
    }


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


def _state(meta: Any, train_points: int, dev_points: int) -> RunState:
    """The state's scalar fields from the meta, each checked; arrays come from `_take_tensors`."""
    if not isinstance(meta, dict):
        raise ValueError("checkpoint.meta: must be an object")

    def get(key: str) -> Any:
        return field(meta, key, "meta")

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

    def hist(key: str) -> Any:
        return field(history, key, "meta.history")

    return RunState(
        config=config,
        rows=integer(field(data, "rows", "meta.data"), "meta.data.rows", 1),
        features=integer(field(data, "features", "meta.data"), "meta.data.features", 1),
        outputs=integer(field(data, "outputs", "meta.data"), "meta.data.outputs", 1),
        parameters=parameters,
        lr=positive(get("lr"), "meta.lr"),
        log_every=integer(get("log_every"), "meta.log_every", 1),
        batch_size=integer(get("batch_size"), "meta.batch_size", 1),
        steps_per_epoch=integer(get("steps_per_epoch"), "meta.steps_per_epoch", 1),
        step=integer(get("step"), "meta.step"),
        epoch=integer(get("epoch"), "meta.epoch"),
        batch=integer(get("batch"), "meta.batch"),
        epoch_cost_sum=number(get("epoch_cost_sum"), "meta.epoch_cost_sum"),
        first_cost=optional_number(get("first_cost"), "meta.first_cost"),
        previous_cost=optional_number(get("previous_cost"), "meta.previous_cost"),
        window=WindowState(
            sum=number(hist("sum"), "meta.history.sum"),
            count=integer(hist("count"), "meta.history.count"),
            step=integer(hist("step"), "meta.history.step"),
            epoch=integer(hist("epoch"), "meta.history.epoch"),
            smoothed=optional_number(hist("smoothed"), "meta.history.smoothed"),
        ),
        tracker=_tracker(get("tracker")),
        schedule=_schedule(get("schedule")),
        metrics=metrics(get("metrics")),
        elapsed_seconds=elapsed(get("elapsed_seconds")),
        y_center=number(field(scaling, "y_center", "meta.scaling"), "meta.scaling.y_center"),
        y_scale=positive(field(scaling, "y_scale", "meta.scaling"), "meta.scaling.y_scale"),
        model={},
        optimizer={},
        best={},
        shuffle=np.zeros(0, dtype=np.uint8),
        x_center=np.zeros(0),
        x_scale=np.zeros(0),
        train_points=train_points,
        dev_points=dev_points,
    )


def _tracker(value: Any) -> TrackerState | None:
    if value is None:
        return None
    best_epoch = field(value, "best_epoch", "meta.tracker")
    return TrackerState(
        best_loss=optional_number(field(value, "best_loss", "meta.tracker"), "meta.tracker.best_loss"),
        best_epoch=None if best_epoch is None else integer(best_epoch, "meta.tracker.best_epoch", 1),
        stale_epochs=integer(field(value, "stale_epochs", "meta.tracker"), "meta.tracker.stale_epochs"),
    )


def _schedule(value: Any) -> ScheduleState:
    """meta.schedule: the rate may have decayed to 0 (a float underflow), never below or past finite."""
    def get(key: str) -> Any:
        return field(value, key, "meta.schedule")

    lr = number(get("lr"), "meta.schedule.lr")
    if not (math.isfinite(lr) and lr >= 0):
        raise ValueError(f"checkpoint meta.schedule.lr: must be a finite number ≥ 0, got {lr!r}")
    return ScheduleState(
        epoch=integer(get("epoch"), "meta.schedule.epoch"),
        lr=lr,
        best=number(get("best"), "meta.schedule.best"),
        bad_epochs=integer(get("bad_epochs"), "meta.schedule.bad_epochs"),
    )


def _take_tensors(state: RunState, tensors: dict[str, np.ndarray]) -> None:
    """Sort the named arrays into the state's fields, checking names, dtypes and shapes."""
    index_of = {name: i for i, name in enumerate(state.parameters)}
    singles: dict[str, np.ndarray | None] = {
        "shuffle.state": None,
        "scaling.x_center": None,
        "scaling.x_scale": None,
    }
    for name, array in tensors.items():
        group, _, rest = name.partition(".")
        if name in singles:
            singles[name] = array
        elif group in ("model", "best") and rest:
            check_dtype(array, np.float32, name)
            (state.model if group == "model" else state.best)[rest] = array
        elif group == "optimizer":
            index, _, key = rest.partition(".")
            if not index.isdigit() or str(int(index)) != index or int(index) >= len(state.parameters):
                raise ValueError(f"checkpoint tensor {name}: no parameter {index!r}")
            if key not in OPTIMIZER_KEYS:
                raise ValueError(f"checkpoint tensor {name}: unknown optimizer state {key!r}")
            check_dtype(array, np.float32, name)
            state.optimizer.setdefault(int(index), {})[key] = array
        else:
            raise ValueError(f"checkpoint tensor {name}: unknown name")
    for name, array in singles.items():
        if array is None:
            raise ValueError(f"checkpoint tensor {name}: missing")
    shuffle, x_center, x_scale = singles.values()
    assert shuffle is not None and x_center is not None and x_scale is not None
    check_dtype(shuffle, np.uint8, "shuffle.state")
    if shuffle.shape != (GENERATOR_STATE_BYTES,):
        raise ValueError(f"checkpoint tensor shuffle.state: shape {shuffle.shape} is not a generator state")
    for name, array in (("scaling.x_center", x_center), ("scaling.x_scale", x_scale)):
        check_dtype(array, np.float64, name)
        if array.shape != (state.features,):
            raise ValueError(f"checkpoint tensor {name}: shape {array.shape}, expected ({state.features},)")
    state.shuffle, state.x_center, state.x_scale = shuffle, x_center, x_scale
    if set(state.model) != set(index_of):
        raise ValueError("checkpoint: the model tensors are not those meta.parameters names")
    for index, entries in state.optimizer.items():
        shape = state.model[state.parameters[index]].shape
        for key, array in entries.items():
            expected = () if key == "step" else shape
            if array.shape != expected:
                raise ValueError(
                    f"checkpoint tensor optimizer.{index}.{key}: shape {array.shape}, expected {expected}"
                )
    for name, array in state.best.items():
        if name in state.model and array.shape != state.model[name].shape:
            raise ValueError(
                f"checkpoint tensor best.{name}: shape {array.shape}, expected {state.model[name].shape}"
            )
    if state.best and set(state.best) != set(state.model):
        raise ValueError("checkpoint: the best.* tensors do not match the model.* tensors")


def _check_consistency(state: RunState) -> None:
    """The counters agree with each other (they are all derived from step and epoch)."""
    spe = state.steps_per_epoch
    if state.batch_size > state.rows or spe != math.ceil(state.rows / state.batch_size):
        raise ValueError("checkpoint: batch_size and steps_per_epoch do not fit the training rows")
    if state.batch >= spe or state.step != state.epoch * spe + state.batch:
        raise ValueError("checkpoint: step is not epoch · steps_per_epoch + batch")
    if state.window.count >= state.log_every or state.window.count != state.step % state.log_every:
        raise ValueError("checkpoint: the open history window does not fit step and log_every")
    if state.train_points != state.step // state.log_every:
        raise ValueError("checkpoint: train_points is not step // log_every")
    if (state.window.smoothed is None) != (state.train_points == 0):
        raise ValueError("checkpoint: meta.history.smoothed must be null exactly before the first point")
    if (state.first_cost is None) != (state.epoch == 0) or (state.previous_cost is None) != (
        state.epoch == 0
    ):
        raise ValueError("checkpoint: first_cost and previous_cost must be null exactly in epoch 0")
    if state.batch == 0 and state.epoch_cost_sum != 0.0:
        raise ValueError("checkpoint: an epoch's cost sum must be 0 before its first batch")
    if state.schedule.epoch != state.epoch or state.schedule.bad_epochs > state.epoch:
        raise ValueError("checkpoint: the schedule's steps must equal the completed epochs")
    tracker = state.tracker
    if tracker is None:
        if state.dev_points != 0 or state.best:
            raise ValueError("checkpoint: dev points or best parameters without a dev tracker")
        return
    if state.dev_points != state.epoch:
        raise ValueError("checkpoint: dev_points must equal the completed epochs")
    if (tracker.best_loss is None) != (state.epoch == 0) or (tracker.best_epoch is None) != (
        state.epoch == 0
    ):
        raise ValueError("checkpoint: meta.tracker's best must be null exactly in epoch 0")
    if tracker.best_epoch is not None and not 1 <= tracker.best_epoch <= state.epoch:
        raise ValueError("checkpoint: meta.tracker.best_epoch is not a completed epoch")
    if tracker.stale_epochs > state.epoch:
        raise ValueError("checkpoint: meta.tracker.stale_epochs exceeds the completed epochs")
