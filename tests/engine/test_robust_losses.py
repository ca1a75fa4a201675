"""mae and huber: every reported cost is the loss in original units of the parameters at that point."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.support.engine import config, linear_data, run


def _loss(name: str, x: np.ndarray, y: np.ndarray, params: dict) -> float:
    """What a client computes from reported params and raw data, float64, with torch's formulas."""
    pred = torch.from_numpy(x.astype(np.float64) @ np.array(params["weights"]) + params["bias"])
    target = torch.from_numpy(y.astype(np.float64))
    if name == "mae":
        return float(F.l1_loss(pred, target))
    return float(F.huber_loss(pred, target, delta=1.0))


def _data() -> tuple[np.ndarray, np.ndarray]:
    # a target spread of about 5 original units, with outliers: huber's two branches both matter
    x, y = linear_data(30, [2.0, -1.0], 3.0, noise=0.5, seed=2)
    y[::7] += 8.0
    return x, y


@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("loss", ["mae", "huber"])
def test_history_costs_are_original_units_losses_of_the_params_then(loss: str, standardize: bool) -> None:
    x, y = _data()
    common = {"loss": loss, "standardize": standardize, "tolerance": 0.0}
    optimizer = {"type": "gd", "lr": 0.1}
    _, long = run(x, y, config(optimizer, epochs=5, **common))
    for k in range(1, 5):
        # gd's point k + 1 is the cost before update k + 1: of the parameters after k updates
        after_k, _ = run(x, y, config(optimizer, epochs=k, **common))
        assert long.train["loss"][k] == pytest.approx(_loss(loss, x, y, after_k.params), rel=2e-6)
        assert long.epochs[k]["metrics"]["train_loss"] == long.train["loss"][k]
        # the final numbers: the float64 loss of the reported params on the raw data
        assert after_k.train_loss == pytest.approx(_loss(loss, x, y, after_k.params), rel=1e-12)


def test_huber_delta_is_in_original_units_so_standardizing_finds_the_same_fit() -> None:
    x, y = _data()
    fits = {}
    for standardize in (True, False):
        lr = 0.5 if standardize else 0.05
        cfg = config(
            {"type": "gd", "lr": lr}, loss="huber", epochs=4000, tolerance=0.0, standardize=standardize
        )
        fits[standardize], _ = run(x, y, cfg)
    on, off = fits[True], fits[False]
    np.testing.assert_allclose(on.params["weights"], off.params["weights"], atol=2e-3)
    assert on.params["bias"] == pytest.approx(off.params["bias"], abs=2e-3)
    assert on.train_loss == pytest.approx(off.train_loss, rel=1e-5)
    # and it is a different fit from mse's: the outliers pull less
    mse, _ = run(x, y, config({"type": "gd", "lr": 0.1}, epochs=2000, tolerance=0.0))
    assert abs(mse.params["bias"] - on.params["bias"]) > 0.1
    assert _loss("huber", x, y, on.params) < _loss("huber", x, y, mse.params)
