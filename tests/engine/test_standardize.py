"""Standardization is a training-space detail: results are the same in original units."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.engine import config, least_squares, linear_data, run


def test_on_and_off_reach_the_same_optimum_in_original_units() -> None:
    x, y = linear_data(200, [1.5, -0.7], 0.8, noise=0.3)
    weights, bias, best = least_squares(x, y)
    results = {}
    for standardize in (True, False):
        cfg = config({"type": "gd", "lr": 0.1}, epochs=3000, tolerance=0.0, standardize=standardize)
        results[standardize], _ = run(x, y, cfg)

    for out in results.values():
        np.testing.assert_allclose(out.params["weights"], weights, atol=1e-4)
        assert out.params["bias"] == pytest.approx(bias, abs=1e-4)
        assert out.train_loss == pytest.approx(best, rel=1e-6)
    on, off = results[True], results[False]
    np.testing.assert_allclose(on.params["weights"], off.params["weights"], atol=2e-4)


def test_without_bias_standardizing_keeps_the_model_through_the_origin() -> None:
    # y has a large offset the model cannot fit; centering would smuggle in an intercept
    x, y = linear_data(100, [2.0], 5.0, noise=0.1)
    a = x.astype(np.float64)
    w_best = np.linalg.lstsq(a, y.astype(np.float64), rcond=None)[0]
    for standardize in (True, False):
        cfg = config(
            {"type": "gd", "lr": 0.1},
            epochs=2000,
            tolerance=0.0,
            standardize=standardize,
            model={"type": "linear", "bias": False},
        )
        out, _ = run(x, y, cfg)
        assert out.params["bias"] == 0.0
        assert out.params["weights"][0] == pytest.approx(w_best[0], rel=1e-5)


@pytest.mark.parametrize("standardize", [True, False])
def test_history_losses_are_in_original_units(standardize: bool) -> None:
    # the first update's cost is measured at zero parameters in training space: with
    # standardization that predicts mean(y) (cost var(y)), without it predicts 0 (cost mean(y²))
    x, y = linear_data(50, [3.0, 1.0], 10.0, noise=1.0)
    _, reporter = run(x, y, config({"type": "gd", "lr": 0.01}, epochs=3, standardize=standardize))

    y64 = y.astype(np.float64)
    expected = np.var(y64) if standardize else np.mean(y64**2)
    assert reporter.train["loss"][0] == pytest.approx(expected, rel=1e-5)
