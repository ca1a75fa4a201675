"""The reporter's signals to a run: CHECKPOINT signals change nothing but the checkpoints taken, a
SUSPEND on the last update just finishes and one while the rate is chosen leaves no checkpoint, and
CANCEL stops the run."""

from __future__ import annotations

import pytest

from tests.support.resume import CASES
from tests.support.resume import numbers as _numbers
from tests.support.resume import uninterrupted as _uninterrupted
from worker.engine import Cancelled, ListReporter, Signal, Suspended, decode_checkpoint, train


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
