"""Epoch orders drawn ahead on a thread (worker/engine/shuffle.py) are the orders a plain draw gives,
in the same sequence, and a checkpoint's generator state is the one before the next draw."""

from __future__ import annotations

import numpy as np
import torch

from tests.support.engine import config, linear_data, run
from worker.engine.data import SHUFFLE_STREAM, generator
from worker.engine.shuffle import AHEAD_FROM, Shuffler, draws_ahead

ROWS, BATCH, EPOCHS, SEED, LR = 270_000, 67_500, 3, 7, 0.05


def test_orders_drawn_ahead_are_the_plain_draws_in_sequence() -> None:
    plain = generator(SEED, SHUFFLE_STREAM)
    ahead = Shuffler(generator(SEED, SHUFFLE_STREAM), 100, ahead=True)
    assert ahead.ahead
    for epoch in range(5):
        if epoch % 2:  # some orders drawn ahead, some not
            ahead.draw_ahead()
        before = plain.get_state()
        order, state = ahead.draw()
        assert torch.equal(state, before)
        assert torch.equal(order, torch.randperm(100, generator=plain))


def test_the_state_before_a_pending_draw_is_the_state_a_checkpoint_keeps() -> None:
    shuffler = Shuffler(generator(SEED, SHUFFLE_STREAM), 100, ahead=True)
    first, _ = shuffler.draw()
    before = shuffler.get_state()
    shuffler.draw_ahead()
    assert torch.equal(shuffler.get_state(), before)  # not the state after the draw in flight
    second, _ = shuffler.draw()
    restarted = Shuffler(generator(0, SHUFFLE_STREAM), 100, ahead=True)
    restarted.draw_ahead()
    restarted.set_state(before)  # drops the draw in flight, draws from the given state
    again, state = restarted.draw()
    assert torch.equal(again, second) and torch.equal(state, before)
    assert not torch.equal(first, second)


def test_only_a_large_single_threaded_run_draws_ahead() -> None:
    assert draws_ahead(AHEAD_FROM, 1)
    assert not draws_ahead(AHEAD_FROM - 1, 1)
    assert not draws_ahead(AHEAD_FROM, None) and not draws_ahead(AHEAD_FROM, 2)


def test_an_order_drawn_in_line_is_the_plain_draw() -> None:
    plain = generator(SEED, SHUFFLE_STREAM)
    shuffler = Shuffler(generator(SEED, SHUFFLE_STREAM), 100, ahead=False)
    shuffler.draw_ahead()  # not ahead: nothing is drawn until draw()
    assert torch.equal(shuffler.get_state(), plain.get_state())
    assert torch.equal(shuffler.draw()[0], torch.randperm(100, generator=plain))


def test_a_run_large_enough_to_draw_ahead_visits_the_plain_orders() -> None:
    """Minibatch over 270k rows (drawn ahead) against its update written out in float64 numpy over
    the orders of plain draws: a different order would move the parameters by ~1e-3."""
    assert ROWS >= AHEAD_FROM
    x, y = linear_data(ROWS, [1.0, -2.0, 0.5], 0.5, noise=0.3)
    optimizer = {"type": "minibatch", "lr": LR, "batch_size": BATCH}
    cfg = config(optimizer, epochs=EPOCHS, tolerance=0.0, standardize=False, seed=SEED)
    out, _ = run(x, y, cfg)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    theta = np.zeros(x.shape[1] + 1)
    shuffler = generator(SEED, SHUFFLE_STREAM)
    for _ in range(EPOCHS):
        order = torch.randperm(ROWS, generator=shuffler).numpy()
        for start in range(0, ROWS, BATCH):
            idx = order[start : start + BATCH]
            residual = x64[idx] @ theta[:-1] + theta[-1] - y64[idx]
            theta -= LR * np.r_[2 / idx.size * x64[idx].T @ residual, 2 / idx.size * residual.sum()]
    np.testing.assert_allclose(np.r_[out.params["weights"], out.params["bias"]], theta, rtol=1e-5, atol=1e-6)
