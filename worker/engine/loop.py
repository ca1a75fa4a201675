"""The training loop: `train()` and gradient descent epoch by epoch.

Boring PyTorch on purpose (pytorch/examples' mnist loop): zero_grad, forward, loss, backward,
step, with a torch.optim optimizer. Around it, per update: the history window, a divergence check
on the cost, the cancel tick and the deadline; per epoch: the dev loss, early stopping,
convergence. Before the first update an "auto" learning rate is chosen (lr_auto.py). Everything
reported is in original units; see data.Scaling, losses (units) and models.Params.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from .config import TrainConfig
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
from .errors import DIVERGENCE_FACTOR, Cancelled, Diverged, EngineError, TimedOut
from .history import TrainHistory, log_every
from .losses import LOSSES
from .lr_auto import mse_stability_bound, range_test, smoothness_lr
from .models import MODELS
from .optimizers import METHODS
from .reporting import Reporter
from .result import TrainOutput, final_numbers, measure
from .search import search


def train(x: np.ndarray, y: np.ndarray, config: TrainConfig, reporter: Reporter) -> TrainOutput:
    """Train on x (n, d) and y (n,) as `config` says, reporting progress to `reporter`.

    Raises Diverged, TimedOut, Cancelled or InvalidData (all EngineError); the partial history
    window is reported before any of them leaves.
    """
    deadline = Deadline(config.max_runtime_seconds)
    x, y = check_arrays(x, y)
    splits = split_data(x, y, config.split, config.seed)
    if config.optimizer.is_search:
        return search(splits, config, reporter, deadline)
    outputs = LOSSES[config.loss].outputs(y)
    return Descent(splits, config, reporter, deadline, outputs).run()


def _tensor(a: np.ndarray) -> torch.Tensor:
    """A tensor sharing `a`'s memory; read-only arrays (np.frombuffer) are fine: none is written."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(a)


class Descent:
    """One gradient-descent run: the model, its optimizer, the data in training space, the state."""

    def __init__(
        self, splits: Splits, config: TrainConfig, reporter: Reporter, deadline: Deadline, outputs: int = 1
    ) -> None:
        """`outputs`: the model's outputs, K classes for cross_entropy (LossSpec.outputs), else 1."""
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
        if config.standardize:
            self.scaling = Scaling.fit(part.x, part.y, center=self.bias, scale_target=self.loss.regression)
            self.x = torch.from_numpy(self.scaling.features(part.x))
            y = self.scaling.target(part.y) if self.loss.regression else part.y
        else:
            self.scaling = Scaling.identity(n_features)
            self.x = _tensor(part.x)
            y = part.y
        self.y = self.loss.targets(y) if self.loss.multiclass else _tensor(y)
        self.train_loss = self.loss.training(self.scaling.y_scale)
        self.to_original = self.loss.to_original(self.scaling.y_scale)

        self.model = model_spec.build(
            config.model,
            n_features,
            outputs,
            self.loss.multiclass,
            self.loss.regression,
            generator(config.seed, INIT_STREAM),
        )
        self.batch_size = self.method.batch_size(config.optimizer, self.rows)
        self.lr = config.optimizer.lr if config.optimizer.lr is not None else self._auto_lr()
        self.optimizer = self.method.make(self.model.parameters(), config.optimizer, self.lr)
        self.steps_per_epoch = math.ceil(self.rows / self.batch_size)
        total_steps = config.epochs * self.steps_per_epoch
        self.log_every = log_every(total_steps, config.max_history_points)
        self.history = TrainHistory(reporter, self.log_every, config.smoothing)
        self.shuffler = generator(config.seed, SHUFFLE_STREAM)
        self.step = 0
        self.epochs_run = 0
        self.tracker = DevTracker(config.early_stopping) if splits.dev is not None else None
        self.last_metrics: dict[str, float | int | None] = {}
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
            lr = smoothness_lr(self.x.numpy(), self.bias, curvature, self.batch_size, momentum)
            if lr is not None:
                return lr

        def check() -> None:
            if self.reporter.tick():
                raise Cancelled("training cancelled while choosing the learning rate")
            if self.deadline.expired():
                raise TimedOut.after(self.deadline.seconds, "while choosing the learning rate")

        return range_test(
            self.model,
            lambda params, lr: self.method.make(params, opt, lr),
            self.train_loss,
            self.x,
            self.y,
            self.batch_size,
            generator(self.config.seed, LR_TEST_STREAM),
            check,
        )

    def _stability_bound(self) -> float | None:
        """2/L for a linear model under mse (named in Diverged messages), else None."""
        if self.config.model.type != "linear" or self.config.loss != "mse":
            return None
        return mse_stability_bound(self.x.numpy(), self.bias)

    def run(self) -> TrainOutput:
        """All epochs, then the result; on any EngineError the partial window is reported first."""
        try:
            outcome = self._epochs()
        except EngineError:
            self.history.flush()
            raise
        self.history.flush()
        return self._output(outcome)

    def _epochs(self) -> str:
        """Train epoch after epoch; returns the outcome."""
        first_cost: float | None = None
        previous: float | None = None
        tolerance = self.config.tolerance
        for epoch in range(self.config.epochs):
            cost = self._epoch(epoch)
            self.epochs_run = done = epoch + 1
            if first_cost is None:
                first_cost = cost
            elif cost > DIVERGENCE_FACTOR * first_cost:
                raise Diverged.grew(done, self.step, cost, first_cost, self.lr, self._stability_bound())
            self.last_metrics = self._epoch_metrics(done, cost)
            self.reporter.epoch_end(done, self.step, self.last_metrics)
            if self.tracker is not None and self.tracker.should_stop:
                self.model.load_state_dict(self.tracker.best_state)
                return "early_stopped"
            if (
                tolerance > 0
                and previous is not None
                and abs(cost - previous) <= tolerance * max(1.0, abs(previous))
            ):
                return "converged"
            previous = cost
        return "max_epochs"

    def _epoch(self, epoch: int) -> float:
        """One pass over the training split (epoch is 0-based); returns the epoch's cost."""
        x, y = self.x, self.y
        size = self.batch_size
        if size < self.rows:
            order = torch.randperm(self.rows, generator=self.shuffler)
            x, y = x[order], y[order]
        model, optimizer, loss_fn = self.model, self.optimizer, self.train_loss
        history, reporter, deadline = self.history, self.reporter, self.deadline
        scale = self.to_original
        step = self.step
        total = 0.0
        for start in range(0, self.rows, size):
            xb, yb = x[start : start + size], y[start : start + size]
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            cost = loss.item() * scale
            step += 1
            self.step = step
            if not math.isfinite(cost):
                raise Diverged.non_finite(epoch + 1, step, self.lr, self._stability_bound())
            total += cost
            history.add(step, epoch, cost)
            if reporter.tick():
                raise Cancelled(f"training cancelled in epoch {epoch + 1} at step {step}")
            if deadline.expired():
                raise TimedOut.after(deadline.seconds, f"in epoch {epoch + 1} at step {step}")
        return total / self.steps_per_epoch

    def _epoch_metrics(self, epoch: int, cost: float) -> dict[str, float | int | None]:
        """The dev point, early-stopping bookkeeping, and the live metrics after an epoch."""
        dev_loss = best_loss = best_epoch = None
        if self.tracker is not None:
            dev_loss = self._dev_loss()
            self.reporter.dev_point(self.step, epoch, dev_loss)
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
