"""A gradient-descent run's complete state between two updates, as plain typed data.

Why a module of its own: the loop takes this state and restores it (loop.py, resume.py), the codec
turns it into bytes and back (checkpoint.py), and the history keeps part of it (history.py); none
of them needs the others to name it. So it imports nothing from the engine: arrays are numpy,
numbers are Python's. Taken right after an update's bookkeeping (its history point, and after an
epoch's last update the epoch-end work), it is everything needed to continue bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class WindowState:
    """The history's open window (history.TrainHistory) and the last smoothed value."""

    sum: float
    count: int
    step: int
    epoch: int
    smoothed: float | None


@dataclass(frozen=True)
class TrackerState:
    """The dev tracker's bookkeeping (early_stopping.DevTracker; its best parameters are RunState.best)."""

    best_loss: float | None
    best_epoch: int | None
    stale_epochs: int


@dataclass(frozen=True)
class ScheduleState:
    """The learning-rate schedule's bookkeeping (schedules.LrSchedule), with or without a schedule."""

    epoch: int
    """Steps taken (= epochs completed: the schedule steps between epochs)."""
    lr: float
    """The rate the epoch in progress trains at."""
    best: float
    """plateau: the best dev loss so far (infinite before the first); else unused."""
    bad_epochs: int
    """plateau: epochs since the dev loss last improved; else 0."""


@dataclass
class RunState:
    """Everything a run needs to continue exactly where it stopped (the arrays are copies)."""

    config: dict[str, Any]
    """The job config as the checkpoint records it (resume.config_fingerprint)."""
    rows: int
    """Training rows."""
    features: int
    outputs: int
    parameters: list[str]
    """The model's parameter names, in the optimizer's order."""
    lr: float
    """The learning rate the run started with ("auto" is not chosen again); the rate in use is
    `schedule.lr`."""
    log_every: int
    batch_size: int
    steps_per_epoch: int
    step: int
    """Updates done (= epoch · steps_per_epoch + batch)."""
    epoch: int
    """The 0-based epoch in progress (= epochs completed)."""
    batch: int
    """The next batch of that epoch."""
    epoch_cost_sum: float
    """The costs of the epoch's updates so far."""
    first_cost: float | None
    """The first epoch's cost (divergence); None in epoch 0."""
    previous_cost: float | None
    """The last epoch's cost (convergence); None in epoch 0."""
    window: WindowState
    tracker: TrackerState | None
    """None without a dev split."""
    schedule: ScheduleState
    metrics: dict[str, float | int | None]
    """The last epoch's live metrics."""
    elapsed_seconds: float
    """Training seconds so far, all attempts (max_runtime_seconds keeps counting from here)."""
    y_center: float
    y_scale: float
    model: dict[str, np.ndarray]
    """The model's state_dict as float32 arrays."""
    optimizer: dict[int, dict[str, np.ndarray]]
    """torch.optim's per-parameter state, by parameter index (empty for gd, sgd, minibatch)."""
    best: dict[str, np.ndarray]
    """Early stopping's best parameters, once a best epoch exists (else empty)."""
    shuffle: np.ndarray
    """The shuffle generator's state (uint8) at the start of the epoch in progress."""
    x_center: np.ndarray
    """The standardization (float64), recomputed on resume and checked against these."""
    x_scale: np.ndarray
    train_points: int
    """History train points emitted up to here, all attempts (= step // log_every)."""
    dev_points: int
    """Dev points emitted up to here (= epoch with a dev split, else 0)."""
