"""`"lr": "auto"`: the curvature L, the rules built on it, the range test, the stability bound."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_diabetes

from tests.support.engine import config, least_squares, linear_data, run
from worker.engine import Diverged, ListReporter, train
from worker.engine.lr_auto import (
    EXACT_EIGEN_MAX_DIM,
    GRAM_CHUNK_ROWS,
    gram,
    largest_eigenvalue,
    power_iteration,
)

X = np.array([[1.0], [2.0], [3.0]], dtype=np.float32)
Y = np.array([2.0, 4.0, 6.0], dtype=np.float32)
NO_BIAS = {"model": {"type": "linear", "bias": False}, "standardize": False, "tolerance": 0.0}


def _diabetes() -> tuple[np.ndarray, np.ndarray]:
    x, y = load_diabetes(return_X_y=True)
    return np.ascontiguousarray(x, dtype=np.float32), y.astype(np.float32)


def _standardized_with_ones(x: np.ndarray) -> np.ndarray:
    """The features as a linear model with bias sees them, written out in float64."""
    x64 = x.astype(np.float64)
    z = (x64 - x64.mean(0).astype(np.float32)) / x64.std(0).astype(np.float32)
    return np.c_[z, np.ones(len(x))]


def test_gd_auto_solves_the_worked_example() -> None:
    # cost = (1/3)·Σ(w·x − y)²: Hessian 2·14/3 = 28/3, so 1/L = 3/28 — one step lands on w = 2
    out, reporter = run(X, Y, config({"type": "gd", "lr": "auto"}, epochs=100, **NO_BIAS))
    assert out.lr == pytest.approx(3 / 28, rel=1e-12)
    assert reporter.plans[0]["lr"] == out.lr
    assert abs(out.params["weights"][0] - 2.0) < 1e-6
    assert abs(reporter.train["loss"][1]) < 1e-9  # the cost after one update


def test_weight_decay_adds_to_the_curvature() -> None:
    # L2 adds weight_decay·I to the Hessian: 1/(28/3 + 0.5), and gd then lands on the minimum of
    # cost + (0.5/2)·w², w = 2·(28/3) / (28/3 + 0.5), in one step
    cfg = config({"type": "gd", "lr": "auto", "weight_decay": 0.5}, epochs=1, **NO_BIAS)
    out, _ = run(X, Y, cfg)
    assert out.lr == pytest.approx(1 / (28 / 3 + 0.5), rel=1e-12)
    assert out.params["weights"][0] == pytest.approx(2 * (28 / 3) / (28 / 3 + 0.5), rel=1e-6)


def test_the_diverged_message_states_the_stability_bound() -> None:
    with pytest.raises(Diverged) as caught:
        run(X, Y, config({"type": "gd", "lr": 1.0}, epochs=100, **NO_BIAS))
    message = str(caught.value)
    assert (
        "the learning rate 1.0 is too large — the largest stable learning rate here is about 0.214 "
        "(2/L for full-batch gradient descent) — try a smaller one such as 0.1" in message
    )
    # just below 2/L = 3/14 gradient descent converges, just above it diverges
    stable, _ = run(X, Y, config({"type": "gd", "lr": 0.99 * 3 / 14}, epochs=2000, **NO_BIAS))
    assert abs(stable.params["weights"][0] - 2.0) < 1e-3
    with pytest.raises(Diverged):
        run(X, Y, config({"type": "gd", "lr": 1.05 * 3 / 14}, epochs=2000, **NO_BIAS))


def test_far_too_large_a_step_suggests_one_below_the_bound() -> None:
    with pytest.raises(Diverged) as caught:
        run(X, Y, config({"type": "sgd", "lr": 50.0}, epochs=100, **NO_BIAS))
    assert "about 0.214" in str(caught.value) and "such as 0.107" in str(caught.value)


def test_no_bound_is_claimed_outside_linear_mse() -> None:
    x, y = linear_data(40, [1.0, 2.0], 0.0, noise=0.3)
    with pytest.raises(Diverged) as caught:
        run(x, y, config({"type": "gd", "lr": 1e3}, model={"type": "mlp", "hidden": [4]}, epochs=50))
    assert "2/L" not in str(caught.value) and "learning rate 1000.0 is too large" in str(caught.value)


def test_power_iteration_matches_eigvalsh() -> None:
    rng = np.random.default_rng(0)
    for d in (1, 5, 40):
        x = rng.standard_normal((500, d)) * rng.uniform(0.1, 3.0, size=d) + rng.standard_normal(d)
        a = gram(x.astype(np.float32), bias=True)
        assert power_iteration(a) == pytest.approx(np.linalg.eigvalsh(a)[-1], rel=1e-9)
    # above EXACT_EIGEN_MAX_DIM largest_eigenvalue uses power iteration
    d = EXACT_EIGEN_MAX_DIM + 20
    x = rng.standard_normal((2 * d, d)) + 0.3 * rng.standard_normal(d)
    a = gram(x.astype(np.float32), bias=False)
    assert largest_eigenvalue(a) == pytest.approx(np.linalg.eigvalsh(a)[-1], rel=1e-9)


def test_gram_is_xtx_over_n_with_a_column_of_ones_in_chunks() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((GRAM_CHUNK_ROWS + 123, 3)).astype(np.float32)
    x64 = np.c_[x.astype(np.float64), np.ones(len(x))]
    np.testing.assert_allclose(gram(x, bias=True), x64.T @ x64 / len(x), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gram(x, bias=False), x64[:, :3].T @ x64[:, :3] / len(x), rtol=1e-12)


def test_gd_auto_on_diabetes_is_one_over_l_in_standardized_space() -> None:
    x, y = _diabetes()
    a = _standardized_with_ones(x)
    lipschitz = 2 * np.linalg.eigvalsh(a.T @ a / len(a))[-1]
    _, _, best = least_squares(x, y)
    out, _ = run(x, y, config({"type": "gd", "lr": "auto"}, epochs=2000, tolerance=0.0))
    assert out.lr == pytest.approx(1 / lipschitz, rel=1e-6)
    assert out.train_loss <= best * 1.001


@pytest.mark.parametrize(
    "optimizer, factor",
    [
        ({"type": "sgd", "lr": "auto"}, 1.0),
        ({"type": "minibatch", "lr": "auto", "batch_size": 32}, 1.0),
        ({"type": "momentum", "lr": "auto", "batch_size": 32, "momentum": 0.9}, 0.1),
    ],
)
def test_stochastic_auto_is_half_over_the_expected_smoothness(optimizer: dict, factor: float) -> None:
    x, y = _diabetes()
    a = _standardized_with_ones(x)
    n, b = len(a), optimizer.get("batch_size", 1)
    big_l = 2 * np.linalg.eigvalsh(a.T @ a / n)[-1]
    l_max = 2 * np.max(np.sum(a * a, axis=1))
    expected_smoothness = n * (b - 1) / (b * (n - 1)) * big_l + (n - b) / (b * (n - 1)) * l_max
    _, _, best = least_squares(x, y)
    out, _ = run(x, y, config(optimizer, epochs=20, tolerance=0.0))
    assert out.lr == pytest.approx(factor / (2 * expected_smoothness), rel=1e-6)
    assert out.train_loss <= best * 1.1  # a safe step: no divergence, near the optimum


def test_bce_auto_uses_a_quarter_of_the_gram_matrix() -> None:
    x = np.array([[0.0], [1.0], [2.0], [3.0]], dtype=np.float32)
    y = np.array([0, 0, 1, 1], dtype=np.float32)
    out, _ = run(x, y, config({"type": "gd", "lr": "auto"}, loss="bce", standardize=False, epochs=1))
    a = np.c_[x.astype(np.float64), np.ones(4)]
    assert out.lr == pytest.approx(1 / (0.25 * np.linalg.eigvalsh(a.T @ a / 4)[-1]), rel=1e-9)


@pytest.mark.parametrize(
    "overrides",
    [
        {
            "optimizer": {"type": "adam", "lr": "auto"},
            "model": {"type": "mlp", "hidden": [8], "activation": "tanh"},
        },
        {
            "optimizer": {"type": "gd", "lr": "auto"},
            "model": {"type": "mlp", "hidden": [8], "activation": "relu"},
        },
        {"optimizer": {"type": "minibatch", "lr": "auto", "batch_size": 8}, "loss": "mae"},
        {"optimizer": {"type": "adam", "lr": "auto"}},
    ],
)
def test_the_range_test_is_deterministic_and_leaves_training_alone(overrides: dict) -> None:
    x, y = linear_data(64, [1.0, -1.0], 0.5, noise=0.2)
    y = np.tanh(y).astype(np.float32)
    optimizer = overrides.pop("optimizer")
    auto, a = run(x, y, config(optimizer, epochs=5, **overrides))
    again, _ = run(x, y, config(optimizer, epochs=5, **overrides))
    assert auto.lr == again.lr and 1e-8 <= auto.lr <= 1.0
    assert a.plans[0]["lr"] == auto.lr
    # training with the chosen rate given explicitly is the same run, bit for bit: the range test
    # worked on a copy, with its own generator, and touched neither the init nor the shuffle
    explicit, b = run(x, y, config({**optimizer, "lr": auto.lr}, epochs=5, **overrides))
    assert a.train == b.train and auto.params == explicit.params
    # and it is a useful rate: the cost went down
    assert a.train["loss"][-1] < a.train["loss"][0]


def test_the_range_test_ticks_and_can_be_cancelled() -> None:
    class CancelAtOnce(ListReporter):
        def tick(self) -> bool:
            super().tick()
            return True

    x, y = linear_data(64, [1.0, -1.0], 0.5, noise=0.2)
    reporter = CancelAtOnce()
    with pytest.raises(Exception, match="while choosing the learning rate") as caught:
        train(x, y, config({"type": "adam", "lr": "auto"}), reporter)
    assert caught.value.kind == "cancelled" and reporter.plans == [] and reporter.ticks == 1


def test_exhaustive_reports_no_learning_rate() -> None:
    grid = {"w": [{"min": 0, "max": 4, "steps": 41}], "b": None}
    out, reporter = run(X, Y, config({"type": "exhaustive", "grid": grid, "lr": "auto"}, **NO_BIAS))
    assert out.lr is None and reporter.plans[0]["lr"] is None


def test_the_range_test_is_not_fooled_by_single_sample_noise() -> None:
    # sgd's one-row batch losses are noise; the test measures a fixed sample of rows instead
    x, y = _diabetes()
    out, reporter = run(x, y, config({"type": "sgd", "lr": "auto"}, model={"type": "mlp"}, epochs=1))
    assert 1e-3 <= out.lr <= 0.1
    assert np.mean(reporter.train["loss"][-100:]) < 0.7 * np.mean(reporter.train["loss"][:50])


def test_a_range_test_that_never_turns_up_takes_the_steepest_descent() -> None:
    # one row: the network fits it exactly, the loss sits at 0 to the end of the range, and
    # "minimum / 10" would say 1.0 — too large from a fresh start
    x, y = np.array([[3.0]], dtype=np.float32), np.array([1.0], dtype=np.float32)
    out, _ = run(x, y, config({"type": "minibatch", "lr": "auto"}, model={"type": "mlp"}, epochs=20))
    assert out.lr < 0.1
    assert out.train_loss < 0.05
