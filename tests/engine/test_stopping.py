"""Every way a run ends early: convergence, early stopping, cancel, time limit, divergence."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.engine import config, linear_data, run
from worker.engine import Cancelled, Diverged, ListReporter, TimedOut, train


def _changed_little(cost: float, previous: float, tol: float) -> bool:
    return abs(cost - previous) <= tol * max(1.0, abs(previous))


@pytest.mark.parametrize(
    "optimizer",
    [{"type": "gd", "lr": 0.05}, {"type": "minibatch", "lr": 0.02, "batch_size": 16}],
)
def test_converges_at_the_first_epoch_the_rule_holds(optimizer: dict) -> None:
    x, y = linear_data(80, [1.0, 3.0], 2.0, noise=0.1)
    tol = 1e-4
    out, reporter = run(x, y, config(optimizer, epochs=5000, tolerance=tol))

    costs = [e["metrics"]["train_loss"] for e in reporter.epochs]
    assert out.outcome == "converged"
    assert len(costs) == out.epochs_run < 5000
    assert _changed_little(costs[-1], costs[-2], tol)
    assert not any(_changed_little(costs[e], costs[e - 1], tol) for e in range(1, len(costs) - 1))
    # the epoch cost is built from the history: gd's one update, or the mean of the epoch's updates
    per_epoch = out.steps // out.epochs_run
    losses = reporter.train["loss"]
    expected = [sum(losses[i : i + per_epoch]) / per_epoch for i in range(0, len(losses), per_epoch)]
    assert costs == pytest.approx(expected, rel=1e-12)
    assert out.metrics["train_loss"] == costs[-1]


def test_tolerance_0_runs_every_epoch() -> None:
    x, y = linear_data(20, [1.0], 0.0, noise=0.0)
    out, _ = run(x, y, config({"type": "gd", "lr": 0.1}, epochs=300, tolerance=0.0))
    assert (out.outcome, out.epochs_run, out.steps) == ("max_epochs", 300, 300)


def test_early_stopping_restores_the_best_dev_epoch() -> None:
    # more features than training rows: the dev cost falls, then rises as the model over-fits
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 40)).astype(np.float32)
    y = (x[:, 0] + 0.5 * rng.standard_normal(60)).astype(np.float32)
    optimizer = {"type": "minibatch", "lr": 0.01, "batch_size": 8}
    common = {"split": {"dev": 0.5, "test": 0.0}, "tolerance": 0.0, "seed": 5}
    patience = 3
    out, reporter = run(
        x, y, config(optimizer, epochs=500, early_stopping={"patience": patience, "min_delta": 0.0}, **common)
    )

    dev = reporter.dev["loss"]
    best_epoch = 1 + dev.index(min(dev))
    assert out.outcome == "early_stopped"
    assert out.epochs_run == best_epoch + patience == len(dev)
    assert out.metrics["best_epoch"] == best_epoch
    assert out.metrics["best_dev_loss"] == min(dev)
    assert out.dev_loss == out.metrics["best_dev_loss"]
    assert out.metrics["dev_loss"] == dev[-1] > out.dev_loss
    # the restored parameters are exactly those of a run that stopped at the best epoch
    at_best, _ = run(x, y, config(optimizer, epochs=best_epoch, **common))
    assert out.params == at_best.params
    assert out.train_loss == at_best.train_loss


def test_min_delta_counts_only_larger_improvements() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((60, 3)).astype(np.float32)
    y = (x @ np.array([1.0, -1.0, 0.5]) + 0.3 * rng.standard_normal(60)).astype(np.float32)
    min_delta = 0.05
    out, reporter = run(
        x,
        y,
        config(
            {"type": "gd", "lr": 0.05},
            epochs=1000,
            tolerance=0.0,
            split={"dev": 0.3, "test": 0.0},
            early_stopping={"patience": 2, "min_delta": min_delta},
        ),
    )
    dev = reporter.dev["loss"]
    best, best_epoch, stale = dev[0], 1, 0
    for epoch, loss in enumerate(dev[1:], start=2):
        if best - loss > min_delta:
            best, best_epoch, stale = loss, epoch, 0
        else:
            stale += 1
    assert out.outcome == "early_stopped"
    assert stale == 2
    assert out.metrics["best_epoch"] == best_epoch
    assert out.dev_loss == best


def test_early_stopping_without_a_dev_split_is_ignored() -> None:
    x, y = linear_data(30, [1.0], 0.0, noise=0.3)
    out, reporter = run(
        x, y, config({"type": "gd", "lr": 0.1}, epochs=20, tolerance=0.0, early_stopping={"patience": 1})
    )
    assert out.outcome == "max_epochs" and out.epochs_run == 20
    assert reporter.dev["step"] == []
    assert out.metrics["best_dev_loss"] is None and out.metrics["best_epoch"] is None


class _CancelAfter(ListReporter):
    """Asks to stop on the k-th tick (after the k-th update)."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = k

    def tick(self) -> bool:
        super().tick()
        return self.ticks >= self.k


def test_cancel_after_k_updates_keeps_the_partial_history() -> None:
    # 20 rows, sgd, 5 epochs: 100 updates; max_history_points 25 → windows of 4
    x, y = linear_data(20, [1.0, 2.0], 0.0, noise=0.3)
    cfg = config({"type": "sgd", "lr": 0.01}, epochs=5, max_history_points=25)
    reporter = _CancelAfter(30)
    with pytest.raises(Cancelled) as caught:
        train(x, y, cfg, reporter)

    assert caught.value.kind == "cancelled"
    assert reporter.ticks == 30
    assert reporter.train["step"] == [4, 8, 12, 16, 20, 24, 28, 30]
    assert reporter.train["epoch"] == [0, 0, 0, 0, 0, 1, 1, 1]
    _, full = run(x, y, config({"type": "sgd", "lr": 0.01}, epochs=5))
    assert reporter.train["loss"][-1] == pytest.approx(sum(full.train["loss"][28:30]) / 2, rel=1e-12)
    assert [e["epoch"] for e in reporter.epochs] == [1]


def test_time_limit() -> None:
    x, y = linear_data(20, [1.0], 0.0, noise=0.3)
    reporter = ListReporter()
    with pytest.raises(TimedOut) as caught:
        train(x, y, config({"type": "sgd", "lr": 0.01}, epochs=5, max_runtime_seconds=1e-9), reporter)
    assert caught.value.kind == "timeout"
    assert "max_runtime_seconds = 1e-09" in str(caught.value)
    assert reporter.train["step"] == [1]


def test_divergence_on_the_epoch_cost_keeps_the_partial_history() -> None:
    x, y = linear_data(40, [1.0, 2.0], 0.0, noise=0.3)
    reporter = ListReporter()
    with pytest.raises(Diverged) as caught:
        train(x, y, config({"type": "minibatch", "lr": 2.0, "batch_size": 10}, epochs=50), reporter)

    err = caught.value
    costs = [e["metrics"]["train_loss"] for e in reporter.epochs]
    assert all(c <= 1e4 * costs[0] for c in costs)
    assert err.epoch == len(costs) + 1
    assert f"epoch {err.epoch}" in str(err) and "10^4 times" in str(err)
    assert "learning rate 2.0 is too large" in str(err)
    assert reporter.train["step"][-1] == err.step
    assert all(np.isfinite(reporter.train["loss"]))
