"""Exhaustive search against brute-force numpy broadcasting over the same grid."""

from __future__ import annotations

import numpy as np
import pytest

from worker.engine import Cancelled, InvalidData, ListReporter, TimedOut, train
from worker.engine.config import SplitConfig
from worker.engine.data import split_indices
from worker.engine.search import SEARCH_CHUNK_POINTS

from .helpers import config, linear_data, raw_mse, run


def _axis(lo: float, hi: float, steps: int) -> np.ndarray:
    return np.array([lo + i * (hi - lo) / (steps - 1) for i in range(steps)])


def test_w_and_b_grid_matches_numpy_broadcasting() -> None:
    x, y = linear_data(500, [1.3], -0.4, noise=0.5)
    grid = {"w": [{"min": 0, "max": 4, "steps": 81}], "b": {"min": -2, "max": 2, "steps": 61}}
    out, reporter = run(x, y, config({"type": "exhaustive", "grid": grid}))

    w, b = _axis(0, 4, 81), _axis(-2, 2, 61)
    x64, y64 = x[:, 0].astype(np.float64), y.astype(np.float64)
    brute = ((w[:, None, None] * x64 + b[None, :, None] - y64) ** 2).mean(axis=-1)
    assert out.surface["axes"] == {"w": list(w), "b": list(b)}
    assert out.surface["cost"].shape == (81, 61) and out.surface["cost"].dtype == np.float64
    np.testing.assert_allclose(out.surface["cost"], brute, rtol=1e-9)
    i, j = np.unravel_index(np.argmin(brute), brute.shape)
    assert out.params == {"weights": [w[i]], "bias": b[j]}
    assert out.train_loss == pytest.approx(brute[i, j], rel=1e-9)
    assert out.train_loss == raw_mse(x, y, out.params)
    assert (out.outcome, out.epochs_run, out.steps, out.log_every) == ("searched", 0, 81 * 61, 1)
    assert reporter.plans == [
        {"epochs": 0, "steps_per_epoch": 0, "log_every": 1, "total_steps": 4941, "lr": None}
    ]
    assert reporter.train["step"] == [] and reporter.epochs == []


def test_grid_is_in_original_units_whatever_standardize_says() -> None:
    x, y = linear_data(100, [2.0], 1.0, noise=0.3)
    grid = {"w": {"min": 0, "max": 4, "steps": 21}, "b": {"min": 0, "max": 2, "steps": 11}}
    on, _ = run(x, y, config({"type": "exhaustive", "grid": grid}, standardize=True))
    off, _ = run(x, y, config({"type": "exhaustive", "grid": grid}, standardize=False))
    assert on.params == off.params
    np.testing.assert_array_equal(on.surface["cost"], off.surface["cost"])


def test_several_features_in_chunks_with_progress() -> None:
    # one shared range for both weights: 300 × 300 = 90,000 points, more than one chunk
    x, y = linear_data(40, [0.5, -1.0], 0.0, noise=0.2)
    grid = {"w": [{"min": -2, "max": 2, "steps": 300}]}
    out, reporter = run(
        x, y, config({"type": "exhaustive", "grid": grid}, model={"type": "linear", "bias": False})
    )

    assert SEARCH_CHUNK_POINTS < 90_000
    assert reporter.searched == [(SEARCH_CHUNK_POINTS, 90_000), (90_000, 90_000)]
    axis = _axis(-2, 2, 300)
    assert list(out.surface["axes"]) == ["w0", "w1"]
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    pred = axis[:, None, None] * x64[:, 0] + axis[None, :, None] * x64[:, 1]
    brute = ((pred - y64) ** 2).mean(axis=-1)
    np.testing.assert_allclose(out.surface["cost"], brute, rtol=1e-9)
    i, j = np.unravel_index(np.argmin(brute), brute.shape)
    assert out.params == {"weights": [axis[i], axis[j]], "bias": 0.0}


