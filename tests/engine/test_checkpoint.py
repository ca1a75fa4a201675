"""Checkpoint and resume: a run suspended (or lost) and resumed from its checkpoint's bytes gives
the uninterrupted run's history and result, bit for bit; malformed or unfitting checkpoints are
rejected; the time limit counts across attempts."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import safetensors.numpy

from descent.spec import JobConfig
from tests.support.engine import config, linear_data
from worker.engine import (
    Cancelled,
    Checkpoint,
    Diverged,
    ListReporter,
    Signal,
    Suspended,
    TimedOut,
    TrainOutput,
    train,
)
from worker.engine.checkpoint import METADATA_KEY


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
        default_factory=lambda: {"step": [], "epoch": [], "loss": [], "smoothed": []}
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

    def truncate(self, checkpoint: Checkpoint) -> None:
        for key in self.train:
            del self.train[key][checkpoint.train_points :]
        for key in self.dev:
            del self.dev[key][checkpoint.dev_points :]
        del self.epochs[checkpoint.meta["epoch"] :]


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
) -> tuple[TrainOutput, Store, list[Checkpoint]]:
    """Interrupt at each of `suspend_at` in turn (updates counted from the start of each attempt;
    the first attempt's ticks shifted by `offset`), each time resuming in a new attempt from the
    checkpoint's bytes with the stored history truncated to its counts. With `signal` CHECKPOINT
    the attempt runs on and is thrown away afterwards, as when a worker dies after checkpointing."""
    store = Store()
    resume: Checkpoint | None = None
    taken: list[Checkpoint] = []
    for attempt, update in enumerate([*suspend_at, None]):
        tick = None if update is None else update + (offset if attempt == 0 else 0)
        reporter = ListReporter(signals={} if tick is None else {tick: signal})
        try:
            out = train(*case.data, case.config, reporter, resume=resume)
        except Suspended as caught:
            checkpoint = caught.checkpoint
            assert checkpoint is not None and reporter.checkpoints == [checkpoint]
            assert reporter.ticks == tick
        else:
            if tick is None:
                store.add(reporter)
                return out, store, taken
            (checkpoint,) = reporter.checkpoints
        store.add(reporter)
        if signal == Signal.SUSPEND:  # nothing was emitted after the checkpoint
            assert len(store.train["step"]) == checkpoint.train_points
            assert len(store.dev["step"]) == checkpoint.dev_points
        store.truncate(checkpoint)
        taken.append(checkpoint)
        resume = Checkpoint.from_bytes(checkpoint.to_bytes())
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
    assert [cp.meta["step"] for cp in taken] == expected[where]
    spe = full.plans[0]["steps_per_epoch"]
    for cp in taken:
        assert cp.meta["batch"] == cp.meta["step"] % spe  # mid-epoch, or 0 at an epoch's end
    if spe > 1:
        assert taken[0].meta["batch"] != 0 or where == "epoch_end"
        assert taken[-1].meta["batch"] == 0 or where == "mid_epoch"


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
    steps = [cp.meta["step"] for cp in reporter.checkpoints]
    assert steps == sorted(steps) and steps[-1] < out.steps
    points = [cp.train_points for cp in reporter.checkpoints]
    assert points == [s // full.plans[0]["log_every"] for s in steps]


@pytest.mark.parametrize("name", ["sgd", "adam", "early_stopping"])
def test_a_run_lost_after_its_checkpoint_resumes_from_it(name: str) -> None:
    # the worker died some time after checkpointing: what it emitted later is dropped and redone
    case = CASES[name]
    ref, full, _ = _uninterrupted(case)
    out, store, taken = _resumed(case, [case.mid, case.boundary - case.mid], signal=Signal.CHECKPOINT)
    _assert_same_run(out, store, ref, full)
    assert [cp.meta["step"] for cp in taken] == [case.mid, case.boundary]


def test_a_checkpoint_holds_the_state_to_continue() -> None:
    case = CASES["early_stopping"]
    _, _, taken = _resumed(case, [case.mid])
    (cp,) = taken
    names = ["linear.weight", "linear.bias"]
    assert sorted(cp.tensors) == sorted(
        [f"model.{n}" for n in names]
        + [f"best.{n}" for n in names]
        + ["shuffle.state", "scaling.x_center", "scaling.x_scale"]
    )
    meta = cp.meta
    assert meta["parameters"] == names
    assert (meta["step"], meta["epoch"], meta["batch"]) == (158, 39, 2)
    assert meta["tracker"]["best_epoch"] == 39 and meta["tracker"]["stale_epochs"] == 0
    assert meta["history"]["count"] == 158 % meta["log_every"]
    assert cp.train_points == 158 // meta["log_every"] and cp.dev_points == 39
    assert json.loads(json.dumps(meta, allow_nan=False)) == meta  # plain JSON

    adam = CASES["adam"]
    _, _, (cp,) = _resumed(adam, [adam.mid])
    assert {k for k in cp.tensors if k.startswith("optimizer.")} == {
        f"optimizer.{i}.{key}" for i in (0, 1) for key in ("step", "exp_avg", "exp_avg_sq")
    }
    assert cp.tensors["optimizer.0.step"].shape == () and float(cp.tensors["optimizer.0.step"]) == adam.mid
    momentum = CASES["momentum"]
    _, _, (cp,) = _resumed(momentum, [momentum.mid])
    assert {k for k in cp.tensors if k.startswith("optimizer.")} == {
        "optimizer.0.momentum_buffer",
        "optimizer.1.momentum_buffer",
    }


def test_divergence_after_a_resume_is_the_same_divergence() -> None:
    x, y = linear_data(40, [1.0, 2.0], 0.0, noise=0.3)
    cfg = config({"type": "minibatch", "lr": 2.0, "batch_size": 10}, epochs=50)
    full = ListReporter()
    with pytest.raises(Diverged) as first:
        train(x, y, cfg, full)
    assert first.value.step > 6
    interrupted = ListReporter(signals={6: Signal.SUSPEND})
    with pytest.raises(Suspended) as caught:
        train(x, y, cfg, interrupted)
    resumed = ListReporter()
    with pytest.raises(Diverged) as second:
        train(x, y, cfg, resumed, resume=Checkpoint.from_bytes(caught.value.checkpoint.to_bytes()))
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
    assert caught.value.kind == "suspended" and caught.value.checkpoint is None
    assert reporter.checkpoints == [] and reporter.plans == [] and reporter.ticks == 3


def test_cancel_is_a_signal_too() -> None:
    case = CASES["sgd"]
    reporter = ListReporter(signals={5: Signal.CANCEL})
    with pytest.raises(Cancelled):
        train(*case.data, case.config, reporter)
    assert reporter.checkpoints == [] and reporter.train["step"] == [5]  # the partial window


def test_exhaustive_search_never_checkpoints() -> None:
    x, y = linear_data(50, [2.0], 1.0, noise=0.3)
    grid = {"w": {"min": 0, "max": 4, "steps": 41}, "b": {"min": -2, "max": 2, "steps": 41}}
    cfg = config({"type": "exhaustive", "grid": grid})
    ref = train(x, y, cfg, ListReporter())
    reporter = ListReporter(signals={1: Signal.CHECKPOINT})
    assert _numbers(train(x, y, cfg, reporter)) == _numbers(ref) and reporter.checkpoints == []
    reporter = ListReporter(signals={1: Signal.SUSPEND})
    with pytest.raises(Suspended) as caught:
        train(x, y, cfg, reporter)
    assert caught.value.checkpoint is None and reporter.checkpoints == []
    cp = _resumed(CASES["gd"], [CASES["gd"].mid])[2][0]
    with pytest.raises(ValueError, match="exhaustive"):
        train(x, y, cfg, ListReporter(), resume=cp)


# -- the time limit across attempts -----------------------------------------------------------------


def test_the_training_seconds_are_carried_into_the_resumed_run() -> None:
    case = CASES["minibatch"]
    _, _, (cp,) = _resumed(case, [case.mid])
    assert 0 < cp.meta["elapsed_seconds"] < 60
    earlier = copy.deepcopy(cp)
    earlier.meta["elapsed_seconds"] = 100.0  # as if the first attempt had trained for 100 s
    reporter = ListReporter(signals={3: Signal.CHECKPOINT})
    out = train(*case.data, case.config, reporter, resume=Checkpoint.from_bytes(earlier.to_bytes()))
    assert out.seconds >= 100.0
    assert 100.0 <= reporter.checkpoints[0].meta["elapsed_seconds"] <= out.seconds


def test_the_time_limit_counts_the_earlier_attempts() -> None:
    case = CASES["minibatch"]
    _, _, (cp,) = _resumed(case, [case.mid])
    cp.meta["elapsed_seconds"] = 100.0
    limited = _other(case, max_runtime_seconds=60.0)  # the same job, a 60 s limit
    reporter = ListReporter()
    with pytest.raises(TimedOut, match="max_runtime_seconds = 60"):
        train(*case.data, limited, reporter, resume=cp)
    assert reporter.train["step"] == [case.mid + 1]  # stopped after its first update (the partial window)


# -- malformed and unfitting checkpoints ------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> tuple[Case, Checkpoint, bytes]:
    """An adam checkpoint (optimizer state, dev tracker) taken mid-epoch, and its bytes."""
    case = CASES["adam"]
    _, _, (cp,) = _resumed(case, [case.mid])
    return case, cp, cp.to_bytes()


def _rewrite(data: bytes, change_meta=None, change_tensors=None, header_text: str | None = None) -> bytes:
    """The checkpoint's bytes with its meta JSON or its tensors changed (a forged checkpoint)."""
    cp = Checkpoint.from_bytes(data)
    header = {
        "format": "descent.checkpoint",
        "version": 1,
        "train_points": cp.train_points,
        "dev_points": cp.dev_points,
        "meta": copy.deepcopy(cp.meta),
    }
    if change_meta is not None:
        change_meta(header)
    tensors = dict(cp.tensors)
    if change_tensors is not None:
        change_tensors(tensors)
    text = header_text if header_text is not None else json.dumps(header)
    return safetensors.numpy.save(tensors, metadata={METADATA_KEY: text})


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage", b"\x08" + b"\x00" * 7 + b"{}", bytes(range(256)) * 8, "a string", None],
    ids=["empty", "garbage", "empty-header", "random", "str", "none"],
)
def test_from_bytes_rejects_garbage(data: Any) -> None:
    with pytest.raises(ValueError, match="checkpoint"):
        Checkpoint.from_bytes(data)


