"""Same config and data → the same history and parameters, bit for bit; the seed matters."""

from __future__ import annotations

from tests.support.engine import config, linear_data, run


def test_same_config_twice_is_identical() -> None:
    x, y = linear_data(60, [1.0, 2.0, -1.0], 0.3, noise=0.5)
    cfg = config({"type": "sgd", "lr": 0.01}, epochs=4, split={"dev": 0.25, "test": 0.1}, seed=7)
    first, a = run(x, y, cfg)
    second, b = run(x, y, cfg)

    assert a.train == b.train
    assert a.dev == b.dev
    assert a.epochs == b.epochs
    assert first.params == second.params
    assert first.to_result() | {"seconds": 0} == second.to_result() | {"seconds": 0}


def test_a_different_seed_gives_a_different_sgd_history() -> None:
    x, y = linear_data(60, [1.0, 2.0, -1.0], 0.3, noise=0.5)
    _, a = run(x, y, config({"type": "sgd", "lr": 0.01}, epochs=2, seed=0))
    _, b = run(x, y, config({"type": "sgd", "lr": 0.01}, epochs=2, seed=1))
    # no split: the same rows, only the order in which sgd visits them differs
    assert a.train["step"] == b.train["step"]
    assert a.train["loss"] != b.train["loss"]
