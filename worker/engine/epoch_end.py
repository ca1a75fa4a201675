"""What a run does after each epoch: the divergence check, the dev point and early stopping, the
live metrics, and convergence.

Why apart from the loop: it is the run's per-epoch bookkeeping, with its own state (the first and
last epoch costs, the dev tracker, the dev points emitted, the last metrics), which a checkpoint
carries and a resumed run restores; the epoch loop (loop.py) only calls `after` once per epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from descent.spec import JobConfig

from .callbacks import Reporter
from .data import Part, Scaling
from .early_stopping import DevTracker
from .errors import DIVERGENCE_FACTOR, Diverged
from .history import TrainHistory
from .losses import LossSpec
from .models import EngineModel
from .result import measure
from .run_state import RunState, TrackerState


class EpochEnd:
    """The per-epoch work of one run, and the state it keeps between epochs."""

    def __init__(
        self,
        config: JobConfig,
        reporter: Reporter,
        history: TrainHistory,
        model: EngineModel,
        scaling: Scaling,
        dev: Part | None,
        loss: LossSpec,
        lr: float,
        stability_bound: Callable[[], float | None],
    ) -> None:
        """`dev`: the dev split (None: no dev loss, no early stopping); `lr` and `stability_bound`
        (2/L or None, computed only when needed) go into a Diverged message."""
        self.config = config
        self.reporter = reporter
        self.history = history
        self.model = model
        self.scaling = scaling
        self.dev = dev
        self.loss = loss
        self.lr = lr
        self.stability_bound = stability_bound
        self.tracker = DevTracker(config.early_stopping) if dev is not None else None
        self.first_cost: float | None = None
        self.previous_cost: float | None = None
        self.dev_points = 0
        self.metrics: dict[str, float | int | None] = {}
        """The last epoch's live metrics (the job's `metrics`)."""

    def after(self, epoch: int, step: int, cost: float) -> str | None:
        """After 1-based `epoch`, `step` updates in, with the epoch's mean cost: raises Diverged
        when the cost grew past DIVERGENCE_FACTOR × the first epoch's; returns the outcome if
        training ends here ("early_stopped", with the best epoch's parameters loaded, "converged",
        or "pruned" when the reporter says so), else None."""
        if self.first_cost is None:
            self.first_cost = cost
        elif cost > DIVERGENCE_FACTOR * self.first_cost:
            raise Diverged.grew(epoch, step, cost, self.first_cost, self.lr, self.stability_bound())
        self.metrics = self._metrics(epoch, step, cost)
        if self.reporter.epoch_end(epoch, step, self.metrics):
            return "pruned"
        if self.tracker is not None and self.tracker.should_stop:
            self.model.load_state_dict(self.tracker.best_state)
            return "early_stopped"
        tolerance = self.config.tolerance
        previous = self.previous_cost
        if (
            tolerance > 0
            and previous is not None
            and abs(cost - previous) <= tolerance * max(1.0, abs(previous))
        ):
            return "converged"
        self.previous_cost = cost
        return None

    def tracker_state(self) -> TrackerState | None:
        """The dev tracker's bookkeeping for a checkpoint (None without a dev split)."""
        t = self.tracker
        return None if t is None else TrackerState(t.best_loss, t.best_epoch, t.stale_epochs)

    def best_parameters(self) -> dict[str, torch.Tensor]:
        """Early stopping's best parameters so far (empty before the first dev epoch, or without)."""
        return self.tracker.best_state if self.tracker is not None else {}

    def restore(self, state: RunState, best: dict[str, torch.Tensor]) -> None:
        """Continue from a checkpoint's state (`best`: its best parameters as tensors)."""
        if self.tracker is not None and state.tracker is not None:
            t = state.tracker
            self.tracker.restore(t.best_loss, t.best_epoch, t.stale_epochs, best)
        self.dev_points = state.dev_points
        self.first_cost, self.previous_cost = state.first_cost, state.previous_cost
        self.metrics = dict(state.metrics)

    def _metrics(self, epoch: int, step: int, cost: float) -> dict[str, Any]:
        """The dev point, early-stopping bookkeeping, and the live metrics after an epoch."""
        dev_loss = best_loss = best_epoch = None
        if self.tracker is not None:
            dev_loss = self._dev_loss()
            self.reporter.dev_point(step, epoch, dev_loss)
            self.dev_points += 1
            self.tracker.update(epoch, dev_loss, self.model)
            best_loss, best_epoch = self.tracker.best_loss, self.tracker.best_epoch
        return {
            "train_loss": cost,
            "train_loss_smoothed": self.history.smoothed,
            "dev_loss": dev_loss,
            "best_dev_loss": best_loss,
            "best_epoch": best_epoch,
        }

    def _dev_loss(self) -> float:
        """The dev loss of the current parameters, measured like the final result (float64)."""
        with torch.no_grad():
            params = self.model.original_params(self.scaling)
        loss = measure(params, self.dev, self.loss)
        assert loss is not None  # only called with a dev split
        return loss