def test_one_range_per_feature() -> None:
    x, y = linear_data(40, [0.5, -1.0], 0.0, noise=0.2)
    grid = {"w": [{"min": 0, "max": 1, "steps": 11}, {"min": -3, "max": 0, "steps": 4}], "b": None}
    out, _ = run(x, y, config({"type": "exhaustive", "grid": grid}))
    assert out.surface["axes"] == {"w0": list(_axis(0, 1, 11)), "w1": [-3.0, -2.0, -1.0, 0.0]}
    assert out.surface["cost"].shape == (11, 4)
    assert out.params == {"weights": [0.5, -1.0], "bias": 0.0}


def test_ties_go_to_the_first_point_in_c_order() -> None:
    # all-zero features: every w gives the same cost
    x = np.zeros((5, 1), dtype=np.float32)
    y = np.ones(5, dtype=np.float32)
    grid = {"w": {"min": -1, "max": 1, "steps": 5}}
    out, _ = run(x, y, config({"type": "exhaustive", "grid": grid}))
    assert np.all(out.surface["cost"] == 1.0)
    assert out.params == {"weights": [-1.0], "bias": 0.0}


def test_steps_1_is_just_min() -> None:
    x, y = linear_data(10, [1.0], 0.0, noise=0.1)
    grid = {"w": {"min": 0.25, "max": 9, "steps": 1}, "b": {"min": -1, "max": 1, "steps": 3}}
    out, _ = run(x, y, config({"type": "exhaustive", "grid": grid}))
    assert out.surface["axes"] == {"w": [0.25], "b": [-1.0, 0.0, 1.0]}
    assert out.surface["cost"].shape == (1, 3)


def test_dev_and_test_losses_of_the_best_point() -> None:
    x, y = linear_data(100, [1.0], 0.5, noise=0.5)
    split = {"dev": 0.2, "test": 0.1}
    grid = {"w": {"min": 0, "max": 2, "steps": 41}, "b": {"min": -1, "max": 1, "steps": 41}}
    out, _ = run(x, y, config({"type": "exhaustive", "grid": grid}, split=split, seed=3))

    train_idx, dev_idx, test_idx = split_indices(100, SplitConfig(**split), 3)
    assert (len(train_idx), len(dev_idx), len(test_idx)) == (70, 20, 10)
    assert out.train_loss == raw_mse(x[train_idx], y[train_idx], out.params)
    assert out.dev_loss == raw_mse(x[dev_idx], y[dev_idx], out.params)
    assert out.test_loss == raw_mse(x[test_idx], y[test_idx], out.params)
    assert out.surface["cost"].min() == pytest.approx(out.train_loss, rel=1e-9)


def test_wrong_number_of_ranges_is_invalid_data() -> None:
    x, y = linear_data(10, [1.0, 2.0], 0.0, noise=0.1)
    grid = {"w": [{"min": 0, "max": 1, "steps": 2}] * 3}
    with pytest.raises(InvalidData) as caught:
        run(x, y, config({"type": "exhaustive", "grid": grid}))
    assert caught.value.kind == "invalid_data"
    assert "3 ranges" in str(caught.value) and "2 features" in str(caught.value)


class _CancelAfter(ListReporter):
    """Asks to stop on the k-th tick."""

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = k

    def tick(self) -> bool:
        super().tick()
        return self.ticks >= self.k


def test_cancel_between_chunks() -> None:
    x, y = linear_data(40, [0.5, -1.0], 0.0, noise=0.2)
    cfg = config({"type": "exhaustive", "grid": {"w": [{"min": -2, "max": 2, "steps": 300}]}})
    reporter = _CancelAfter(1)
    with pytest.raises(Cancelled) as caught:
        train(x, y, cfg, reporter)
    assert caught.value.kind == "cancelled"
    assert reporter.searched == [(SEARCH_CHUNK_POINTS, 90_000)]


def test_time_limit_between_chunks() -> None:
    x, y = linear_data(40, [0.5, -1.0], 0.0, noise=0.2)
    grid = {"w": [{"min": -2, "max": 2, "steps": 300}]}
    reporter = ListReporter()
    with pytest.raises(TimedOut) as caught:
        train(x, y, config({"type": "exhaustive", "grid": grid}, max_runtime_seconds=1e-9), reporter)
    assert caught.value.kind == "timeout"
    assert "max_runtime_seconds = 1e-09" in str(caught.value)
    assert reporter.searched == [(SEARCH_CHUNK_POINTS, 90_000)]
