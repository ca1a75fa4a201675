"""Exhaustive search against brute force over the same grid: numpy broadcasting for mse, and each
other loss's `measure` (losses.py) at every grid point, float64."""

from __future__ import annotations

import numpy as np
import pytest

from descent.spec import Split
from tests.support.engine import config, linear_data, raw_mse, run
from worker.engine import Cancelled, InvalidData, ListReporter, TimedOut, train
from worker.engine.data import split_indices
from worker.engine.losses import LOSSES
from worker.engine.search import SEARCH_CHUNK_POINTS, SEARCH_CHUNK_VALUES, chunk_points


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

    train_idx, dev_idx, test_idx = split_indices(100, Split(**split), 3)
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


# -- mae, huber and bce: the surface is the loss's `measure` at every grid point ------------------------

ROBUST = ["mae", "huber", "bce"]


def _brute(loss: str, x: np.ndarray, y: np.ndarray, axes: dict[str, list[float]]) -> np.ndarray:
    """LOSSES[loss].measure of the raw outputs x·w + b (float64) at every grid point, in C order."""
    measure = LOSSES[loss].measure
    names = list(axes)
    d = x.shape[1]
    x64 = x.astype(np.float64)
    cost = np.empty([len(axes[n]) for n in names])
    for index in np.ndindex(cost.shape):
        point = [axes[n][i] for n, i in zip(names, index, strict=True)]
        w, b = np.array(point[:d]), (point[d] if "b" in axes else 0.0)
        cost[index] = measure(x64 @ w + b, y)
    return cost


