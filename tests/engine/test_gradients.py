"""One update against the analytic MSE gradient and against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.engine import config, linear_data, raw_mse, run


def test_one_gd_step_from_zero_is_lr_times_the_analytic_gradient() -> None:
    x, y = linear_data(30, [1.0, -2.0, 0.5], 0.7, noise=0.2)
    lr = 0.05
    out, _ = run(x, y, config({"type": "gd", "lr": lr}, epochs=1, standardize=False))

    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    residual = x64 @ np.zeros(3) + 0.0 - y64  # Xw + b − y at w = 0, b = 0
    grad_w = 2 / len(y) * x64.T @ residual
    grad_b = 2 / len(y) * residual.sum()
    np.testing.assert_allclose(out.params["weights"], -lr * grad_w, rtol=1e-5)
    assert out.params["bias"] == pytest.approx(-lr * grad_b, rel=1e-5)


def test_one_gd_step_matches_central_finite_differences() -> None:
    x, y = linear_data(30, [1.0, -2.0], 0.7, noise=0.2)
    lr = 0.05
    out, _ = run(x, y, config({"type": "gd", "lr": lr}, epochs=1, standardize=False))

    def cost(theta: np.ndarray) -> float:
        return raw_mse(x, y, {"weights": theta[:-1], "bias": theta[-1]})

    h = 1e-6
    grad = np.array([(cost(h * e) - cost(-h * e)) / (2 * h) for e in np.eye(3)])
    stepped = np.array([*out.params["weights"], out.params["bias"]])
    np.testing.assert_allclose(stepped, -lr * grad, rtol=1e-5)


def test_one_standardized_step_maps_back_to_original_units() -> None:
    # the step is taken on z-scored data; the reported params are that step mapped back
    x, y = linear_data(30, [1.0, -2.0], 0.7, noise=0.2)
    lr = 0.05
    out, _ = run(x, y, config({"type": "gd", "lr": lr}, epochs=1, standardize=True))

    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    mx, sx, my, sy = x64.mean(0), x64.std(0), y64.mean(), y64.std()
    xs, ys = (x64 - mx) / sx, (y64 - my) / sy
    w_std = -lr * 2 / len(y) * xs.T @ (-ys)
    b_std = -lr * 2 / len(y) * (-ys).sum()
    weights = w_std * sy / sx
    bias = my + sy * b_std - weights @ mx
    np.testing.assert_allclose(out.params["weights"], weights, rtol=1e-5)
    assert out.params["bias"] == pytest.approx(bias, rel=1e-5)
