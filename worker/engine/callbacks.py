"""The callbacks a training run makes (`Reporter`) and what it is told back (`Signal`).

Why a Protocol: the engine tells the outside world what it is doing without knowing who listens —
the worker's RedisReporter (worker/reporter.py) turns these calls into batched Redis writes, cancel
checks and checkpoint requests; tests and benchmarks use `ListReporter`. The engine never imports
either side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Protocol


class Signal(IntEnum):
    """What `Reporter.tick()` asks of training. A plain False/True means CONTINUE/CANCEL.

    CHECKPOINT and SUSPEND are honoured where a checkpoint may be taken: right after an update's
    bookkeeping is complete. On the last update of an epoch that is after the epoch-end work (dev
    point, early stopping, convergence); if that work ends the run, the run simply ends (returns
    its result) and no checkpoint is taken. Exhaustive search never checkpoints: CHECKPOINT is
    ignored and SUSPEND raises Suspended without one (the search restarts from scratch; it is
    fast). While an "auto" learning rate is being chosen (the range test, before training starts)
    likewise: CHECKPOINT is ignored and SUSPEND raises Suspended without a checkpoint.
    """

    CONTINUE = 0
    CANCEL = 1
    CHECKPOINT = 2
    """Encode the run's state, hand it to `reporter.save_checkpoint`, and go on."""
    SUSPEND = 3
    """Encode the run's state, hand it to `reporter.save_checkpoint`, then raise Suspended."""


class Reporter(Protocol):
    """Callbacks of one training run, in the order they happen.

    Two optional members (looked up with getattr) let the compiled updates (updates.py) skip
    per-update Python work: `batched_ticks = True` says tick() may come once per chunk of updates
    (a few milliseconds of training) instead of after every update — for a reporter whose tick()
    is driven by the clock, like the worker's; and `train_points(steps, epoch, losses, smoothed,
    lr)` takes several history points at once (numpy arrays, one epoch and rate), in place of one
    train_point call each. Without them every update is ticked and every point reported singly.
    """

    def plan(
        self, *, epochs: int, steps_per_epoch: int, log_every: int, total_steps: int, lr: float | None
    ) -> None:
        """Once, before the first update (after an "auto" learning rate has been chosen). `lr` is
        the learning rate training uses, a float even when the config said "auto". Exhaustive
        search: epochs 0, steps_per_epoch 0, log_every 1, total_steps the number of grid points,
        lr None."""
        ...

    def train_point(self, step: int, epoch: int, loss: float, smoothed: float, lr: float) -> None:
        """A history point: mean cost of the window ending at `step` (1-based), 0-based `epoch`,
        and `lr`, the learning rate of that step."""
        ...

    def dev_point(self, step: int, epoch: int, loss: float) -> None:
        """The dev loss after 1-based `epoch`, measured when `step` updates had been made."""
        ...

    def epoch_end(self, epoch: int, step: int, metrics: dict[str, float | int | None]) -> bool | None:
        """After each completed epoch (1-based) with the job's live metrics. True ends the run
        here with outcome "pruned" (a search's pruner judged the trial hopeless)."""
        ...

    def search_progress(self, done: int, total: int) -> None:
        """Exhaustive search: after every chunk of grid points."""
        ...

    def tick(self) -> Signal | bool:
        """After every update (the learning-rate range test's included) and between search chunks.
        Must stay cheap (it runs after every update); returns a Signal (False: go on, True: cancel).
        """
        ...

    def save_checkpoint(self, data: bytes, train_points: int, dev_points: int) -> None:
        """Called when tick() asked for CHECKPOINT or SUSPEND, with everything needed to resume:
        `data` is the encoded state (checkpoint.decode_checkpoint reads it back).

        `train_points` / `dev_points` count the points this run (and the runs it resumed from) had
        emitted when it was taken: store the history up to exactly those counts with it.
        """
        ...


@dataclass(frozen=True)
class SavedCheckpoint:
    """One save_checkpoint call, as ListReporter keeps it."""

    data: bytes
    train_points: int
    dev_points: int


@dataclass
class ListReporter:
    """Keeps every callback in lists (history in the API's column shape).

    `signals` scripts what tick() returns: {k: Signal} answers the k-th call (1-based) with that
    signal, every other call with CONTINUE. Saved checkpoints are appended to `checkpoints`.
    """

    plans: list[dict[str, Any]] = field(default_factory=list)
    train: dict[str, list[Any]] = field(
        default_factory=lambda: {"step": [], "epoch": [], "loss": [], "smoothed": [], "lr": []}
    )
    dev: dict[str, list[Any]] = field(default_factory=lambda: {"step": [], "epoch": [], "loss": []})
    epochs: list[dict[str, Any]] = field(default_factory=list)
    searched: list[tuple[int, int]] = field(default_factory=list)
    ticks: int = 0
    signals: dict[int, Signal] = field(default_factory=dict)
    checkpoints: list[SavedCheckpoint] = field(default_factory=list)
    batched_ticks: bool = False
    """True: let the compiled updates tick once per chunk of updates (Reporter's docstring)."""

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

    def train_point(self, step: int, epoch: int, loss: float, smoothed: float, lr: float) -> None:
        self.train["step"].append(step)
        self.train["epoch"].append(epoch)
        self.train["loss"].append(loss)
        self.train["smoothed"].append(smoothed)
        self.train["lr"].append(lr)

    def train_points(self, steps: Any, epoch: int, losses: Any, smoothed: Any, lr: float) -> None:
        self.train["step"] += [int(s) for s in steps]
        self.train["epoch"] += [epoch] * len(steps)
        self.train["loss"] += [float(v) for v in losses]
        self.train["smoothed"] += [float(v) for v in smoothed]
        self.train["lr"] += [lr] * len(steps)

    def dev_point(self, step: int, epoch: int, loss: float) -> None:
        self.dev["step"].append(step)
        self.dev["epoch"].append(epoch)
        self.dev["loss"].append(loss)

    def epoch_end(self, epoch: int, step: int, metrics: dict[str, float | int | None]) -> None:
        self.epochs.append({"epoch": epoch, "step": step, "metrics": dict(metrics)})

    def search_progress(self, done: int, total: int) -> None:
        self.searched.append((done, total))

    def tick(self) -> Signal | bool:
        self.ticks += 1
        return self.signals.get(self.ticks, Signal.CONTINUE)

    def save_checkpoint(self, data: bytes, train_points: int, dev_points: int) -> None:
        self.checkpoints.append(SavedCheckpoint(data, train_points, dev_points))
