"""The learning rate epoch by epoch: a job's `optimizer.schedule`, with torch.optim.lr_scheduler's
numbers, and the one place that hands each new rate to what trains with it.

Why not torch's scheduler objects: they drive a torch optimizer's param groups, which the compiled
updates do not use, and their state is their `__dict__`, which a checkpoint would have to trust on
the way back (load_state_dict updates attributes by name). These are the same recurrences, written
out expression for expression as torch 2.x writes them (float64, in the same order: each schedule's
rates equal torch's bit for bit — tests/engine/test_schedules.py), with a state of four plain numbers.
A scheduler made on an optimizer at `lr` and stepped once after each epoch:

- step: after epoch e, lr ← lr·gamma when e is a multiple of step_size (StepLR);
- exponential: lr ← lr·gamma (ExponentialLR);
- cosine: lr ← (1 + cos(π·e/T)) / (1 + cos(π·(e−1)/T)) · lr, or, where that divides by 0
  (e − 1 − T a multiple of 2T), lr ← lr + base·(1 − cos(π/T))/2 (CosineAnnealingLR's chainable
  form, eta_min 0): base·(1 + cos(π·e/T))/2 up to rounding, rising again past T;
- plateau: once the dev loss has failed to beat best·(1 − 1e-4) for more than `patience` epochs,
  lr ← lr·factor and the count restarts (ReduceLROnPlateau, mode min, threshold 1e-4 rel,
  cooldown 0, min_lr 0, eps 1e-8: a reduction smaller than eps is skipped).

When: the loop steps the schedule after an epoch's end-of-epoch work (its dev loss), only when
another epoch follows, so every update of an epoch, and the history point that ends it, train at
one rate, and a checkpoint (taken after that step) holds the rate of the epoch it resumes.
"""

from __future__ import annotations

import math
from typing import Protocol

from descent.spec import Schedule

from .run_state import ScheduleState

PLATEAU_THRESHOLD = 1e-4
"""ReduceLROnPlateau's default: an improvement is a loss below best·(1 − threshold)."""
PLATEAU_EPS = 1e-8
"""ReduceLROnPlateau's default: a reduction of the rate by less than this is not made."""
ETA_MIN = 0.0
"""CosineAnnealingLR's default floor."""


class LrSchedule:
    """A schedule's rate and state (`schedule` None: the rate stays `base_lr`)."""

    def __init__(self, schedule: Schedule | None, base_lr: float) -> None:
        self.schedule = schedule
        self.base_lr = base_lr
        self.lr = base_lr
        self.epoch = 0
        """Steps taken: torch's `last_epoch` (the epochs completed at the last step)."""
        self.best = math.inf
        """plateau: the best dev loss so far (torch's `best`, infinite before the first)."""
        self.bad_epochs = 0
        """plateau: epochs since the dev loss last improved (torch's `num_bad_epochs`)."""

    def step(self, dev_loss: float | None) -> float:
        """After an epoch (`dev_loss`: its dev loss, which plateau needs); returns the new rate."""
        self.epoch += 1
        s, e, lr = self.schedule, self.epoch, self.lr
        if s is None:
            return lr
        if s.type == "step":
            if e % s.step_size == 0:
                self.lr = lr * s.gamma
        elif s.type == "exponential":
            self.lr = lr * s.gamma
        elif s.type == "cosine":
            t = s.t_max
            if (e - 1 - t) % (2 * t) == 0:
                self.lr = lr + (self.base_lr - ETA_MIN) * (1 - math.cos(math.pi / t)) / 2
            else:
                ratio = (1 + math.cos(math.pi * e / t)) / (1 + math.cos(math.pi * (e - 1) / t))
                self.lr = ratio * (lr - ETA_MIN) + ETA_MIN
        elif s.type == "plateau":
            self._plateau(dev_loss)
        return self.lr

    def _plateau(self, dev_loss: float | None) -> None:
        if dev_loss is None:
            raise ValueError("a plateau schedule needs the dev loss (the spec requires a dev split)")
        current = float(dev_loss)
        if current < self.best * (1.0 - PLATEAU_THRESHOLD):
            self.best = current
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        if self.bad_epochs > self.schedule.patience:
            new = max(self.lr * self.schedule.factor, 0.0)
            if self.lr - new > PLATEAU_EPS:
                self.lr = new
            self.bad_epochs = 0

    def state(self) -> ScheduleState:
        return ScheduleState(epoch=self.epoch, lr=self.lr, best=self.best, bad_epochs=self.bad_epochs)

    def restore(self, state: ScheduleState) -> None:
        self.epoch, self.lr, self.best, self.bad_epochs = state.epoch, state.lr, state.best, state.bad_epochs


class RateUser(Protocol):
    """What trains at the current rate: the run's updates (updates.Updates.set_lr)."""

    def set_lr(self, lr: float) -> None: ...


class RateHolder(Protocol):
    """What reports the current rate: the run's history (history.TrainHistory.lr)."""

    lr: float


class ScheduledRate:
    """A run's learning rate: its schedule, handed to the updates and the history on each change."""

    def __init__(
        self, schedule: Schedule | None, base_lr: float, updates: RateUser, history: RateHolder
    ) -> None:
        self.schedule = LrSchedule(schedule, base_lr)
        self.updates = updates
        self.history = history
        history.lr = base_lr

    @property
    def lr(self) -> float:
        return self.schedule.lr

    def after_epoch(self, dev_loss: float | None) -> None:
        """Step the schedule (the loop calls it between two epochs) and use the new rate."""
        before = self.schedule.lr
        if self.schedule.step(dev_loss) != before:
            self._use(self.schedule.lr)

    def state(self) -> ScheduleState:
        return self.schedule.state()

    def restore(self, state: ScheduleState) -> None:
        """Continue a checkpoint's schedule, at its rate."""
        self.schedule.restore(state)
        self._use(state.lr)

    def _use(self, lr: float) -> None:
        self.updates.set_lr(lr)
        self.history.lr = lr
