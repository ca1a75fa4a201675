"""The compiled and dense paths resumed from their own checkpoints (also with batched ticks) give the
uninterrupted fast run bit for bit; batched ticks change nothing but the tick count, and a cancel
through them stops at a chunk."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from descent.spec import JobConfig
from tests.support.fast_paths import job as _job
from tests.support.fast_paths import numbers as _numbers
from worker.engine import ListReporter, Signal, Suspended, decode_checkpoint, train


@pytest.mark.parametrize("name", ["sgd_windows_dev", "minibatch", "gd"])
def test_batched_ticks_change_nothing_but_the_tick_count(name: str) -> None:
    _, x, y, cfg = _job(name)
    per_update = ListReporter()
    batched = ListReporter(batched_ticks=True)
    a = train(x, y, cfg, per_update, fast=True)
    b = train(x, y, cfg, batched, fast=True)
    assert (batched.train, batched.dev, batched.epochs) == (
        per_update.train,
        per_update.dev,
        per_update.epochs,
    )
    assert a.to_result() | {"seconds": 0} == b.to_result() | {"seconds": 0}
    assert per_update.ticks == a.steps
    assert batched.ticks <= per_update.ticks


def _resume_chain(x: np.ndarray, y: np.ndarray, cfg: JobConfig, at: list[int], batched: bool) -> tuple:
    """Suspend at tick `at[i]` of attempt i, resume from the checkpoint's bytes each time, keeping
    the history the worker would keep (cut back to each checkpoint's counts)."""
    train_hist: dict[str, list[Any]] = {"step": [], "epoch": [], "loss": [], "smoothed": [], "lr": []}
    dev_hist: dict[str, list[Any]] = {"step": [], "epoch": [], "loss": []}
    resume = None
    for tick in [*at, None]:
        reporter = ListReporter(signals={} if tick is None else {tick: Signal.SUSPEND}, batched_ticks=batched)
        try:
            out = train(x, y, cfg, reporter, resume=resume, fast=True)
        except Suspended:
            (saved,) = reporter.checkpoints
            for key in train_hist:
                train_hist[key] = (train_hist[key] + reporter.train[key])[: saved.train_points]
            for key in dev_hist:
                dev_hist[key] = (dev_hist[key] + reporter.dev[key])[: saved.dev_points]
            resume = decode_checkpoint(saved.data)
            continue
        assert tick is None, "the run ended before the tick meant to suspend it"
        for key in train_hist:
            train_hist[key] += reporter.train[key]
        for key in dev_hist:
            dev_hist[key] += reporter.dev[key]
        return out, train_hist, dev_hist
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("name", "at"),
    [
        ("gd", [7, 30]),
        ("sgd", [5, 333]),
        ("sgd_windows_dev", [250, 400]),
        ("minibatch", [3, 19, 40]),
        ("minibatch_big_batches", [2, 4]),
        ("minibatch_early_stopping", [30, 77]),
        ("linear_adam", [11, 50]),
        ("mlp_adam_relu", [9, 40]),
        ("mlp_momentum_tanh", [100]),
        ("minibatch_plateau_dev", [30, 77]),
        ("sgd_weight_decay_clip_step", [250, 400]),
        ("linear_adam_weight_decay_clip", [11, 50]),
        ("mlp_adam_clip_plateau", [9, 40]),
    ],
)
def test_a_fast_run_resumed_from_its_checkpoints_is_the_uninterrupted_fast_run(
    name: str, at: list[int]
) -> None:
    _, x, y, cfg = _job(name)
    full = ListReporter()
    ref = train(x, y, cfg, full, fast=True)
    out, train_hist, dev_hist = _resume_chain(x, y, cfg, at, batched=False)
    assert train_hist == full.train
    assert dev_hist == full.dev
    assert _numbers(out) == _numbers(ref)


@pytest.mark.parametrize(
    "name",
    [
        "sgd",
        "sgd_windows_dev",
        "minibatch",
        "minibatch_early_stopping",
        "sgd_exponential",
        "minibatch_plateau_dev",
    ],
)
def test_a_batched_run_resumed_from_its_checkpoints_is_the_uninterrupted_run(name: str) -> None:
    # with batched ticks a checkpoint falls after a chunk of updates: wherever that is, the resumed
    # run continues it exactly
    _, x, y, cfg = _job(name)
    full = ListReporter()
    ref = train(x, y, cfg, full, fast=True)
    out, train_hist, dev_hist = _resume_chain(x, y, cfg, [2, 3, 2], batched=True)
    assert train_hist == full.train
    assert dev_hist == full.dev
    assert _numbers(out) == _numbers(ref)


def test_cancel_through_batched_ticks_stops_at_a_chunk() -> None:
    _, x, y, cfg = _job("sgd")
    reporter = ListReporter(signals={3: Signal.CANCEL}, batched_ticks=True)
    with pytest.raises(Exception, match="cancelled"):
        train(x, y, cfg, reporter, fast=True)
    assert reporter.ticks == 3
