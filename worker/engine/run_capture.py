"""A run's state captured for a checkpoint, and a run continued from one (loop.py's checkpoints).

Apart from loop.py because it touches every part of a run (model, optimizer, epoch-end tracking,
history window, schedule, shuffler, scaling) but none of the epoch loop: what `RunState` holds and
how it maps back onto a run is one concern, the loop another.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .resume import check_fits, config_fingerprint
from .run_state import RunState

Run = Any
"""A loop.GradientDescentRun (not imported: loop.py imports this module, and the engine's modules
import each other without a cycle)."""


def capture(run: Run, batch: int, cost_sum: float) -> RunState:
    """Everything needed to continue `run` from here (copies: training goes on)."""
    names = [name for name, _ in run.model.named_parameters()]
    optimizer = {
        index: {key: _array(value) for key, value in entries.items()}
        for index, entries in run.optimizer.state_dict()["state"].items()
    }
    ends = run.epoch_end
    # mid-epoch: the state the epoch's permutation was drawn from; at its start: the current one
    shuffle = run.epoch_rng if batch > 0 and run.epoch_rng is not None else run.shuffler.get_state()
    return RunState(
        config=config_fingerprint(run.config),
        rows=run.rows,
        features=run.n_features,
        outputs=run.outputs,
        parameters=names,
        lr=run.lr,
        log_every=run.log_every,
        batch_size=run.batch_size,
        steps_per_epoch=run.steps_per_epoch,
        step=run.step,
        epoch=run.epochs_run,
        batch=batch,
        epoch_cost_sum=cost_sum,
        first_cost=ends.first_cost,
        previous_cost=ends.previous_cost,
        window=run.history.state(),
        tracker=ends.tracker_state(),
        schedule=run.rate.state(),
        metrics=dict(ends.metrics),
        elapsed_seconds=run.deadline.elapsed(),
        y_center=run.scaling.y_center,
        y_scale=run.scaling.y_scale,
        model={k: _array(v) for k, v in run.model.state_dict().items()},
        optimizer=optimizer,
        best={k: _array(v) for k, v in ends.best_parameters().items()},
        shuffle=shuffle.numpy().copy(),
        x_center=np.array(run.scaling.x_center, dtype=np.float64),
        x_scale=np.array(run.scaling.x_scale, dtype=np.float64),
        train_points=run.history.points,
        dev_points=ends.dev_points,
    )

def restore(run: Run, state: RunState) -> None:
    """Continue `run` from `state`, after checking it belongs to this job (ValueError if not)."""
    check_fits(
        state,
        config=run.config,
        rows=run.rows,
        features=run.n_features,
        outputs=run.outputs,
        batch_size=run.batch_size,
        model=run.model,
        state_keys=run.method.state_keys(run.config.optimizer),
        has_dev=run.epoch_end.tracker is not None,
        scaling=run.scaling,
    )
    try:
        run.shuffler.set_state(torch.from_numpy(np.array(state.shuffle, dtype=np.uint8)))
    except (RuntimeError, ValueError) as exc:
        raise ValueError(f"checkpoint tensor shuffle.state: not a generator state ({exc})") from None
    run.model.load_state_dict({k: _tensor_copy(v) for k, v in state.model.items()})
    saved = run.optimizer.state_dict()
    saved["state"] = {
        index: {key: _tensor_copy(value) for key, value in entries.items()}
        for index, entries in state.optimizer.items()
    }
    run.optimizer.load_state_dict(saved)
    run.epoch_end.restore(state, {k: _tensor_copy(v) for k, v in state.best.items()})
    run.history.restore(state.window, state.train_points)
    run.rate.restore(state.schedule)
    run.step = state.step
    run.epochs_run = state.epoch
    run.next_batch = state.batch
    run.epoch_cost_sum = state.epoch_cost_sum


def _array(value: torch.Tensor) -> np.ndarray:
    """A numpy copy of a tensor (the tensor keeps changing as training goes on)."""
    return value.detach().numpy().copy()


def _tensor_copy(array: np.ndarray) -> torch.Tensor:
    """A writable, C-contiguous tensor of its own (optimizer state is updated in place)."""
    return torch.from_numpy(np.array(array, order="C"))
