"""MLPs: the identity collapse, a nonlinear fit, parameter shapes, init, early stopping, seeds."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_diabetes
from torch import nn

from descent.predict import forward
from tests.support.engine import config, least_squares, run
from worker.engine.data import INIT_STREAM, generator
from worker.engine.models import MLP

IDENTITY_SETTINGS = {"optimizer": {"type": "gd", "lr": 0.05}, "epochs": 2000, "hidden": [16]}
"""Diabetes, standardize true, tolerance 0, seed 0: full-batch gd for both models."""
SINE_SETTINGS = {
    "optimizer": {"type": "adam", "lr": 0.01, "batch_size": 32},
    "epochs": 100,
    "hidden": [16],
    "rows": 300,
}
"""y = sin(3x), x uniform in [−2, 2] (numpy seed 0), standardize true, tolerance 0, seed 0:
the tanh MLP ends near 5 % of the best linear cost (seeds 0–2), the test allows 20 %."""


def _mlp(hidden: list[int], activation: str) -> dict:
    return {"type": "mlp", "hidden": hidden, "activation": activation}


def test_an_identity_mlp_is_a_linear_model() -> None:
    x, y = load_diabetes(return_X_y=True)
    x, y = np.ascontiguousarray(x, dtype=np.float32), y.astype(np.float32)
    common = {"epochs": IDENTITY_SETTINGS["epochs"], "tolerance": 0.0}
    linear, _ = run(x, y, config(IDENTITY_SETTINGS["optimizer"], **common))
    mlp, _ = run(
        x,
        y,
        config(IDENTITY_SETTINGS["optimizer"], model=_mlp(IDENTITY_SETTINGS["hidden"], "identity"), **common),
    )

    assert mlp.train_loss <= 1.05 * linear.train_loss
    _, _, best = least_squares(x, y)
    assert mlp.train_loss >= best * (1 - 1e-9)  # it cannot beat least squares: it is linear
    # W₂(W₁x + b₁) + b₂ collapses into one linear map; fold it and compare with the outputs
    (w1, b1), (w2, b2) = ((np.array(p["weight"]), np.array(p["bias"])) for p in mlp.params)
    collapsed = {"weights": (w2 @ w1)[0], "bias": float((w2 @ b1 + b2)[0])}
    np.testing.assert_allclose(
        forward(collapsed, {"type": "linear"}, x), forward(mlp.params, _mlp([16], "identity"), x), rtol=1e-9
    )


def test_a_tanh_mlp_fits_a_sine_the_linear_model_cannot() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-2.0, 2.0, size=(SINE_SETTINGS["rows"], 1)).astype(np.float32)
    y = np.sin(3.0 * x[:, 0]).astype(np.float32)
    _, _, linear_best = least_squares(x, y)
    out, _ = run(
        x,
        y,
        config(
            SINE_SETTINGS["optimizer"],
            model=_mlp(SINE_SETTINGS["hidden"], "tanh"),
            epochs=SINE_SETTINGS["epochs"],
            tolerance=0.0,
        ),
    )
    assert out.train_loss <= 0.2 * linear_best
    assert out.r2 > 0.8


def test_params_are_layers_in_nn_linear_convention() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 3)).astype(np.float32)
    y = (x @ [1.0, -2.0, 0.5]).astype(np.float32)
    out, _ = run(x, y, config({"type": "adam", "lr": 0.01}, model=_mlp([5, 4], "relu"), epochs=2))
    shapes = [(np.shape(p["weight"]), np.shape(p["bias"])) for p in out.params]
    assert shapes == [((5, 3), (5,)), ((4, 5), (4,)), ((1, 4), (1,))]
    assert all(type(v) is float for p in out.params for row in p["weight"] for v in row)
    result = out.to_result()
    assert result["params"] == out.params and result["r2"] is not None and result["accuracy"] is None


def test_init_is_pytorchs_default_drawn_from_the_seeded_stream() -> None:
    model = MLP(3, (5,), "relu", 2, multiclass=True, regression=False, generator=generator(7, INIT_STREAM))
    again = MLP(3, (5,), "relu", 2, multiclass=True, regression=False, generator=generator(7, INIT_STREAM))
    other = MLP(3, (5,), "relu", 2, multiclass=True, regression=False, generator=generator(8, INIT_STREAM))
    layers = [m for m in model.net if isinstance(m, nn.Linear)]
    for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert not torch.equal(model.net[0].weight, other.net[0].weight)
    # nn.Linear's default: weights and biases uniform in ±1/√fan_in (kaiming_uniform_, a = √5)
    for lin in layers:
        bound = 1 / math.sqrt(lin.in_features)
        assert lin.weight.abs().max() <= bound and lin.bias.abs().max() <= bound
    # bit for bit what nn.Linear.reset_parameters draws from a generator in the same state
    reference = torch.Generator().manual_seed(generator(7, INIT_STREAM).initial_seed())
    w = torch.empty(5, 3)
    nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=reference)
    assert torch.equal(w, layers[0].weight)


def test_early_stopping_restores_the_best_mlp() -> None:
    # few training rows and a wide network: the dev loss falls, then rises
    rng = np.random.default_rng(0)
    x = rng.standard_normal((80, 8)).astype(np.float32)
    y = (x[:, 0] + 0.5 * rng.standard_normal(80)).astype(np.float32)
    optimizer = {"type": "adam", "lr": 0.01, "batch_size": 8}
    common = {"model": _mlp([64], "relu"), "split": {"dev": 0.5, "test": 0.0}, "tolerance": 0.0, "seed": 3}
    out, reporter = run(x, y, config(optimizer, epochs=300, early_stopping={"patience": 5}, **common))

    dev = reporter.dev["loss"]
    best_epoch = 1 + dev.index(min(dev))
    assert out.outcome == "early_stopped"
    assert out.epochs_run == best_epoch + 5 < 300
    assert out.dev_loss == out.metrics["best_dev_loss"] == min(dev)
    at_best, _ = run(x, y, config(optimizer, epochs=best_epoch, **common))
    assert out.params == at_best.params
    assert out.train_loss == at_best.train_loss


def test_mlp_with_adam_is_reproducible_and_the_seed_matters() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((60, 3)).astype(np.float32)
    y = np.tanh(x @ [1.0, -1.0, 0.5]).astype(np.float32)
    cfg = config(
        {"type": "adam", "lr": 0.01, "batch_size": 16},
        model=_mlp([8, 8], "sigmoid"),
        epochs=5,
        split={"dev": 0.2, "test": 0.1},
        seed=11,
    )
    first, a = run(x, y, cfg)
    second, b = run(x, y, cfg)
    assert a.train == b.train and a.dev == b.dev and a.epochs == b.epochs
    assert first.params == second.params
    assert first.to_result() | {"seconds": 0} == second.to_result() | {"seconds": 0}

    other, _ = run(
        x,
        y,
        config(
            {"type": "adam", "lr": 0.01, "batch_size": 16}, model=_mlp([8, 8], "sigmoid"), epochs=5, seed=12
        ),
    )
    assert other.params != first.params


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "identity"])
def test_every_activation_trains_and_reports_finite_numbers(activation: str) -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((30, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1]).astype(np.float32)
    out, reporter = run(x, y, config({"type": "momentum", "lr": 0.01}, model=_mlp([4], activation), epochs=3))
    assert np.isfinite(out.train_loss) and len(reporter.train["loss"]) == 3
