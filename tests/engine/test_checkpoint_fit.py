"""A checkpoint resumes only the job it was taken from (worker/engine/resume.py), and the time limit
counts the training seconds of every attempt."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from descent.spec import JobConfig
from tests.support.engine import config, linear_data
from worker.engine import (
    ListReporter,
    RunState,
    Signal,
    Suspended,
    TimedOut,
    TrainOutput,
    decode_checkpoint,
    encode_checkpoint,
    train,
)

DATA = linear_data(50, [1.0, -1.0, 0.5], 0.2, noise=0.4)
ADAM = config(
    {"type": "adam", "lr": 0.05, "batch_size": 8},
    epochs=8,
    tolerance=0.0,
    split={"dev": 0.2, "test": 0.1},
    max_history_points=20,
)
MINIBATCH = config(
    {"type": "minibatch", "lr": 0.05, "batch_size": 8}, epochs=8, tolerance=0.0, max_history_points=20
)


def _sine(rows: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = linear_data(rows, [1.0, -1.0], 0.5, noise=0.2)
    return x, np.tanh(y).astype(np.float32)


def _suspended(data: tuple[np.ndarray, np.ndarray], cfg: JobConfig, tick: int) -> RunState:
    """The state a run saves when suspended at `tick`, decoded from its bytes."""
    reporter = ListReporter(signals={tick: Signal.SUSPEND})
    with pytest.raises(Suspended):
        train(*data, cfg, reporter)
    (saved,) = reporter.checkpoints
    return decode_checkpoint(saved.data)


def _numbers(out: TrainOutput) -> dict[str, Any]:
    """Everything a run returns but the wall-clock seconds."""
    return out.to_result() | {"seconds": None, "metrics": out.metrics, "lr": out.lr, "params": out.params}


@pytest.fixture(scope="module")
def adam_state() -> RunState:
    """An adam checkpoint (optimizer state, dev tracker) taken mid-epoch."""
    return _suspended(DATA, ADAM, 9)


def _other(cfg: JobConfig, **changes: Any) -> JobConfig:
    """`cfg` with the values at some dotted paths (`optimizer__lr` for optimizer.lr) changed: the
    config of another job, read as the worker reads a stored one."""
    raw = cfg.model_dump(mode="json")
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = raw
        for part in parents:
            node = node[part]
        node[last] = value
    return JobConfig.model_validate(raw)


@pytest.mark.parametrize(
    "job",
    [
        "more features",
        "other rows",
        "other values",
        "other optimizer",
        "other batch size",
        "other model",
        "other hidden",
        "other epochs",
        "other lr",
        "no dev split",
    ],
)
def test_train_rejects_a_checkpoint_of_another_job(adam_state: RunState, job: str) -> None:
    (x, y), cfg, state = DATA, ADAM, adam_state
    opt = cfg.optimizer
    if job == "more features":
        x = np.c_[x, x[:, :1]]
    elif job == "other rows":
        x, y = x[:-5], y[:-5]
    elif job == "other values":
        y = y + np.float32(1.0)
    elif job == "other optimizer":
        cfg = _other(cfg, optimizer={"type": "momentum", "lr": opt.lr, "batch_size": opt.batch_size})
    elif job == "other batch size":
        cfg = _other(cfg, optimizer__batch_size=16)
    elif job == "other model":
        cfg = _other(cfg, model={"type": "mlp", "hidden": [4], "activation": "relu"})
    elif job == "other hidden":
        # an MLP checkpoint against the same MLP with other widths
        mlp = config(
            {"type": "adam", "lr": 0.01, "batch_size": 16},
            model={"type": "mlp", "hidden": [8, 4], "activation": "tanh"},
            epochs=10,
            tolerance=0.0,
            split={"dev": 0.2, "test": 0.0},
        )
        x, y = _sine(60)
        state = _suspended((x, y), mlp, 5)
        cfg = _other(mlp, model__hidden=[8, 5])
    elif job == "other epochs":
        cfg = _other(cfg, epochs=9)
    elif job == "other lr":
        cfg = _other(cfg, optimizer__lr=0.02)
    elif job == "no dev split":
        cfg = _other(cfg, split__dev=0.0)
    reporter = ListReporter()
    with pytest.raises(ValueError, match="checkpoint"):
        train(x, y, cfg, reporter, resume=state)
    assert reporter.plans == []  # rejected before anything was reported


def test_a_config_holding_the_chosen_lr_resumes_an_auto_run() -> None:
    # the stored job config may carry the rate "auto" chose instead of "auto"
    data = _sine(30)
    cfg = config({"type": "sgd", "lr": "auto"}, epochs=3)
    full = ListReporter()
    ref = train(*data, cfg, full)
    state = _suspended(data, cfg, 40)
    chosen = _other(cfg, optimizer__lr=ref.lr)
    reporter = ListReporter()
    out = train(*data, chosen, reporter, resume=state)
    assert _numbers(out) == _numbers(ref)
    assert reporter.train["loss"] == full.train["loss"][state.train_points :]


def test_exhaustive_search_never_checkpoints_nor_resumes() -> None:
    x, y = linear_data(50, [2.0], 1.0, noise=0.3)
    grid = {"w": {"min": 0, "max": 4, "steps": 41}, "b": {"min": -2, "max": 2, "steps": 41}}
    cfg = config({"type": "exhaustive", "grid": grid})
    ref = train(x, y, cfg, ListReporter())
    reporter = ListReporter(signals={1: Signal.CHECKPOINT})
    assert _numbers(train(x, y, cfg, reporter)) == _numbers(ref) and reporter.checkpoints == []
    reporter = ListReporter(signals={1: Signal.SUSPEND})
    with pytest.raises(Suspended):
        train(x, y, cfg, reporter)
    assert reporter.checkpoints == []
    gd = _suspended((x, y), config({"type": "gd", "lr": 0.05}, epochs=300), 7)
    with pytest.raises(ValueError, match="exhaustive"):
        train(x, y, cfg, ListReporter(), resume=gd)


# -- the time limit across attempts -----------------------------------------------------------------


def test_the_training_seconds_are_carried_into_the_resumed_run() -> None:
    state = _suspended(DATA, MINIBATCH, 10)
    assert 0 < state.elapsed_seconds < 60
    earlier = dataclasses.replace(state, elapsed_seconds=100.0)  # as if the first attempt had trained 100 s
    reporter = ListReporter(signals={3: Signal.CHECKPOINT})
    out = train(*DATA, MINIBATCH, reporter, resume=decode_checkpoint(encode_checkpoint(earlier)))
    assert out.seconds >= 100.0
    assert 100.0 <= decode_checkpoint(reporter.checkpoints[0].data).elapsed_seconds <= out.seconds


def test_the_time_limit_counts_the_earlier_attempts() -> None:
    state = dataclasses.replace(_suspended(DATA, MINIBATCH, 10), elapsed_seconds=100.0)
    limited = _other(MINIBATCH, max_runtime_seconds=60.0)  # the same job, a 60 s limit
    reporter = ListReporter()
    with pytest.raises(TimedOut, match="max_runtime_seconds = 60"):
        train(*DATA, limited, reporter, resume=state)
    assert reporter.train["step"] == [11]  # stopped after its first update (the partial window)
