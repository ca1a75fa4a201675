"""Whether a decoded checkpoint belongs to the job about to resume from it.

Why: checkpoint.decode_checkpoint checks that the bytes are a well-formed state; this checks that
the state is this job's — the same config (but the limits that may change), the same data and
scaling, the same model and optimizer shapes — so that a resumed run continues the interrupted
one, and otherwise fails with ValueError before anything is reported (the worker then starts over).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from descent.spec import JobConfig

from .data import Scaling
from .run_state import RunState


def config_fingerprint(config: JobConfig) -> dict[str, Any]:
    """The config a checkpoint records: the config's JSON minus what may change on resume.

    `max_runtime_seconds` is a limit, not part of the trajectory; `optimizer.lr` is checked on its
    own (a stored config may carry the rate "auto" chose in place of "auto"); `log_every` is added
    to the stored config once training starts (and `features.fitted`, what preprocessing resolved
    to), and `dataset_id` is checked by the data itself. A checkpoint taken before a key existed
    (`features`, `positive`, `split.stratify`) does not fit: that job starts over.
    """
    raw: dict[str, Any] = config.model_dump(
        mode="json",
        exclude={"dataset_id": True, "max_runtime_seconds": True, "log_every": True, "features": {"fitted"}},
    )
    raw["optimizer"].pop("lr", None)
    return raw


def check_fits(
    state: RunState,
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
    """ValueError unless `state` belongs to this job (config, data, model, optimizer)."""
    differences = _differences(state.config, config_fingerprint(config))
    if differences:
        raise ValueError("checkpoint does not fit the job config: " + "; ".join(differences[:5]))
    if not config.optimizer.auto_lr and config.optimizer.lr != state.lr:
        raise ValueError(
            f"checkpoint does not fit the job config: optimizer.lr is {state.lr!r} in the "
            f"checkpoint but {config.optimizer.lr!r} in the config"
        )
    if state.epoch >= config.epochs:
        raise ValueError(f"checkpoint: epoch {state.epoch} is past the job's {config.epochs} epochs")
    data = (state.rows, state.features, state.outputs)
    if data != (rows, features, outputs):
        raise ValueError(
            f"checkpoint does not fit the data: (training rows, features, outputs) {data} in "
            f"the checkpoint, {(rows, features, outputs)} here"
        )
    if state.batch_size != batch_size:
        raise ValueError(f"checkpoint: batch_size {state.batch_size}, the job's is {batch_size}")
    names = [name for name, _ in model.named_parameters()]
    live = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    if names != state.parameters or set(live) != set(names):
        raise ValueError(f"checkpoint: parameters {state.parameters}, the model's are {names}")
    for name, shape in live.items():
        if state.model[name].shape != shape:
            raise ValueError(
                f"checkpoint tensor model.{name}: shape {state.model[name].shape}, the model's is {shape}"
            )
    for index, entries in state.optimizer.items():
        if set(entries) != state_keys:
            raise ValueError(
                f"checkpoint: optimizer state {sorted(entries)} of parameter {index}, "
                f"{config.optimizer.type} keeps {sorted(state_keys)}"
            )
    if has_dev != (state.tracker is not None):
        raise ValueError("checkpoint: dev tracking does not match the job's dev split")
    wants_best = config.early_stopping is not None and state.tracker is not None and state.epoch > 0
    if wants_best != bool(state.best):
        raise ValueError("checkpoint: early stopping's best parameters are missing or unexpected")
    if not (
        np.array_equal(state.x_center, scaling.x_center)
        and np.array_equal(state.x_scale, scaling.x_scale)
        and state.y_center == scaling.y_center
        and state.y_scale == scaling.y_scale
    ):
        raise ValueError("checkpoint: the training data differs from the data it was taken on")


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