def _data(
    loss: str, rows: int, weights: list[float], bias: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    x, y = linear_data(rows, weights, bias, noise=0.8, seed=seed)
    if loss == "bce":
        return x, (y + np.random.default_rng(seed).logistic(size=rows) > bias).astype(np.float32)
    return x, y


def _check(loss: str, x: np.ndarray, y: np.ndarray, out, rtol: float = 1e-9) -> np.ndarray:
    """The surface against brute force, the argmin (first lowest), and train_loss = measure(params)."""
    brute = _brute(loss, x, y, out.surface["axes"])
    assert out.surface["cost"].shape == brute.shape and out.surface["cost"].dtype == np.float64
    np.testing.assert_allclose(out.surface["cost"], brute, rtol=rtol, atol=0)
    best = np.unravel_index(np.argmin(out.surface["cost"]), brute.shape)
    assert brute[best] <= brute.min() * (1 + rtol)
    axes = list(out.surface["axes"].values())
    point = [axes[k][i] for k, i in enumerate(best)]
    d = x.shape[1]
    assert out.params == {"weights": point[:d], "bias": point[d] if len(point) > d else 0.0}
    pred = x.astype(np.float64) @ np.array(out.params["weights"]) + out.params["bias"]
    assert out.train_loss == pytest.approx(LOSSES[loss].measure(pred, y), rel=1e-12)
    assert out.train_loss == pytest.approx(out.surface["cost"][best], rel=rtol)
    assert out.outcome == "searched" and out.lr is None
    return brute


@pytest.mark.parametrize("loss", ROBUST)
def test_w_and_b_grid_is_the_measure_at_every_point(loss: str) -> None:
    x, y = _data(loss, 500, [1.3], -0.4)
    grid = {"w": {"min": -1, "max": 4, "steps": 51}, "b": {"min": -3, "max": 2, "steps": 41}}
    out, reporter = run(x, y, config({"type": "exhaustive", "grid": grid}, loss=loss))
    _check(loss, x, y, out)
    assert out.surface["axes"] == {"w": list(_axis(-1, 4, 51)), "b": list(_axis(-3, 2, 41))}
    assert reporter.plans[0]["total_steps"] == 51 * 41 and reporter.searched == [(2091, 2091)]
    if loss != "bce":
        assert out.r2 is not None and out.accuracy is None
    else:
        assert out.accuracy is not None and out.r2 is None


@pytest.mark.parametrize("loss", ["mae", "huber"])
def test_far_from_zero_targets_keep_float64_accuracy(loss: str) -> None:
    # y ≈ 1000 + 2x: the histogram sums are taken around the mean residual, not around 0
    x, y = linear_data(400, [2.0], 1000.0, noise=0.7, seed=5)
    grid = {"w": {"min": 1, "max": 3, "steps": 21}, "b": {"min": 998, "max": 1002, "steps": 81}}
    out, _ = run(x, y, config({"type": "exhaustive", "grid": grid}, loss=loss))
    _check(loss, x, y, out)


@pytest.mark.parametrize("loss", ["mae", "huber"])
def test_outliers_and_a_bias_grid_far_from_the_data(loss: str) -> None:
    # residuals far outside the bias grid on both sides, and biases where no residual is near
    x, y = linear_data(300, [0.5], 0.0, noise=0.3, seed=2)
    y[:7] += np.float32(1e4)
    y[7:12] -= np.float32(3e3)
    grid = {"w": {"min": 0, "max": 1, "steps": 11}, "b": {"min": -50, "max": 80, "steps": 27}}
    out, _ = run(x, y, config({"type": "exhaustive", "grid": grid}, loss=loss))
    _check(loss, x, y, out)


@pytest.mark.parametrize("loss", ROBUST)
def test_several_features_with_a_bias_grid(loss: str) -> None:
    x, y = _data(loss, 300, [0.5, -1.0, 0.25], 0.3, seed=1)
    grid = {
        "w": [
            {"min": 0, "max": 1, "steps": 6},
            {"min": -2, "max": 0, "steps": 5},
            {"min": -1, "max": 1, "steps": 3},
        ],
        "b": {"min": -1, "max": 1, "steps": 9},
    }
    out, _ = run(x, y, config({"type": "exhaustive", "grid": grid}, loss=loss))
    assert list(out.surface["axes"]) == ["w0", "w1", "w2", "b"]
    _check(loss, x, y, out)


@pytest.mark.parametrize("loss", ROBUST)
@pytest.mark.parametrize("bias", [True, False])
def test_no_bias_on_the_grid_is_bias_0(loss: str, bias: bool) -> None:
    # without grid.b the bias is 0, whether or not the model has one
    x, y = _data(loss, 200, [0.5, -1.0], 0.0, seed=4)
    grid = {"w": [{"min": -2, "max": 2, "steps": 17}]}
    model = {"type": "linear", "bias": bias}
    out, _ = run(x, y, config({"type": "exhaustive", "grid": grid}, loss=loss, model=model))
    assert list(out.surface["axes"]) == ["w0", "w1"]
    _check(loss, x, y, out)


@pytest.mark.parametrize("loss", ["mae", "huber"])
def test_one_bias_value_and_a_degenerate_bias_range(loss: str) -> None:
    x, y = linear_data(100, [1.0], 0.5, noise=0.4, seed=3)
    for b in ({"min": 0.25, "max": 9, "steps": 1}, {"min": 0.5, "max": 0.5, "steps": 4}):
        grid = {"w": {"min": 0, "max": 2, "steps": 9}, "b": b}
        out, _ = run(x, y, config({"type": "exhaustive", "grid": grid}, loss=loss))
        _check(loss, x, y, out)


def test_huber_delta_is_in_original_units_whatever_standardize_says() -> None:
    # y spread over ±50: in standardized units δ = 1 would be a different loss
    x, y = linear_data(300, [20.0], 3.0, noise=4.0, seed=6)
    grid = {"w": {"min": 15, "max": 25, "steps": 21}, "b": {"min": -5, "max": 10, "steps": 31}}
    on, _ = run(x, y, config({"type": "exhaustive", "grid": grid}, loss="huber", standardize=True))
    off, _ = run(x, y, config({"type": "exhaustive", "grid": grid}, loss="huber", standardize=False))
    np.testing.assert_array_equal(on.surface["cost"], off.surface["cost"])
    _check("huber", x, y, on)


def test_mae_flat_bottom_goes_to_the_first_point_in_c_order() -> None:
    # all-zero features, targets 0 and 1: every w ties, and every b in [0, 1] costs exactly 0.5
    x = np.zeros((2, 1), dtype=np.float32)
    y = np.array([0.0, 1.0], dtype=np.float32)
    grid = {"w": {"min": -1, "max": 1, "steps": 5}, "b": {"min": -1, "max": 2, "steps": 13}}
    out, _ = run(x, y, config({"type": "exhaustive", "grid": grid}, loss="mae"))
    cost = out.surface["cost"]
    assert np.all(cost == cost[0])  # the same for every w, bit for bit
    b = np.array(out.surface["axes"]["b"])
    np.testing.assert_array_equal(cost[0][(b >= 0) & (b <= 1)], 0.5)
    assert cost[0].min() == 0.5
    assert out.params == {"weights": [-1.0], "bias": 0.0}
    _check("mae", x, y, out)


@pytest.mark.parametrize("loss", ["huber", "bce"])
def test_ties_over_w_go_to_the_first_w(loss: str) -> None:
    x = np.zeros((6, 1), dtype=np.float32)
    y = np.array([0, 1, 1, 0, 1, 1], dtype=np.float32)
    grid = {"w": {"min": -1, "max": 1, "steps": 5}, "b": {"min": -1, "max": 2, "steps": 7}}
    out, _ = run(x, y, config({"type": "exhaustive", "grid": grid}, loss=loss))
    assert np.all(out.surface["cost"] == out.surface["cost"][0])
    assert out.params["weights"] == [-1.0]
    _check(loss, x, y, out)


def test_bce_rejects_targets_other_than_0_and_1_before_searching() -> None:
    x, y = linear_data(20, [1.0], 0.0, noise=0.1)
    reporter = ListReporter()
    grid = {"w": {"min": 0, "max": 1, "steps": 3}, "b": {"min": 0, "max": 1, "steps": 3}}
    with pytest.raises(InvalidData, match="bce needs targets 0 or 1"):
        train(x, y, config({"type": "exhaustive", "grid": grid}, loss="bce"), reporter)
    assert reporter.plans == [] and reporter.searched == []


def test_chunk_points() -> None:
    rows = 10**5
    per_chunk = SEARCH_CHUNK_VALUES // rows
    assert chunk_points("mse", rows, 200) == 200 * (SEARCH_CHUNK_POINTS // 200)  # whole weight vectors
    assert chunk_points("mse", rows, None) == SEARCH_CHUNK_POINTS
    assert chunk_points("mae", rows, 200) == 200 * per_chunk  # whole weight vectors
    assert chunk_points("huber", 40, 300) == 300 * (SEARCH_CHUNK_POINTS // 300)
    assert chunk_points("bce", rows, 200) == per_chunk
    assert chunk_points("mae", rows, None) == per_chunk
    assert chunk_points("mae", 40, None) == SEARCH_CHUNK_POINTS
    assert chunk_points("bce", 10**8, 5) == 1


@pytest.mark.parametrize("loss", ["mae", "huber"])
def test_histogram_chunks_report_progress_and_cancel(loss: str) -> None:
    # 300 × 300 points on 40 rows: chunks of 218 whole weights (65,400 points), then the rest
    x, y = linear_data(40, [0.5], 0.2, noise=0.2)
    grid = {"w": {"min": -2, "max": 2, "steps": 300}, "b": {"min": -1, "max": 1, "steps": 300}}
    cfg = config({"type": "exhaustive", "grid": grid}, loss=loss)
    first = chunk_points(loss, 40, 300)
    assert first == 65_400
    out, reporter = run(x, y, cfg)
    assert reporter.searched == [(first, 90_000), (90_000, 90_000)]
    w, b = _axis(-2, 2, 300), _axis(-1, 1, 300)
    resid = w[:, None, None] * x[:, 0].astype(np.float64) + b[None, :, None] - y.astype(np.float64)
    a = np.abs(resid)
    per_sample = a if loss == "mae" else np.where(a <= 1.0, 0.5 * a * a, a - 0.5)
    np.testing.assert_allclose(out.surface["cost"], per_sample.mean(axis=-1), rtol=1e-9)

    cancelling = _CancelAfter(1)
    with pytest.raises(Cancelled):
        train(x, y, cfg, cancelling)
    assert cancelling.searched == [(first, 90_000)]


def test_broadcast_chunks_are_bounded_by_values_and_time_out_between_chunks() -> None:
    # 2,000 rows: SEARCH_CHUNK_VALUES // 2,000 = 4,194 points a chunk, well under SEARCH_CHUNK_POINTS
    x, y = _data("bce", 2000, [0.8, -0.5], 0.1, seed=7)
    grid = {"w": [{"min": -1, "max": 2, "steps": 100}]}
    cfg = config({"type": "exhaustive", "grid": grid}, loss="bce", model={"type": "linear", "bias": False})
    out, reporter = run(x, y, cfg)
    assert reporter.searched == [(4194, 10_000), (8388, 10_000), (10_000, 10_000)]
    w = _axis(-1, 2, 100)
    z = w[:, None, None] * x[:, 0].astype(np.float64) + w[None, :, None] * x[:, 1].astype(np.float64)
    y64 = y.astype(np.float64)
    brute = (np.maximum(z, 0) - z * y64 + np.log1p(np.exp(-np.abs(z)))).mean(axis=-1)
    np.testing.assert_allclose(out.surface["cost"], brute, rtol=1e-9)

    timed = ListReporter()
    with pytest.raises(TimedOut):
        train(x, y, config({"type": "exhaustive", "grid": grid}, loss="bce", max_runtime_seconds=1e-9), timed)
    assert timed.searched == [(4194, 10_000)]


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # the brute force's
@pytest.mark.parametrize("loss", ["mae", "huber"])
def test_overflowing_weights_cost_what_broadcasting_gives(loss: str) -> None:
    # w = 5e307 and 1e308 overflow the residuals' sum: those rows fall back to broadcasting (inf)
    x, y = linear_data(100, [1.0], 0.0, noise=0.3)
    grid = {"w": {"min": 0, "max": 1e308, "steps": 3}, "b": {"min": -1, "max": 1, "steps": 5}}
    out, _ = run(x, y, config({"type": "exhaustive", "grid": grid}, loss=loss))
    assert np.all(np.isinf(out.surface["cost"][1:]))
    brute = _check(loss, x, y, out)
    assert np.all(np.isinf(brute[1:]))


def test_mse_with_a_bias_grid_in_chunks_of_whole_weights_matches_broadcasting() -> None:
    # 400 w × 300 b = 120,000 points: chunks of 218 whole weights (65,400 points), then the rest
    x, y = linear_data(60, [0.7], 0.3, noise=0.4)
    grid = {"w": {"min": -1, "max": 2, "steps": 400}, "b": {"min": -1, "max": 1, "steps": 300}}
    out, reporter = run(x, y, config({"type": "exhaustive", "grid": grid}))
    w, b = _axis(-1, 2, 400), _axis(-1, 1, 300)
    x64, y64 = x[:, 0].astype(np.float64), y.astype(np.float64)
    brute = ((w[:, None, None] * x64 + b[None, :, None] - y64) ** 2).mean(axis=-1)
    np.testing.assert_allclose(out.surface["cost"], brute, rtol=1e-9)
    assert reporter.searched == [(65_400, 120_000), (120_000, 120_000)]
    i, j = np.unravel_index(np.argmin(out.surface["cost"]), brute.shape)
    assert out.params == {"weights": [w[i]], "bias": b[j]}
