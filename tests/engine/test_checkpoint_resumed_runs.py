"""A run suspended (or lost after a checkpoint) and resumed from its checkpoint's bytes gives the
uninterrupted run's history and result bit for bit, on every path, at every kind of point; what a
checkpoint holds. The bytes: test_checkpoint_codec.py; which job a checkpoint fits: test_checkpoint_fit.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.engine import config, linear_data
from tests.support.resume import CASES, Case
from tests.support.resume import numbers as _numbers
from tests.support.resume import uninterrupted as _uninterrupted
from worker.engine import (
    Diverged,
    ListReporter,
    RunState,
    Signal,
    Suspended,
    TrainOutput,
    decode_checkpoint,
    train,
)


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
