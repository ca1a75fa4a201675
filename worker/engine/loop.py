"""The training loop: `train()` and gradient descent epoch by epoch.

Boring PyTorch on purpose (pytorch/examples' mnist loop): zero_grad, forward, loss, backward,
step, with a torch.optim optimizer. Around it, per update: the history window, a divergence check
on the cost, the cancel tick and the deadline; per epoch: the dev loss, early stopping,
convergence. Before the first update an "auto" learning rate is chosen (lr_auto.py). Everything
reported is in original units; see data.Scaling, losses (units) and models.Params.

Checkpoints (checkpoint.py): when tick() answers CHECKPOINT or SUSPEND, the run's whole state is
handed to reporter.save_checkpoint — right after that update's bookkeeping, which for an epoch's
last update means after the epoch-end work — and SUSPEND then raises Suspended. `train(...,
resume=checkpoint)` rebuilds the run from that state: the same data, splits and scaling (recomputed,
and checked against the checkpoint's), plan() with the stored learning rate and log_every, then
the epoch in progress from its stored generator state and next batch. The points emitted after a
resume continue the sequence exactly, and the result is bit for bit that of an uninterrupted run.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import torch

from descent.spec import JobConfig

from .checkpoint import Checkpoint, RunState, TrackerState, config_fingerprint
from .data import (
    INIT_STREAM,
    LR_TEST_STREAM,
    SHUFFLE_STREAM,
    Scaling,
    Splits,
    check_arrays,
    generator,
    split_data,
)
from .deadline import Deadline
from .early_stopping import DevTracker
from .errors import DIVERGENCE_FACTOR, Cancelled, Diverged, EngineError, Suspended, TimedOut
from .fast import (
    CHUNK_SECONDS,
    COMPILED,
    DENSE,
    MAX_CHUNK_UPDATES,
    SMALL_DATA_CELLS,
    DenseStep,
    LinearKernel,
    choose,
    dense_threads,
    intra_op_threads,
)
from .history import TrainHistory, log_every
from .losses import LOSSES
from .lr_auto import mse_stability_bound, range_test, smoothness_lr
from .models import MODELS
from .optimizers import METHODS
from .reporting import Reporter, Signal
from .result import TrainOutput, final_numbers, measure
from .search import search


def train(
    x: np.ndarray,
    y: np.ndarray,
    config: JobConfig,
    reporter: Reporter,
    resume: Checkpoint | None = None,
    *,
    fast: bool | None = None,
) -> TrainOutput:
    """Train on x (n, d) and y (n,) as `config` says, reporting progress to `reporter`.

    `fast`: take a fast path where one exists (fast.py; the same numbers within float rounding),
    or False for the plain autograd loop; None: DESCENT_FAST_PATHS decides (on unless it is 0).

    `resume`: a Checkpoint of this job (same config and data) to continue from; ValueError, before
    any reporter call, when it is malformed or does not fit. Exhaustive search takes none.
    Raises Diverged, TimedOut, Cancelled, Suspended or InvalidData (all EngineError); the partial
    history window is reported before any of them but Suspended leaves (that window is in the
    checkpoint Suspended carries).
    """
    state = None
    if resume is not None:
        if config.optimizer.is_search:
            raise ValueError("checkpoint: exhaustive search does not resume; run it again from the start")
        state = RunState.from_checkpoint(resume)
    deadline = Deadline(config.max_runtime_seconds, state.elapsed_seconds if state is not None else 0.0)
    x, y = check_arrays(x, y)
    splits = split_data(x, y, config.split, config.seed)
    outputs = LOSSES[config.loss].outputs(y)  # InvalidData on targets the loss cannot take
    if config.optimizer.is_search:
        return search(splits, config, reporter, deadline)
    return Descent(splits, config, reporter, deadline, outputs, state, fast).run()


def _tensor(a: np.ndarray) -> torch.Tensor:
    """A tensor sharing `a`'s memory; read-only arrays (np.frombuffer) are fine: none is written."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(a)


