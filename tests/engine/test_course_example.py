"""The course's worked example: x = 1, 2, 3 and y = 2, 4, 6 with ŷ = w·x."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.engine import config, run
from worker.engine import Diverged, ListReporter, train

X = np.array([[1.0], [2.0], [3.0]], dtype=np.float32)
Y = np.array([2.0, 4.0, 6.0], dtype=np.float32)
NO_BIAS = {"model": {"type": "linear", "bias": False}, "standardize": False, "tolerance": 0.0}


def test_exhaustive_finds_w_2_and_cost_56_over_3_at_w_0() -> None:
    grid = {"w": [{"min": 0, "max": 4, "steps": 41}], "b": None}
    out, reporter = run(X, Y, config({"type": "exhaustive", "grid": grid}, **NO_BIAS))

    assert out.outcome == "searched"
    assert out.params == {"weights": [2.0], "bias": 0.0}
    assert out.train_loss == 0.0
    axis = out.surface["axes"]["w"]
    assert list(out.surface["axes"]) == ["w"]
    assert axis == [i * 4 / 40 for i in range(41)]
    assert out.surface["cost"].shape == (41,)
    assert out.surface["cost"][0] == pytest.approx(56 / 3, rel=1e-12)
    # every grid point's cost against the course's formula (1/N)·Σ(w·x − y)²
    expected = [np.mean((w * np.array([1.0, 2.0, 3.0]) - np.array([2.0, 4.0, 6.0])) ** 2) for w in axis]
    np.testing.assert_allclose(out.surface["cost"], expected, rtol=1e-12, atol=1e-12)
    assert out.epochs_run == 0 and out.steps == 41
    assert reporter.searched[-1] == (41, 41)


def test_gradient_descent_reaches_w_2() -> None:
    out, reporter = run(X, Y, config({"type": "gd", "lr": 0.01}, epochs=100, **NO_BIAS))

    assert out.outcome == "max_epochs"
    assert abs(out.params["weights"][0] - 2.0) < 1e-3
    assert out.params["bias"] == 0.0
    assert reporter.train["loss"][0] == pytest.approx(56 / 3, rel=1e-6)  # cost at w = 0
    assert out.steps == 100 and len(reporter.train["step"]) == 100


def test_too_large_a_learning_rate_diverges_naming_the_epoch() -> None:
    # w ← w − 2·lr·(14/3·w − 28/3): with lr 1 the error grows ×8.33 per epoch, the cost ×69.4,
    # so epoch 4 is the first whose cost is over 10^4 times epoch 1's (69.4³ > 10^4 > 69.4²).
    with pytest.raises(Diverged) as caught:
        run(X, Y, config({"type": "gd", "lr": 1.0}, epochs=100, **NO_BIAS))

    err = caught.value
    assert err.kind == "diverged"
    assert err.epoch == 4
    assert "epoch 4" in str(err)
    assert "10^4" in str(err)
    assert "learning rate 1.0" in str(err) and "0.1" in str(err)


def test_a_nan_or_infinite_cost_diverges_at_once_with_the_history_so_far() -> None:
    # lr 1e30 sends w to ~1e31 after the first update; the next cost overflows float32
    reporter = ListReporter()
    with pytest.raises(Diverged) as caught:
        train(X, Y, config({"type": "gd", "lr": 1e30}, epochs=100, **NO_BIAS), reporter)

    assert caught.value.epoch == 2 and caught.value.step == 2
    assert "epoch 2" in str(caught.value) and "NaN or infinite" in str(caught.value)
    # the one finite cost was reported; the non-finite one never reaches the history
    assert reporter.train["step"] == [1]
    assert reporter.train["loss"] == [pytest.approx(56 / 3, rel=1e-6)]
