"""The loss history: window means, labels, smoothing, dev points, epoch metrics."""

from __future__ import annotations

import math

import pytest

from tests.support.engine import config, linear_data, run


def _smooth(losses: list[float], beta: float) -> list[float]:
    """The API's formula, written out: C'₀ = C₀, C'ᵢ = β·Cᵢ + (1 − β)·C'ᵢ₋₁."""
    out: list[float] = []
    for c in losses:
        out.append(c if not out else beta * c + (1 - beta) * out[-1])
    return out


@pytest.mark.parametrize("beta", [0.4, 0.05])
def test_smoothed_column_is_the_formula_over_the_loss_column(beta: float) -> None:
    x, y = linear_data(40, [1.0, 2.0], 0.5, noise=1.0)
    _, reporter = run(x, y, config({"type": "sgd", "lr": 0.01}, epochs=3, smoothing=beta))

    losses = reporter.train["loss"]
    assert len(losses) == 120
    assert reporter.train["smoothed"] == _smooth(losses, beta)
    assert reporter.train["smoothed"] != losses  # sgd losses are noisy: smoothing changed them
    # the live metric is the smoothed value of the latest point
    assert reporter.epochs[-1]["metrics"]["train_loss_smoothed"] == reporter.train["smoothed"][-1]


def test_beta_1_means_no_smoothing() -> None:
    x, y = linear_data(40, [1.0, 2.0], 0.5, noise=1.0)
    _, reporter = run(x, y, config({"type": "sgd", "lr": 0.01}, epochs=3, smoothing=1.0))
    assert reporter.train["smoothed"] == reporter.train["loss"]


def test_windows_are_means_labelled_with_their_last_step() -> None:
    # 30 rows in batches of 8: 4 updates per epoch (the last of 6 rows), 7 epochs = 28 updates.
    # max_history_points 5 → log_every = ceil(28 / 5) = 6 → windows end at 6, 12, 18, 24, 28.
    x, y = linear_data(30, [1.0], 0.0, noise=0.5)
    optimizer = {"type": "minibatch", "lr": 0.05, "batch_size": 8}
    _, every = run(x, y, config(optimizer, epochs=7, tolerance=0.0))
    out, windowed = run(x, y, config(optimizer, epochs=7, tolerance=0.0, max_history_points=5))

    assert windowed.plans[0] == {
        "epochs": 7,
        "steps_per_epoch": 4,
        "log_every": 6,
        "total_steps": 28,
        "lr": 0.05,
    }
    assert out.log_every == 6
    assert every.train["step"] == list(range(1, 29))
    assert windowed.train["step"] == [6, 12, 18, 24, 28]
    assert windowed.train["epoch"] == [(s - 1) // 4 for s in [6, 12, 18, 24, 28]]
    assert windowed.train["epoch"] == [1, 2, 4, 5, 6]
    costs = every.train["loss"]
    for point, (lo, hi) in zip(
        windowed.train["loss"], [(0, 6), (6, 12), (12, 18), (18, 24), (24, 28)], strict=True
    ):
        assert point == pytest.approx(sum(costs[lo:hi]) / (hi - lo), rel=1e-12)
    assert windowed.train["smoothed"] == pytest.approx(_smooth(windowed.train["loss"], 0.4), rel=1e-15)


def test_a_run_that_stops_early_emits_its_partial_window() -> None:
    # gd on clean data converges long before 1000 epochs; with log_every 7 the last window is partial
    x, y = linear_data(50, [2.0], 1.0, noise=0.0)
    out, reporter = run(x, y, config({"type": "gd", "lr": 0.1}, epochs=1000, max_history_points=143))

    assert out.log_every == 7
    assert out.outcome == "converged"
    assert out.steps % 7 != 0  # the case under test
    steps = reporter.train["step"]
    assert steps[-1] == out.steps
    assert steps[:-1] == list(range(7, out.steps, 7))
    assert len(steps) == math.ceil(out.steps / 7)


def test_dev_points_after_every_epoch() -> None:
    x, y = linear_data(50, [1.0, -1.0], 0.0, noise=0.5)
    out, reporter = run(
        x,
        y,
        config({"type": "minibatch", "lr": 0.05, "batch_size": 8}, epochs=6, split={"dev": 0.2, "test": 0.1}),
    )
    # 50 rows: 10 dev, 5 test, 35 train → 5 batches per epoch
    assert reporter.plans[0]["steps_per_epoch"] == 5
    assert reporter.dev["epoch"] == [1, 2, 3, 4, 5, 6]
    assert reporter.dev["step"] == [5, 10, 15, 20, 25, 30]
    assert [e["epoch"] for e in reporter.epochs] == [1, 2, 3, 4, 5, 6]
    assert [e["step"] for e in reporter.epochs] == [5, 10, 15, 20, 25, 30]
    last = reporter.epochs[-1]["metrics"]
    assert last["dev_loss"] == reporter.dev["loss"][-1]
    assert last["best_dev_loss"] == min(reporter.dev["loss"])
    assert last["best_epoch"] == 1 + reporter.dev["loss"].index(min(reporter.dev["loss"]))
    # the epoch's cost is the mean of its updates' costs
    epoch_costs = [sum(reporter.train["loss"][5 * e : 5 * e + 5]) / 5 for e in range(6)]
    assert [e["metrics"]["train_loss"] for e in reporter.epochs] == pytest.approx(epoch_costs, rel=1e-12)
    assert out.metrics == last
    assert out.dev_loss == reporter.dev["loss"][-1]
    assert out.test_loss is not None
