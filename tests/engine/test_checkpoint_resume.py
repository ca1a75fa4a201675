"""Checkpoint and resume: a run suspended (or lost) and resumed from its checkpoint's bytes gives
the uninterrupted run's history and result, bit for bit, on every path, at every kind of point.

The bytes themselves: test_checkpoint_codec.py; which job a checkpoint fits, and the time limit
across attempts: test_checkpoint_fit.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from descent.spec import JobConfig
from tests.support.engine import config, linear_data
from worker.engine import (
    Cancelled,
    Diverged,
    ListReporter,
    RunState,
    Signal,
    Suspended,
    TrainOutput,
    decode_checkpoint,
    train,
)


def _classes(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three Gaussian blobs in 2-D, labels 0..2."""
    rng = np.random.default_rng(seed)
    y = np.arange(rows) % 3
    x = rng.standard_normal((rows, 2)) + np.array([[0.0, 2.0], [2.0, -1.0], [-2.0, -1.0]])[y]
    return x.astype(np.float32), y.astype(np.float32)


def _overfitting(rows: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """More features than training rows: the dev loss falls, then rises (early stopping fires)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, 40)).astype(np.float32)
    y = (x[:, 0] + 0.5 * rng.standard_normal(rows)).astype(np.float32)
    return x, y


def _sine(rows: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = linear_data(rows, [1.0, -1.0], 0.5, noise=0.2)
    return x, np.tanh(y).astype(np.float32)


@dataclass(frozen=True)
class Case:
    """A run, where to interrupt it (counted in updates), and how it must end."""

    data: tuple[np.ndarray, np.ndarray]
    config: JobConfig
    mid: int
    """An update in the middle of an epoch (for gd: just some epoch's end)."""
    boundary: int
    """The last update of an epoch."""
    outcome: str


CASES: dict[str, Case] = {
    # gd: one update per epoch, so every checkpoint is at an epoch end; converges (previous cost)
    "gd": Case(
        linear_data(40, [1.0, -2.0], 0.5, noise=0.3),
        config({"type": "gd", "lr": 0.05}, epochs=300, tolerance=1e-6),
        7,
        30,
        "converged",
    ),
    # 18 rows: 18 updates per epoch, windows of 8 that straddle epochs
    "sgd": Case(
        linear_data(18, [1.0, 2.0], 0.0, noise=0.5),
        config({"type": "sgd", "lr": 0.02}, epochs=4, max_history_points=10),
        25,
        36,
        "max_epochs",
    ),
    # 50 rows in batches of 8: 7 updates per epoch (the last of 2 rows), windows of 3
    "minibatch": Case(
        linear_data(50, [1.0, -1.0, 0.5], 0.2, noise=0.4),
        config(
            {"type": "minibatch", "lr": 0.05, "batch_size": 8}, epochs=8, tolerance=0.0, max_history_points=20
        ),
        10,
        14,
        "max_epochs",
    ),
    "momentum": Case(
        linear_data(50, [1.0, -1.0, 0.5], 0.2, noise=0.4),
        config(
            {"type": "momentum", "lr": 0.02, "batch_size": 8, "momentum": 0.9},
            epochs=8,
            tolerance=0.0,
            standardize=False,
            max_history_points=20,
        ),
        10,
        21,
        "max_epochs",
    ),
    "adam": Case(
        linear_data(50, [1.0, -1.0, 0.5], 0.2, noise=0.4),
        config(
            {"type": "adam", "lr": 0.05, "batch_size": 8},
            epochs=8,
            tolerance=0.0,
            split={"dev": 0.2, "test": 0.1},
            max_history_points=20,
        ),
        9,
        15,
        "max_epochs",
    ),
    # 48 training rows in batches of 16: 3 updates per epoch
    "mlp_adam": Case(
        _sine(60),
        config(
            {"type": "adam", "lr": 0.01, "batch_size": 16},
            model={"type": "mlp", "hidden": [8, 4], "activation": "tanh"},
            epochs=10,
            tolerance=0.0,
            split={"dev": 0.2, "test": 0.0},
        ),
        5,
        9,
        "max_epochs",
    ),
    "mlp_cross_entropy": Case(
        _classes(45, 1),
        config(
            {"type": "momentum", "lr": 0.05, "batch_size": 10},
            model={"type": "mlp", "hidden": [6], "activation": "relu"},
            loss="cross_entropy",
            epochs=6,
            tolerance=0.0,
        ),
        7,
        10,
        "max_epochs",
    ),
    # 30 training rows in batches of 8: 4 updates per epoch; best epoch 39, stops after epoch 42;
    # the interruptions fall after the best epoch, with bad epochs counted
    "early_stopping": Case(
        _overfitting(),
        config(
            {"type": "minibatch", "lr": 0.01, "batch_size": 8},
            epochs=500,
            early_stopping={"patience": 3, "min_delta": 0.0},
            split={"dev": 0.5, "test": 0.0},
            tolerance=0.0,
            seed=5,
            max_history_points=300,
        ),
        158,
        164,
        "early_stopped",
    ),
    # schedules mid-way: the rate of the resumed epoch and the schedule's state come from the
    # checkpoint (sgd: compiled; weight decay moves minibatch to dense; clipping and plateau on an MLP)
    "sgd_cosine": Case(
        linear_data(18, [1.0, 2.0], 0.0, noise=0.5),
        config({"type": "sgd", "lr": 0.02, "schedule": {"type": "cosine"}}, epochs=4, max_history_points=10),
        25,
        36,
        "max_epochs",
    ),
    "minibatch_step_weight_decay": Case(
        linear_data(50, [1.0, -1.0, 0.5], 0.2, noise=0.4),
        config(
            {
                "type": "minibatch",
                "lr": 0.05,
                "batch_size": 8,
                "weight_decay": 0.05,
                "schedule": {"type": "step", "step_size": 2, "gamma": 0.5},
            },
            epochs=8,
            tolerance=0.0,
            max_history_points=20,
        ),
        17,
        28,
        "max_epochs",
    ),
    "mlp_adam_plateau_clip": Case(
        _sine(60),
        config(
            {
                "type": "adam",
                "lr": 0.05,
                "batch_size": 16,
                "clip_norm": 0.5,
                "schedule": {"type": "plateau", "factor": 0.5, "patience": 0},
            },
            model={"type": "mlp", "hidden": [8, 4], "activation": "tanh"},
            epochs=12,
            tolerance=0.0,
            split={"dev": 0.2, "test": 0.0},
        ),
        17,
        24,
        "max_epochs",
    ),
    # "auto" by the smoothness rule (no range test)
    "sgd_auto": Case(_sine(30), config({"type": "sgd", "lr": "auto"}, epochs=3), 40, 60, "max_epochs"),
    # "auto" by the range test (its ticks come first; it is not run again on resume)
    "mlp_adam_auto": Case(
        _sine(64),
        config(
            {"type": "adam", "lr": "auto", "batch_size": 16},
            model={"type": "mlp", "hidden": [8], "activation": "tanh"},
            epochs=6,
            tolerance=0.0,
        ),
        6,
        12,
        "max_epochs",
    ),
}


@dataclass
class Store:
    """What the worker keeps across attempts: the history, truncated to each checkpoint's counts."""

    train: dict[str, list[Any]] = field(
        default_factory=lambda: {"step": [], "epoch": [], "loss": [], "smoothed": [], "lr": []}
    )
    dev: dict[str, list[Any]] = field(default_factory=lambda: {"step": [], "epoch": [], "loss": []})
    epochs: list[dict[str, Any]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)

    def add(self, reporter: ListReporter) -> None:
        for key in self.train:
            self.train[key] += reporter.train[key]
        for key in self.dev:
            self.dev[key] += reporter.dev[key]
        self.epochs += reporter.epochs
        self.plans += reporter.plans

    def truncate(self, state: RunState) -> None:
        for key in self.train:
            del self.train[key][state.train_points :]
        for key in self.dev:
            del self.dev[key][state.dev_points :]
        del self.epochs[state.epoch :]


def _numbers(out: TrainOutput) -> dict[str, Any]:
    """Everything a run returns but the wall-clock seconds."""
    return out.to_result() | {
        "seconds": None,
        "metrics": out.metrics,
        "lr": out.lr,
        "log_every": out.log_every,
        "params": out.params,
    }


def _uninterrupted(case: Case) -> tuple[TrainOutput, ListReporter, int]:
    """The reference run, and the ticks before its first update (the range test's)."""
    reporter = ListReporter()
    out = train(*case.data, case.config, reporter)
    assert out.outcome == case.outcome
    return out, reporter, reporter.ticks - out.steps


def _resumed(
    case: Case, suspend_at: list[int], offset: int = 0, signal: Signal = Signal.SUSPEND
) -> tuple[TrainOutput, Store, list[RunState]]:
    """Interrupt at each of `suspend_at` in turn (updates counted from the start of each attempt;
    the first attempt's ticks shifted by `offset`), each time resuming in a new attempt from the
    checkpoint's bytes with the stored history truncated to its counts. With `signal` CHECKPOINT
    the attempt runs on and is thrown away afterwards, as when a worker dies after checkpointing.
    Returns the result, the stored history and the decoded checkpoints."""
    store = Store()
    resume: RunState | None = None
    taken: list[RunState] = []
    for attempt, update in enumerate([*suspend_at, None]):
        tick = None if update is None else update + (offset if attempt == 0 else 0)
        reporter = ListReporter(signals={} if tick is None else {tick: signal})
        try:
            out = train(*case.data, case.config, reporter, resume=resume)
        except Suspended:
            assert reporter.ticks == tick
        else:
            if tick is None:
                store.add(reporter)
                return out, store, taken
        (saved,) = reporter.checkpoints
        state = decode_checkpoint(saved.data)
        assert (saved.train_points, saved.dev_points) == (state.train_points, state.dev_points)
        store.add(reporter)
        if signal == Signal.SUSPEND:  # nothing was emitted after the checkpoint
            assert len(store.train["step"]) == state.train_points
            assert len(store.dev["step"]) == state.dev_points
        store.truncate(state)
        taken.append(state)
        resume = state
    raise AssertionError("unreachable")


def _assert_same_run(out: TrainOutput, store: Store, ref: TrainOutput, full: ListReporter) -> None:
    assert store.train == full.train
    assert store.dev == full.dev
    assert store.epochs == full.epochs
    assert store.plans == full.plans * len(store.plans)  # plan() again, with the stored lr
    assert _numbers(out) == _numbers(ref)


@pytest.mark.parametrize("where", ["mid_epoch", "epoch_end", "twice"])
@pytest.mark.parametrize("name", list(CASES))
def test_a_resumed_run_is_the_uninterrupted_run(name: str, where: str) -> None:
    case = CASES[name]
    ref, full, offset = _uninterrupted(case)
    assert (offset > 0) == (name == "mlp_adam_auto")
    suspend_at = {
        "mid_epoch": [case.mid],
        "epoch_end": [case.boundary],
        "twice": [case.mid, case.boundary - case.mid],
    }[where]
    out, store, taken = _resumed(case, suspend_at, offset)

    _assert_same_run(out, store, ref, full)
    expected = {"mid_epoch": [case.mid], "epoch_end": [case.boundary], "twice": [case.mid, case.boundary]}
    assert [cp.step for cp in taken] == expected[where]
    spe = full.plans[0]["steps_per_epoch"]
    for cp in taken:
        assert cp.batch == cp.step % spe  # mid-epoch, or 0 at an epoch's end
    if spe > 1:
        assert taken[0].batch != 0 or where == "epoch_end"
        assert taken[-1].batch == 0 or where == "mid_epoch"


@pytest.mark.parametrize("name", ["minibatch", "mlp_adam", "early_stopping", "mlp_adam_auto"])
def test_checkpoint_signals_change_nothing(name: str) -> None:
    case = CASES[name]
    ref, full, offset = _uninterrupted(case)
    ticks = full.ticks
    # every 5th tick (the range test's included) and the very last one: the run ends there, no checkpoint
    signals = {k: Signal.CHECKPOINT for k in [*range(1, ticks, 5), ticks]}
    reporter = ListReporter(signals=signals)
    out = train(*case.data, case.config, reporter)

    assert (reporter.train, reporter.dev, reporter.epochs) == (full.train, full.dev, full.epochs)
    assert _numbers(out) == _numbers(ref)
    # one checkpoint per signal after the range test, but none after the final update
    assert len(reporter.checkpoints) == len([k for k in signals if offset < k < ticks])
    states = [decode_checkpoint(saved.data) for saved in reporter.checkpoints]
    steps = [state.step for state in states]
    assert steps == sorted(steps) and steps[-1] < out.steps
    points = [saved.train_points for saved in reporter.checkpoints]
    assert points == [state.train_points for state in states]
    assert points == [s // full.plans[0]["log_every"] for s in steps]


@pytest.mark.parametrize("name", ["sgd", "adam", "early_stopping"])
def test_a_run_lost_after_its_checkpoint_resumes_from_it(name: str) -> None:
    # the worker died some time after checkpointing: what it emitted later is dropped and redone
    case = CASES[name]
    ref, full, _ = _uninterrupted(case)
    out, store, taken = _resumed(case, [case.mid, case.boundary - case.mid], signal=Signal.CHECKPOINT)
    _assert_same_run(out, store, ref, full)
    assert [cp.step for cp in taken] == [case.mid, case.boundary]


def test_a_checkpoint_holds_the_state_to_continue() -> None:
    case = CASES["early_stopping"]
    _, _, (cp,) = _resumed(case, [case.mid])
    names = ["linear.weight", "linear.bias"]
    assert cp.parameters == names and sorted(cp.model) == sorted(cp.best) == sorted(names)
    assert (cp.step, cp.epoch, cp.batch) == (158, 39, 2)
    assert cp.tracker is not None and (cp.tracker.best_epoch, cp.tracker.stale_epochs) == (39, 0)
    assert cp.window.count == 158 % cp.log_every
    assert cp.train_points == 158 // cp.log_every and cp.dev_points == 39
    assert cp.optimizer == {}  # minibatch keeps no optimizer state

    adam = CASES["adam"]
    _, _, (cp,) = _resumed(adam, [adam.mid])
    assert {i: sorted(entries) for i, entries in cp.optimizer.items()} == {
        i: ["exp_avg", "exp_avg_sq", "step"] for i in (0, 1)
    }
    assert cp.optimizer[0]["step"].shape == () and float(cp.optimizer[0]["step"]) == adam.mid
    momentum = CASES["momentum"]
    _, _, (cp,) = _resumed(momentum, [momentum.mid])
    assert {i: sorted(entries) for i, entries in cp.optimizer.items()} == {
        0: ["momentum_buffer"],
        1: ["momentum_buffer"],
    }


def test_divergence_after_a_resume_is_the_same_divergence() -> None:
    x, y = linear_data(40, [1.0, 2.0], 0.0, noise=0.3)
    cfg = config({"type": "minibatch", "lr": 2.0, "batch_size": 10}, epochs=50)
    full = ListReporter()
    with pytest.raises(Diverged) as first:
        train(x, y, cfg, full)
    assert first.value.step > 6
    interrupted = ListReporter(signals={6: Signal.SUSPEND})
    with pytest.raises(Suspended):
        train(x, y, cfg, interrupted)
    resumed = ListReporter()
    with pytest.raises(Diverged) as second:
        train(x, y, cfg, resumed, resume=decode_checkpoint(interrupted.checkpoints[0].data))
    assert str(second.value) == str(first.value)
    assert (second.value.epoch, second.value.step) == (first.value.epoch, first.value.step)
    assert interrupted.train["loss"] + resumed.train["loss"] == full.train["loss"]


def test_suspend_on_the_last_update_just_finishes() -> None:
    case = CASES["minibatch"]
    ref, full, _ = _uninterrupted(case)
    reporter = ListReporter(signals={full.ticks: Signal.SUSPEND})
    out = train(*case.data, case.config, reporter)
    assert _numbers(out) == _numbers(ref) and reporter.checkpoints == []


def test_suspend_while_choosing_the_learning_rate_has_no_checkpoint() -> None:
    case = CASES["mlp_adam_auto"]
    reporter = ListReporter(signals={3: Signal.SUSPEND, 2: Signal.CHECKPOINT})
    with pytest.raises(Suspended) as caught:
        train(*case.data, case.config, reporter)
    assert caught.value.kind == "suspended"
    assert reporter.checkpoints == [] and reporter.plans == [] and reporter.ticks == 3


def test_cancel_is_a_signal_too() -> None:
    case = CASES["sgd"]
    reporter = ListReporter(signals={5: Signal.CANCEL})
    with pytest.raises(Cancelled):
        train(*case.data, case.config, reporter)
    assert reporter.checkpoints == [] and reporter.train["step"] == [5]  # the partial window
