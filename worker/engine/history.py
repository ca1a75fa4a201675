"""The train-loss history: one point per window of `log_every` updates, smoothed.

Why windows: a job keeps at most `max_history_points` points, so a long job reports the mean of
each window of consecutive updates, labelled with the window's last (1-based, global) step. The
last, partial window is emitted by `flush()`, which the loop calls however training ends (except
on Suspended: the partial window then lives on in the checkpoint, see `state()`).

Each point also carries `lr`, the learning rate of its window's last update: the rate set (by
schedules.ScheduledRate) when the point is emitted, since the rate changes only between epochs.
"""

from __future__ import annotations

import math

import numpy as np

from . import kernels
from .callbacks import Reporter
from .run_state import WindowState
from .smoothing import Smoother


def log_every(total_steps: int, max_points: int) -> int:
    """Updates per history point: max(1, ceil(total_steps / max_points))."""
    return max(1, math.ceil(total_steps / max_points))


class TrainHistory:
    """Accumulates update costs and emits window means (with their smoothed value) to a reporter."""

    def __init__(self, reporter: Reporter, log_every: int, smoothing: float) -> None:
        self.reporter = reporter
        self.log_every = log_every
        self.smoother = Smoother(smoothing)
        self._sum = 0.0
        self._count = 0
        self._step = 0
        self._epoch = 0
        self.lr = math.nan
        """The rate the updates being added train at (set before the first update)."""
        self.points = 0
        """Points emitted so far (a resumed run starts from its checkpoint's count)."""

    @property
    def smoothed(self) -> float | None:
        """The smoothed value of the last emitted point (None before the first)."""
        return self.smoother.value

    def add(self, step: int, epoch: int, cost: float) -> None:
        """Record one update's cost; `epoch` is 0-based."""
        self._sum += cost
        self._count += 1
        self._step = step
        self._epoch = epoch
        if self._count == self.log_every:
            self._emit()

    def add_many(
        self, step: int, epoch: int, costs: np.ndarray, count: int, scale: float, total: float
    ) -> float:
        """`add` for the training-space costs[:count] × scale of updates step+1, …, step+count, all
        in 0-based `epoch`, folded exactly as `add` would (kernels.fold); returns `total` plus
        their sum, added in order as the epoch loop adds its costs one by one.

        Emits the completed windows through `reporter.train_points(steps, epoch, losses,
        smoothed, lr)` when the reporter has it (arrays), else `train_point` for each.
        """
        state = np.array(
            [
                self._sum,
                self._count,
                0.0 if self.smoother.value is None else 1.0,
                0.0 if self.smoother.value is None else self.smoother.value,
                total,
            ]
        )
        room = count // self.log_every + 1
        steps = np.empty(room, dtype=np.int64)
        losses = np.empty(room)
        smoothed = np.empty(room)
        emitted = int(
            kernels.fold(
                costs, count, scale, step, self.log_every, self.smoother.beta, state, steps, losses, smoothed
            )
        )
        self._sum, self._count = float(state[0]), int(state[1])
        if count:
            self._step, self._epoch = step + count, epoch
        if state[2]:
            self.smoother.value = float(state[3])
        if emitted:
            self.points += emitted
            batch = getattr(self.reporter, "train_points", None)
            if batch is not None:
                batch(steps[:emitted], epoch, losses[:emitted], smoothed[:emitted], self.lr)
            else:
                for i in range(emitted):
                    self.reporter.train_point(
                        int(steps[i]), epoch, float(losses[i]), float(smoothed[i]), self.lr
                    )
        return float(state[4])

    def flush(self) -> None:
        """Emit the partial window, if any."""
        if self._count:
            self._emit()

    def state(self) -> WindowState:
        """The open window and the smoothing state, for a checkpoint (`restore` takes it back)."""
        return WindowState(self._sum, self._count, self._step, self._epoch, self.smoother.value)

    def restore(self, state: WindowState, points: int) -> None:
        """Continue from `state()` after `points` emitted points."""
        self._sum, self._count = state.sum, state.count
        self._step, self._epoch = state.step, state.epoch
        self.smoother.value = state.smoothed
        self.points = points

    def _emit(self) -> None:
        loss = self._sum / self._count
        self.reporter.train_point(self._step, self._epoch, loss, self.smoother.update(loss), self.lr)
        self.points += 1
        self._sum = 0.0
        self._count = 0