class Descent:
    """One gradient-descent run: the model, its optimizer, the data in training space, the state."""

    def __init__(
        self,
        splits: Splits,
        config: JobConfig,
        reporter: Reporter,
        deadline: Deadline,
        outputs: int = 1,
        resume: RunState | None = None,
        fast: bool | None = None,
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
        self.rows, n_features = part.x.shape
        self.path = choose(config, self.loss, outputs, fast)
        self.kernel: LinearKernel | None = None
        if config.standardize:
            self.scaling = Scaling.fit(part.x, part.y, center=self.bias, scale_target=self.loss.regression)
        else:
            self.scaling = Scaling.identity(n_features)
        self.n_features = n_features
        if self.path == COMPILED:
            # no row-major copy: the kernel holds what it needs (fast.LinearKernel)
            whole = self.method.batch_size(config.optimizer, self.rows) >= self.rows
            self.kernel = LinearKernel(part.x, part.y, self.scaling, whole, config.standardize)
        else:
            if config.standardize:
                self.x = torch.from_numpy(self.scaling.features(part.x))
                y = self.scaling.target(part.y) if self.loss.regression else part.y
            else:
                self.x = _tensor(part.x)
                y = part.y
            self.y = self.loss.targets(y) if self.loss.multiclass else _tensor(y)
        self.train_loss = self.loss.training(self.scaling.y_scale)
        self.to_original = self.loss.to_original(self.scaling.y_scale)

        self.outputs = outputs
        self.model = model_spec.build(
            config.model,
            n_features,
            outputs,
            self.loss.multiclass,
            self.loss.regression,
            generator(config.seed, INIT_STREAM),
        )
        self.batch_size = self.method.batch_size(config.optimizer, self.rows)
        if resume is not None:
            self.lr = resume.lr  # "auto" is not chosen again
        else:
            self.lr = self._auto_lr() if config.optimizer.auto_lr else config.optimizer.lr
        self.optimizer = self.method.make(
            self.model.parameters(), config.optimizer, self.lr, fused=self.path == DENSE
        )
        self._update = DenseStep(self.model, self.optimizer) if self.path == DENSE else self._autograd_update
        self.threads = dense_threads(self.model, self.batch_size) if self.path == DENSE else None
        if self.path == COMPILED:
            self.threads = 1  # its only torch call is randperm, serial anyway (fast.intra_op_threads)
        if self.kernel is not None:
            self.kernel.bind(self.model)
        self.steps_per_epoch = math.ceil(self.rows / self.batch_size)
        total_steps = config.epochs * self.steps_per_epoch
        self.log_every = log_every(total_steps, config.max_history_points)
        if resume is not None:
            self.log_every = resume.log_every
        self.history = TrainHistory(reporter, self.log_every, config.smoothing)
        self.shuffler = generator(config.seed, SHUFFLE_STREAM)
        self._chunk = 16
        """Updates per chunk on the compiled path with batched ticks (adapted as training goes)."""
        self._epoch_rng: torch.Tensor | None = None
        """The shuffler's state at the start of the epoch in progress (when it shuffles)."""
        self.step = 0
        self.epochs_run = 0
        self.next_batch = 0
        """Where the next epoch starts: 0, or a resumed epoch's next batch."""
        self.epoch_cost_sum = 0.0
        """The resumed epoch's cost sum so far (0.0 otherwise)."""
        self.first_cost: float | None = None
        self.previous_cost: float | None = None
        self.tracker = DevTracker(config.early_stopping) if splits.dev is not None else None
        self.dev_points = 0
        self.last_metrics: dict[str, float | int | None] = {}
        if resume is not None:
            self._restore(resume)
        reporter.plan(
            epochs=config.epochs,
            steps_per_epoch=self.steps_per_epoch,
            log_every=self.log_every,
            total_steps=total_steps,
            lr=self.lr,
        )

    def _auto_lr(self) -> float:
        """The learning rate for "auto" (rules in lr_auto's docstring)."""
        opt = self.config.optimizer
        curvature = self.loss.curvature
        if self.config.model.type == "linear" and curvature is not None and opt.type != "adam":
            momentum = opt.momentum if opt.type == "momentum" else 0.0
            lr = smoothness_lr(self._features(), self.bias, curvature, self.batch_size, momentum)
            if lr is not None:
                return lr

        def check() -> None:
            # nothing to checkpoint yet: CHECKPOINT is ignored, SUSPEND leaves without a checkpoint
            signal = self.reporter.tick()
            if signal and signal != Signal.CHECKPOINT:
                if signal == Signal.SUSPEND:
                    raise Suspended(
                        "training suspended while choosing the learning rate, before its first "
                        "checkpoint; it starts again from the beginning"
                    )
                raise Cancelled("training cancelled while choosing the learning rate")
            if self.deadline.expired():
                raise TimedOut.after(self.deadline.seconds, "while choosing the learning rate")

        x, y = self._tensors()
        return range_test(
            self.model,
            lambda params, lr: self.method.make(params, opt, lr),
            self.train_loss,
            x,
            y,
            self.batch_size,
            generator(self.config.seed, LR_TEST_STREAM),
            check,
        )

    def _stability_bound(self) -> float | None:
        """2/L for a linear model under mse (named in Diverged messages), else None."""
        if self.config.model.type != "linear" or self.config.loss != "mse":
            return None
        return mse_stability_bound(self._features(), self.bias)

    def _features(self) -> np.ndarray:
        """The training features as the model sees them (n, d), in their original order."""
        if self.kernel is not None:
            return self.kernel.x
        return self.x.numpy()

    def _tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The training features and targets as the model sees them, as tensors."""
        if self.kernel is not None:
            return _tensor(self.kernel.x), _tensor(self.kernel.y)
        return self.x, self.y

    def run(self) -> TrainOutput:
        """All epochs, then the result; on any EngineError the partial window is reported first,
        except on Suspended, whose checkpoint holds it (emitting it would duplicate it on resume)."""
        try:
            with intra_op_threads(self.threads):
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
            outcome = self._end_epoch(epoch + 1, cost)
            if outcome is not None:
                return outcome
            if pending and epoch + 1 < self.config.epochs:
                # asked on the epoch's last update: the checkpoint comes after the epoch-end work
                self._checkpoint(pending, 0, 0.0, f"after epoch {epoch + 1} at step {self.step}")
        return "max_epochs"

    def _end_epoch(self, done: int, cost: float) -> str | None:
        """Divergence, the dev point, metrics, early stopping and convergence after 1-based epoch
        `done`; returns the outcome if training ends here."""
        self.epochs_run = done
        if self.first_cost is None:
            self.first_cost = cost
        elif cost > DIVERGENCE_FACTOR * self.first_cost:
            raise Diverged.grew(done, self.step, cost, self.first_cost, self.lr, self._stability_bound())
        self.last_metrics = self._epoch_metrics(done, cost)
        self.reporter.epoch_end(done, self.step, self.last_metrics)
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

    def _epoch(self, epoch: int) -> tuple[float, Signal | bool]:
        """One pass over the training split (epoch is 0-based), from `next_batch` on a resumed
        epoch; returns the epoch's cost and a CHECKPOINT or SUSPEND asked on its last update."""
        if self.kernel is not None:
            return self._compiled_epoch(epoch)
        x, y = self.x, self.y
        size = self.batch_size
        order: torch.Tensor | None = None
        if size < self.rows:
            self._epoch_rng = self.shuffler.get_state()
            order = torch.randperm(self.rows, generator=self.shuffler)
            if self.path != DENSE or x.numel() <= SMALL_DATA_CELLS:
                x, y = x[order], y[order]
                order = None
            # big data on the DENSE path: each batch's rows are gathered (the same batches, no copy)
        update = self._update
        history, reporter, deadline = self.history, self.reporter, self.deadline
        scale = self.to_original
        step = self.step
        total, self.epoch_cost_sum = self.epoch_cost_sum, 0.0
        first, self.next_batch = self.next_batch, 0
        last = self.steps_per_epoch - 1
        pending: Signal | bool = Signal.CONTINUE
        for batch in range(first, self.steps_per_epoch):
            start = batch * size
            if order is None:
                xb, yb = x[start : start + size], y[start : start + size]
            else:
                rows = order[start : start + size]
                xb, yb = x.index_select(0, rows), y.index_select(0, rows)
            cost = update(xb, yb) * scale
            step += 1
            self.step = step
            if not math.isfinite(cost):
                raise Diverged.non_finite(epoch + 1, step, self.lr, self._stability_bound())
            total += cost
            history.add(step, epoch, cost)
            signal = reporter.tick()
            if signal:
                if signal != Signal.CHECKPOINT and signal != Signal.SUSPEND:
                    raise Cancelled(f"training cancelled in epoch {epoch + 1} at step {step}")
                if batch == last:
                    pending = signal
                else:
                    self._checkpoint(signal, batch + 1, total, f"in epoch {epoch + 1} at step {step}")
            if deadline.expired():
                raise TimedOut.after(deadline.seconds, f"in epoch {epoch + 1} at step {step}")
        return total / self.steps_per_epoch, pending

    def _autograd_update(self, xb: torch.Tensor, yb: torch.Tensor) -> float:
        """The plain update: zero_grad, forward, loss, backward, step; returns the batch's loss."""
        self.optimizer.zero_grad()
        loss = self.train_loss(self.model(xb), yb)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def _compiled_epoch(self, epoch: int) -> tuple[float, Signal | bool]:
        """`_epoch` on the compiled path (fast.py): the same updates, history, ticks, checkpoints
        and checks, with the updates made by a kernel a chunk at a time. A chunk is one update
        unless the reporter has `batched_ticks`; then it is sized to take about CHUNK_SECONDS,
        and tick() comes after each chunk rather than after each update."""
        kernel = self.kernel
        assert kernel is not None
        size = self.batch_size
        if size < self.rows:
            self._epoch_rng = self.shuffler.get_state()
            kernel.shuffle(torch.randperm(self.rows, generator=self.shuffler))
        history, reporter, deadline = self.history, self.reporter, self.deadline
        scale, lr = self.to_original, self.lr
        batched = bool(getattr(reporter, "batched_ticks", False))
        chunk = self._chunk if batched else 1
        costs = np.empty(chunk)
        total, self.epoch_cost_sum = self.epoch_cost_sum, 0.0
        batch, self.next_batch = self.next_batch, 0
        steps = self.steps_per_epoch
        pending: Signal | bool = Signal.CONTINUE
        while batch < steps:
            stop = min(steps, batch + chunk)
            if costs.shape[0] < stop - batch:
                costs = np.empty(stop - batch)
            started = time.perf_counter()
            done = kernel.run(lr, size, batch, stop, costs)
            spent = time.perf_counter() - started
            step = self.step
            if not math.isfinite(costs[done - 1]):
                total = history.add_many(step, epoch, costs, done - 1, scale, total)
                self.step = step + done
                raise Diverged.non_finite(epoch + 1, self.step, lr, self._stability_bound())
            total = history.add_many(step, epoch, costs, done, scale, total)
            step += done
            self.step = step
            batch = stop
            signal = reporter.tick()
            if signal:
                if signal != Signal.CHECKPOINT and signal != Signal.SUSPEND:
                    raise Cancelled(f"training cancelled in epoch {epoch + 1} at step {step}")
                if batch == steps:
                    pending = signal
                else:
                    self._checkpoint(signal, batch, total, f"in epoch {epoch + 1} at step {step}")
            if deadline.expired():
                raise TimedOut.after(deadline.seconds, f"in epoch {epoch + 1} at step {step}")
            if batched:
                per_update = spent / done
                chunk = max(1, min(MAX_CHUNK_UPDATES, 2 * chunk, int(CHUNK_SECONDS / max(per_update, 1e-9))))
                self._chunk = chunk
        return total / steps, pending

    def _epoch_metrics(self, epoch: int, cost: float) -> dict[str, float | int | None]:
        """The dev point, early-stopping bookkeeping, and the live metrics after an epoch."""
        dev_loss = best_loss = best_epoch = None
        if self.tracker is not None:
            dev_loss = self._dev_loss()
            self.reporter.dev_point(self.step, epoch, dev_loss)
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

    # -- checkpoints ---------------------------------------------------------------------------------
    def _checkpoint(self, signal: Signal | bool, batch: int, cost_sum: float, where: str) -> None:
        """Save a checkpoint (CHECKPOINT), then raise Suspended for SUSPEND. `batch` is the next
        batch of the epoch in progress (`epochs_run`, 0-based), `cost_sum` its costs so far."""
        checkpoint = self._state(batch, cost_sum).to_checkpoint()
        self.reporter.save_checkpoint(checkpoint)
        if signal == Signal.SUSPEND:
            raise Suspended(f"training suspended {where}; it resumes from this checkpoint", checkpoint)

    def _state(self, batch: int, cost_sum: float) -> RunState:
        """Everything needed to continue from here (copies: training goes on)."""
        names = [name for name, _ in self.model.named_parameters()]
        optimizer = {
            index: {key: _array(value) for key, value in state.items()}
            for index, state in self.optimizer.state_dict()["state"].items()
        }
        tracker = best = None
        if self.tracker is not None:
            t = self.tracker
            tracker = TrackerState(t.best_loss, t.best_epoch, t.stale_epochs)
            best = {k: _array(v) for k, v in t.best_state.items()}
        # mid-epoch: the state the epoch's permutation was drawn from; at its start: the current one
        shuffle = self._epoch_rng if batch > 0 and self._epoch_rng is not None else self.shuffler.get_state()
        return RunState(
            config=config_fingerprint(self.config),
            rows=self.rows,
            features=self.n_features,
            outputs=self.outputs,
            parameters=names,
            lr=self.lr,
            log_every=self.log_every,
            batch_size=self.batch_size,
            steps_per_epoch=self.steps_per_epoch,
            step=self.step,
            epoch=self.epochs_run,
            batch=batch,
            epoch_cost_sum=cost_sum,
            first_cost=self.first_cost,
            previous_cost=self.previous_cost,
            window=self.history.state(),
            tracker=tracker,
            metrics=dict(self.last_metrics),
            elapsed_seconds=self.deadline.elapsed(),
            y_center=self.scaling.y_center,
            y_scale=self.scaling.y_scale,
            model={k: _array(v) for k, v in self.model.state_dict().items()},
            optimizer=optimizer,
            best=best or {},
            shuffle=shuffle.numpy().copy(),
            x_center=np.array(self.scaling.x_center, dtype=np.float64),
            x_scale=np.array(self.scaling.x_scale, dtype=np.float64),
            train_points=self.history.points,
            dev_points=self.dev_points,
        )

    def _restore(self, state: RunState) -> None:
        """Continue from `state`, after checking it belongs to this job (ValueError if not)."""
        state.check_fits(
            config=self.config,
            rows=self.rows,
            features=self.n_features,
            outputs=self.outputs,
            batch_size=self.batch_size,
            model=self.model,
            state_keys=self.method.state_keys(self.config.optimizer),
            has_dev=self.tracker is not None,
            scaling=self.scaling,
        )
        try:
            self.shuffler.set_state(torch.from_numpy(np.array(state.shuffle, dtype=np.uint8)))
        except (RuntimeError, ValueError) as exc:
            raise ValueError(f"checkpoint tensor shuffle.state: not a generator state ({exc})") from None
        self.model.load_state_dict({k: _tensor_copy(v) for k, v in state.model.items()})
        saved = self.optimizer.state_dict()
        saved["state"] = {
            index: {key: _tensor_copy(value) for key, value in entries.items()}
            for index, entries in state.optimizer.items()
        }
        self.optimizer.load_state_dict(saved)
        if self.tracker is not None and state.tracker is not None:
            t = state.tracker
            best = {k: _tensor_copy(v) for k, v in state.best.items()}
            self.tracker.restore(t.best_loss, t.best_epoch, t.stale_epochs, best)
        self.history.restore(state.window, state.train_points)
        self.dev_points = state.dev_points
        self.step = state.step
        self.epochs_run = state.epoch
        self.next_batch = state.batch
        self.epoch_cost_sum = state.epoch_cost_sum
        self.first_cost, self.previous_cost = state.first_cost, state.previous_cost
        self.last_metrics = dict(state.metrics)

    # -- results -------------------------------------------------------------------------------------
    def _dev_loss(self) -> float:
        """The dev loss of the current parameters, measured like the final result (float64)."""
        with torch.no_grad():
            params = self.model.original_params(self.scaling)
        loss = measure(params, self.splits.dev, self.loss)
        assert loss is not None  # only called with a dev split
        return loss

    def _output(self, outcome: str) -> TrainOutput:
        """Final parameters in original units and their float64 numbers on every split."""
        params = self.model.original_params(self.scaling)
        if not params.is_finite():
            raise Diverged.bad_params(self.epochs_run, self.step, self.lr, self._stability_bound())
        numbers = final_numbers(params, self.splits, self.loss)
        return TrainOutput(
            outcome=outcome,
            params=params.to_json(),
            **numbers.fields(),
            epochs_run=self.epochs_run,
            steps=self.step,
            seconds=self.deadline.elapsed(),
            metrics=self.last_metrics,
            log_every=self.log_every,
            lr=self.lr,
        )


def _array(value: torch.Tensor) -> np.ndarray:
    """A numpy copy of a tensor (the tensor keeps changing as training goes on)."""
    return value.detach().numpy().copy()


def _tensor_copy(array: np.ndarray) -> torch.Tensor:
    """A writable, C-contiguous tensor of its own (optimizer state is updated in place)."""
    return torch.from_numpy(np.array(array, order="C"))
