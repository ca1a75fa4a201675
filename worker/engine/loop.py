"""The training loop: `train()`, and one gradient-descent run epoch by epoch.

One epoch loop for every job: it draws the epoch's permutation, has the run's `Updates` (updates.py:
compiled, dense or autograd) make the updates, and handles the rest once — per update (or chunk of
compiled updates) the history window, divergence, tick() with its cancel and checkpoint signals,
and the deadline; per epoch the dev loss, early stopping and convergence (epoch_end.py). An "auto"
learning rate is chosen first (lr_auto.py); a schedule steps between epochs (schedules.py).
Everything reported is in original units.

Checkpoints: on CHECKPOINT or SUSPEND the run's whole state (run_state.RunState, captured by
run_capture.py) is encoded (checkpoint.py) and handed to reporter.save_checkpoint right after that update's bookkeeping — for
an epoch's last update, after the epoch-end work — and SUSPEND then raises Suspended.
`train(..., resume=state)` rebuilds the run (the data, splits and scaling recomputed and checked
against the state's: resume.py) and continues the epoch in progress from its stored generator state
and next batch: the points and the result are bit for bit those of an uninterrupted run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import numpy as np
import torch

from descent.spec import JobConfig

from .callbacks import Reporter, Signal
from .checkpoint import encode_checkpoint
from .data import (
    INIT_STREAM,
    LR_TEST_STREAM,
    SHUFFLE_STREAM,
    Scaling,
    Splits,
    check_arrays,
    generator,
    split_data,
    stratified_split,
)
from .deadline import Deadline
from .epoch_end import EpochEnd
from .errors import Cancelled, Diverged, EngineError, Suspended, TimedOut
from .history import TrainHistory, log_every
from .losses import LOSSES
from .lr_auto import auto_lr, mse_stability_bound, range_test
from .models import MODELS
from .optimizers import METHODS
from .result import TrainOutput, final_numbers
from .run_capture import capture, restore
from .run_state import RunState
from .schedules import ScheduledRate
from .search import search
from .shuffle import Shuffler, draws_ahead
from .updates import UpdatePath, choose_path, intra_op_threads, make_updates

CHUNK_SECONDS = 0.005
"""How long a chunk of compiled updates between two tick() calls should take (batched reporters)."""
MAX_CHUNK_UPDATES = 1 << 20


def train(
    x: np.ndarray,
    y: np.ndarray,
    config: JobConfig,
    reporter: Reporter,
    resume: RunState | None = None,
    *,
    fast: bool = True,
    rows: tuple[np.ndarray, ...] | None = None,
) -> TrainOutput:
    """Train on x (n, d) and y (n,) as `config` says, reporting progress to `reporter`.

    `rows`: the (train, dev, test) row indices when the caller drew them (the worker does, to fit
    preprocessing on the training rows); else `stratified_split` draws them here.

    `fast`: take the compiled or dense updates where they apply (updates.py; the same numbers
    within float rounding), or False for the autograd loop everywhere.

    `resume`: a state of this job (checkpoint.decode_checkpoint of a checkpoint it saved) to
    continue from; ValueError, before any reporter call, when it does not fit. Exhaustive search
    takes none. Raises Diverged, TimedOut, Cancelled, Suspended or InvalidData (all EngineError);
    the partial history window is reported before any of them but Suspended leaves (that window is
    in the checkpoint saved before it).
    """
    if resume is not None and config.optimizer.is_search:
        raise ValueError("checkpoint: exhaustive search does not resume; run it again from the start")
    deadline = Deadline(config.max_runtime_seconds, resume.elapsed_seconds if resume is not None else 0.0)
    x, y = check_arrays(x, y)
    splits = split_data(x, y, config.split, config.seed, rows or stratified_split(y, config))
    outputs = LOSSES[config.loss].outputs(y)  # InvalidData on targets the loss cannot take
    if config.optimizer.is_search:
        return search(splits, config, reporter, deadline)
    return GradientDescentRun(splits, config, reporter, deadline, outputs, resume, fast).run()


class GradientDescentRun:
    """One gradient-descent job: the model, its optimizer and updates, the data, the counters."""

    def __init__(
        self,
        splits: Splits,
        config: JobConfig,
        reporter: Reporter,
        deadline: Deadline,
        outputs: int = 1,
        resume: RunState | None = None,
        fast: bool = True,
    ) -> None:
        """`outputs`: the model's outputs, K classes for cross_entropy (LossSpec.outputs), else 1.
        `resume`: the state to continue from (ValueError, before plan(), if it does not fit).
        `fast`: as train()'s."""
        self.splits = splits
        self.config = config
        self.reporter = reporter
        self.deadline = deadline
        self.loss = LOSSES[config.loss]
        model_spec = MODELS[config.model.type]
        self.method = METHODS[config.optimizer.type]
        self.bias = model_spec.has_intercept(config.model)

        part = splits.train
        self.rows, self.n_features = part.x.shape
        self.outputs = outputs
        if config.standardize:
            self.scaling = Scaling.fit(part.x, part.y, center=self.bias, scale_target=self.loss.regression)
        else:
            self.scaling = Scaling.identity(self.n_features)
        self.train_loss = self.loss.training(self.scaling.y_scale)
        self.to_original = self.loss.to_original(self.scaling.y_scale)
        self.batch_size = self.method.batch_size(config.optimizer, self.rows)
        self.path = choose_path(config, self.loss, outputs, fast)
        self.updates = make_updates(
            self.path, part, self.scaling, self.loss, self.train_loss, config, self.batch_size
        )
        self.model = model_spec.build(
            config.model,
            self.n_features,
            outputs,
            self.loss.multiclass,
            self.loss.regression,
            generator(config.seed, INIT_STREAM),
        )
        if resume is not None:
            self.lr = resume.lr  # "auto" is not chosen again
        else:
            self.lr = self._auto_lr() if config.optimizer.auto_lr else config.optimizer.lr
        dense = self.path == UpdatePath.DENSE
        self.optimizer = self.method.make(self.model.parameters(), config.optimizer, self.lr, fused=dense)
        self.updates.bind(self.model, self.optimizer, self.lr)
        self.steps_per_epoch = math.ceil(self.rows / self.batch_size)
        total_steps = config.epochs * self.steps_per_epoch
        self.log_every = (
            resume.log_every if resume is not None else log_every(total_steps, config.max_history_points)
        )
        self.history = TrainHistory(reporter, self.log_every, config.smoothing)
        self.rate = ScheduledRate(config.optimizer.schedule, self.lr, self.updates, self.history)
        ahead = draws_ahead(self.rows, self.updates.threads)
        self.shuffler = Shuffler(generator(config.seed, SHUFFLE_STREAM), self.rows, ahead)
        self.epoch_end = EpochEnd(
            config,
            reporter,
            self.history,
            self.model,
            self.scaling,
            splits.dev,
            self.loss,
            self.lr,
            self.stability_bound,
        )
        self._chunk = 16
        """Updates per chunk with batched ticks (adapted as training goes)."""
        self.epoch_rng: torch.Tensor | None = None
        """The shuffler's state at the start of the epoch in progress (when it shuffles)."""
        self.step = 0
        self.epochs_run = 0
        self.next_batch = 0
        """Where the next epoch starts: 0, or a resumed epoch's next batch."""
        self.epoch_cost_sum = 0.0
        """The resumed epoch's cost sum so far (0.0 otherwise)."""
        if resume is not None:
            restore(self, resume)
        if self.batch_size < self.rows and self.epochs_run < config.epochs:
            self.shuffler.draw_ahead()  # the first epoch's order, drawn while the plan is written
        reporter.plan(
            epochs=config.epochs,
            steps_per_epoch=self.steps_per_epoch,
            log_every=self.log_every,
            total_steps=total_steps,
            lr=self.lr,
        )

    def _auto_lr(self) -> float:
        """The learning rate for "auto" (lr_auto's rules); the range test's updates are ticked, but
        there is nothing to checkpoint yet: CHECKPOINT is ignored, SUSPEND leaves without one."""

        def check() -> None:
            signal = self.reporter.tick()
            if signal == Signal.SUSPEND:
                raise Suspended(
                    "training suspended while choosing the learning rate, before its first "
                    "checkpoint; it starts again from the beginning"
                )
            if signal and signal != Signal.CHECKPOINT:
                raise Cancelled("training cancelled while choosing the learning rate")
            if self.deadline.expired():
                raise TimedOut.after(self.deadline.seconds, "while choosing the learning rate")

        def make(params: Iterable[torch.nn.Parameter], lr: float) -> torch.optim.Optimizer:
            return self.method.make(params, self.config.optimizer, lr)

        x, y = self.updates.tensors()
        lr_test = generator(self.config.seed, LR_TEST_STREAM)
        return auto_lr(
            self.config,
            self.loss.curvature,
            self.updates.features(),
            self.bias,
            self.batch_size,
            lambda: range_test(self.model, make, self.train_loss, x, y, self.batch_size, lr_test, check),
        )

    def stability_bound(self) -> float | None:
        """2/L for a linear model under mse (named in Diverged messages), else None."""
        if self.config.model.type != "linear" or self.config.loss != "mse":
            return None
        return mse_stability_bound(self.updates.features(), self.bias, self.config.optimizer.weight_decay)

    def run(self) -> TrainOutput:
        """All epochs, then the result; on any EngineError the partial window is reported first,
        except on Suspended, whose checkpoint holds it (emitting it would duplicate it on resume)."""
        try:
            with intra_op_threads(self.updates.threads):
                outcome = self._epochs()
        except Suspended:
            raise
        except EngineError:
            self.history.flush()
            raise
        self.history.flush()
        return self._output(outcome)

    def _epochs(self) -> str:
        """Train epoch after epoch (from a resumed one); returns the outcome."""
        for epoch in range(self.epochs_run, self.config.epochs):
            cost, pending = self._epoch(epoch)
            self.epochs_run = epoch + 1
            outcome = self.epoch_end.after(epoch + 1, self.step, cost)
            if outcome is not None:
                return outcome
            if epoch + 1 < self.config.epochs:  # another epoch follows (the last keeps its rate)
                self.rate.after_epoch(self.epoch_end.metrics.get("dev_loss"))
                if pending:  # asked on the epoch's last update: after the epoch-end work and the rate
                    self._checkpoint(pending, 0, 0.0, f"after epoch {epoch + 1} at step {self.step}")
        return "max_epochs"

    def _epoch(self, epoch: int) -> tuple[float, Signal | bool]:
        """One pass over the training split (0-based `epoch`), from `next_batch` on a resumed
        epoch; returns the epoch's cost and a CHECKPOINT or SUSPEND asked on its last update.

        One update at a time, or — `chunked` updates and a reporter with `batched_ticks` — a
        chunk of updates sized to take about CHUNK_SECONDS, with tick() after each chunk."""
        updates, history, reporter, deadline = self.updates, self.history, self.reporter, self.deadline
        if self.batch_size < self.rows:
            order, self.epoch_rng = self.shuffler.draw()
            if epoch + 1 < self.config.epochs:
                self.shuffler.draw_ahead()  # the next epoch's, while this one trains
            updates.start_epoch(order)
        update, add, tick, expired = updates.update, history.add, reporter.tick, deadline.expired
        scale = self.to_original
        batched = updates.chunked and bool(getattr(reporter, "batched_ticks", False))
        chunk = self._chunk
        costs = np.empty(chunk if batched else 0)
        total, self.epoch_cost_sum = self.epoch_cost_sum, 0.0
        batch, self.next_batch = self.next_batch, 0
        step, steps = self.step, self.steps_per_epoch
        pending: Signal | bool = Signal.CONTINUE
        while batch < steps:
            if batched:
                stop = min(steps, batch + chunk)
                if costs.shape[0] < stop - batch:
                    costs = np.empty(stop - batch)
                started = time.perf_counter()
                done = updates.run(batch, stop, costs)
                per_update = (time.perf_counter() - started) / done
                diverged = not math.isfinite(costs[done - 1] * scale)
                total = history.add_many(step, epoch, costs, done - 1 if diverged else done, scale, total)
                chunk = max(1, min(MAX_CHUNK_UPDATES, 2 * chunk, int(CHUNK_SECONDS / max(per_update, 1e-9))))
                self._chunk = chunk
            else:
                done = 1
                cost = update(batch) * scale
                diverged = not math.isfinite(cost)
                if not diverged:
                    total += cost
                    add(step + 1, epoch, cost)
            step += done
            batch += done
            self.step = step
            if diverged:
                raise Diverged.non_finite(epoch + 1, step, self.lr, self.stability_bound())
            signal = tick()
            if signal:
                if signal != Signal.CHECKPOINT and signal != Signal.SUSPEND:
                    raise Cancelled(f"training cancelled in epoch {epoch + 1} at step {step}")
                if batch == steps:
                    pending = signal
                else:
                    self._checkpoint(signal, batch, total, f"in epoch {epoch + 1} at step {step}")
            if expired():
                raise TimedOut.after(deadline.seconds, f"in epoch {epoch + 1} at step {step}")
        updates.end_epoch()
        return total / steps, pending

    # -- checkpoints ---------------------------------------------------------------------------------
    def _checkpoint(self, signal: Signal | bool, batch: int, cost_sum: float, where: str) -> None:
        """Save a checkpoint (CHECKPOINT), then raise Suspended for SUSPEND. `batch` is the next
        batch of the epoch in progress (`epochs_run`, 0-based), `cost_sum` its costs so far."""
        state = capture(self, batch, cost_sum)
        self.reporter.save_checkpoint(encode_checkpoint(state), state.train_points, state.dev_points)
        if signal == Signal.SUSPEND:
            raise Suspended(f"training suspended {where}; it resumes from this checkpoint")

    # -- the result ----------------------------------------------------------------------------------
    def _output(self, outcome: str) -> TrainOutput:
        """Final parameters in original units and their float64 numbers on every split."""
        params = self.model.original_params(self.scaling)
        if not params.is_finite():
            raise Diverged.bad_params(self.epochs_run, self.step, self.lr, self.stability_bound())
        numbers = final_numbers(params, self.splits, self.loss)
        return TrainOutput(
            outcome=outcome,
            params=params.to_json(),
            **numbers.fields(),
            epochs_run=self.epochs_run,
            steps=self.step,
            seconds=self.deadline.elapsed(),
            metrics=self.epoch_end.metrics,
            log_every=self.log_every,
            lr=self.lr,
        )