def test_from_bytes_rejects_truncated_bytes(sample: tuple[Case, Checkpoint, bytes]) -> None:
    _, _, data = sample
    assert Checkpoint.from_bytes(data).meta == sample[1].meta
    for cut in (1, 7, 8, 100, len(data) // 2, len(data) - 1):
        with pytest.raises(ValueError, match="checkpoint"):
            Checkpoint.from_bytes(data[:cut])
    with pytest.raises(ValueError, match="checkpoint"):
        Checkpoint.from_bytes(data + b"\x00")


def _set(path: str, value: Any):
    def change(header: dict) -> None:
        *parents, last = path.split(".")
        node = header
        for key in parents:
            node = node[key]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value

    return change


_DELETE = object()


@pytest.mark.parametrize(
    "change",
    [
        _set("version", 2),
        _set("format", "something.else"),
        _set("train_points", -1),
        _set("train_points", 1.5),
        _set("dev_points", True),
        _set("meta", []),
        _set("meta.step", _DELETE),
        _set("meta.step", "9"),
        _set("meta.step", 10),  # no longer epoch · steps_per_epoch + batch
        _set("meta.batch", 7),
        _set("meta.lr", 0),
        _set("meta.lr", "inf"),
        _set("meta.log_every", 0),
        _set("meta.history.count", 5),
        _set("meta.history", None),
        _set("meta.history.smoothed", None),
        _set("meta.tracker", None),  # it has dev points
        _set("meta.tracker.best_epoch", 7),
        _set("meta.first_cost", None),
        _set("meta.elapsed_seconds", -1.0),
        _set("meta.parameters", ["linear.weight"]),
        _set("meta.parameters", ["linear.weight", "linear.weight"]),
        _set("meta.data.features", 4),
        _set("meta.metrics", [1, 2]),
        _set("meta.scaling.y_scale", 0.0),
    ],
)
def test_from_bytes_rejects_a_forged_meta(sample: tuple[Case, Checkpoint, bytes], change: Any) -> None:
    with pytest.raises(ValueError, match="checkpoint"):
        Checkpoint.from_bytes(_rewrite(sample[2], change_meta=change))


def test_from_bytes_rejects_non_json_meta(sample: tuple[Case, Checkpoint, bytes]) -> None:
    data = sample[2]
    for text in ["{not json", '{"format": "descent.checkpoint", "version": NaN}', "[]", '"x"']:
        with pytest.raises(ValueError, match="checkpoint"):
            Checkpoint.from_bytes(_rewrite(data, header_text=text))
    # a valid safetensors file that is not a checkpoint
    with pytest.raises(ValueError, match="checkpoint"):
        Checkpoint.from_bytes(safetensors.numpy.save({"w": np.zeros(3, np.float32)}))


def _tensor(name: str, value: Any):
    def change(tensors: dict) -> None:
        if value is _DELETE:
            del tensors[name]
        else:
            tensors[name] = value

    return change


@pytest.mark.parametrize(
    "change",
    [
        _tensor("model.linear.weight", _DELETE),
        _tensor("model.linear.weight", np.zeros((1, 4), np.float32)),  # not the optimizer's shape
        _tensor("model.linear.weight", np.zeros((1, 3), np.float64)),
        _tensor("optimizer.0.exp_avg", np.zeros((3, 1), np.float32)),
        _tensor("optimizer.0.step", np.zeros(1, np.float32)),
        _tensor("optimizer.2.exp_avg", np.zeros(1, np.float32)),
        _tensor("optimizer.0.velocity", np.zeros((1, 3), np.float32)),
        _tensor("optimizer.00.exp_avg", np.zeros((1, 3), np.float32)),
        _tensor("best.linear.weight", np.zeros((1, 3), np.float32)),  # best without its bias
        _tensor("shuffle.state", _DELETE),
        _tensor("shuffle.state", np.zeros(16, np.uint8)),
        _tensor("scaling.x_center", np.zeros(2)),
        _tensor("extra", np.zeros(1, np.float32)),
    ],
)
def test_from_bytes_rejects_forged_tensors(sample: tuple[Case, Checkpoint, bytes], change: Any) -> None:
    with pytest.raises(ValueError, match="checkpoint"):
        Checkpoint.from_bytes(_rewrite(sample[2], change_tensors=change))


def _other(case: Case, **changes: Any) -> JobConfig:
    """The case's config with the values at some dotted paths (`optimizer__lr` for optimizer.lr)
    changed: the config of another job, read as the worker reads a stored one."""
    raw = case.config.model_dump(mode="json")
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
def test_train_rejects_a_checkpoint_of_another_job(sample: tuple[Case, Checkpoint, bytes], job: str) -> None:
    case, _, data = sample
    x, y = case.data
    cfg = case.config
    if job == "more features":
        x = np.c_[x, x[:, :1]]
    elif job == "other rows":
        x, y = x[:-5], y[:-5]
    elif job == "other values":
        y = y + np.float32(1.0)
    elif job == "other optimizer":
        opt = cfg.optimizer
        cfg = _other(case, optimizer={"type": "momentum", "lr": opt.lr, "batch_size": opt.batch_size})
    elif job == "other batch size":
        cfg = _other(case, optimizer__batch_size=16)
    elif job == "other model":
        cfg = _other(case, model={"type": "mlp", "hidden": [4], "activation": "relu"})
    elif job == "other hidden":
        # an MLP checkpoint against the same MLP with other widths
        case = CASES["mlp_adam"]
        _, _, (cp,) = _resumed(case, [case.mid])
        x, y = case.data
        cfg = _other(case, model__hidden=[8, 5])
        data = cp.to_bytes()
    elif job == "other epochs":
        cfg = _other(case, epochs=9)
    elif job == "other lr":
        cfg = _other(case, optimizer__lr=0.02)
    elif job == "no dev split":
        cfg = _other(case, split__dev=0.0)
    reporter = ListReporter()
    with pytest.raises(ValueError, match="checkpoint"):
        train(x, y, cfg, reporter, resume=Checkpoint.from_bytes(data))
    assert reporter.plans == []  # rejected before anything was reported


def test_a_config_holding_the_chosen_lr_resumes_an_auto_run() -> None:
    # the stored job config may carry the rate "auto" chose instead of "auto"
    case = CASES["sgd_auto"]
    ref, full, _ = _uninterrupted(case)
    _, _, (cp,) = _resumed(case, [case.mid])
    chosen = _other(case, optimizer__lr=ref.lr)
    reporter = ListReporter()
    out = train(*case.data, chosen, reporter, resume=cp)
    assert _numbers(out) == _numbers(ref)
    assert reporter.train["loss"] == full.train["loss"][cp.train_points :]
