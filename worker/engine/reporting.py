"""How the engine tells the outside world what it is doing, without knowing who listens.

Why a Protocol: the worker's reporter turns these calls into batched Redis writes and cancel
checks; tests and benchmarks use `ListReporter`. The engine never imports either side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class Reporter(Protocol):
    """Callbacks of one training run, in the order they happen."""

    def plan(
        self, *, epochs: int, steps_per_epoch: int, log_every: int, total_steps: int, lr: float | None
    ) -> None:
        """Once, before the first update (after an "auto" learning rate has been chosen). `lr` is
        the learning rate training uses, a float even when the config said "auto". Exhaustive
        search: epochs 0, steps_per_epoch 0, log_every 1, total_steps the number of grid points,
        lr None."""
        ...

    def train_point(self, step: int, epoch: int, loss: float, smoothed: float) -> None:
        """A history point: mean cost of the window ending at `step` (1-based), 0-based `epoch`."""
        ...

    def dev_point(self, step: int, epoch: int, loss: float) -> None:
        """The dev loss after 1-based `epoch`, measured when `step` updates had been made."""
        ...

    def epoch_end(self, epoch: int, step: int, metrics: dict[str, float | int | None]) -> None:
        """After each completed epoch (1-based) with the job's live metrics."""
        ...

    def search_progress(self, done: int, total: int) -> None:
        """Exhaustive search: after every chunk of grid points."""
        ...

    def tick(self) -> bool:
        """After every update (the learning-rate range test's included) and between search chunks;
        True asks training to stop (cancel)."""
        ...


@dataclass
class ListReporter:
    """Keeps every callback in lists (history in the API's column shape); never stops training."""

    plans: list[dict[str, Any]] = field(default_factory=list)
    train: dict[str, list[Any]] = field(
        default_factory=lambda: {"step": [], "epoch": [], "loss": [], "smoothed": []}
    )
    dev: dict[str, list[Any]] = field(default_factory=lambda: {"step": [], "epoch": [], "loss": []})
    epochs: list[dict[str, Any]] = field(default_factory=list)
    searched: list[tuple[int, int]] = field(default_factory=list)
    ticks: int = 0

    def plan(
        self, *, epochs: int, steps_per_epoch: int, log_every: int, total_steps: int, lr: float | None
    ) -> None:
        self.plans.append(
            {
                "epochs": epochs,
                "steps_per_epoch": steps_per_epoch,
                "log_every": log_every,
                "total_steps": total_steps,
                "lr": lr,
            }
        )

    def train_point(self, step: int, epoch: int, loss: float, smoothed: float) -> None:
        self.train["step"].append(step)
        self.train["epoch"].append(epoch)
        self.train["loss"].append(loss)
        self.train["smoothed"].append(smoothed)

    def dev_point(self, step: int, epoch: int, loss: float) -> None:
        self.dev["step"].append(step)
        self.dev["epoch"].append(epoch)
        self.dev["loss"].append(loss)

    def epoch_end(self, epoch: int, step: int, metrics: dict[str, float | int | None]) -> None:
        self.epochs.append({"epoch": epoch, "step": step, "metrics": dict(metrics)})

    def search_progress(self, done: int, total: int) -> None:
        self.searched.append((done, total))

    def tick(self) -> bool:
        self.ticks += 1
        return False
