"""The best dev loss so far and, when early stopping is on, when to stop and what to restore.

Why: the course's under/over-fitting lesson — the dev cost falls, then rises — so training stops
once it has not improved by more than `min_delta` for `patience` epochs in a row, and keeps the
parameters of the best dev epoch.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from descent.spec import EarlyStopping


class DevTracker:
    """Fed the dev loss after every epoch. Without early stopping it only tracks the best."""

    def __init__(self, early_stopping: EarlyStopping | None) -> None:
        self.early_stopping = early_stopping
        self.min_delta = early_stopping.min_delta if early_stopping else 0.0
        self.best_loss: float | None = None
        self.best_epoch: int | None = None
        self.best_state: dict[str, Any] = {}
        self.stale_epochs = 0

    def update(self, epoch: int, loss: float, model: nn.Module) -> None:
        """Record epoch `epoch`'s (1-based) dev loss; snapshot the model when it is the new best."""
        if self.best_loss is None or self.best_loss - loss > self.min_delta:
            self.best_loss, self.best_epoch = loss, epoch
            self.stale_epochs = 0
            if self.early_stopping is not None:
                self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            self.stale_epochs += 1

    def restore(
        self, best_loss: float | None, best_epoch: int | None, stale_epochs: int, best_state: dict[str, Any]
    ) -> None:
        """Continue from a checkpoint's tracker state (`best_state` as model.state_dict() holds it)."""
        self.best_loss, self.best_epoch, self.stale_epochs = best_loss, best_epoch, stale_epochs
        self.best_state = best_state

    @property
    def should_stop(self) -> bool:
        """True once `patience` epochs in a row brought no improvement (early stopping on)."""
        return self.early_stopping is not None and self.stale_epochs >= self.early_stopping.patience
