"""The compiled and dense updates (worker/engine/updates.py) against the autograd loop on the same job.

The fast paths compute the same updates in another order of float32 operations, so histories,
parameters and results agree within float32 rounding, never bit for bit; each path is checked on
its own to resume bit for bit from its checkpoints (also with batched ticks), to stop where the
plain loop stops (divergence, cancel), and to be the path `choose_path()` takes — with schedules
on every path, and weight decay and clipping on the dense path (a linear job with either leaves
the compiled path for it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from descent.spec import JobConfig
from tests.support.engine import assert_fast_run_is_the_plain_run, config, linear_data
from worker.engine import Diverged, ListReporter, Signal, Suspended, decode_checkpoint, train
from worker.engine.losses import LOSSES
from worker.engine.updates import UpdatePath, choose_path

COMPILED, DENSE, PLAIN = UpdatePath.COMPILED, UpdatePath.DENSE, UpdatePath.AUTOGRAD


def _sine(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    x, y = linear_data(rows, [1.0, -1.0, 0.5], 0.5, noise=0.2, seed=seed)
    return x, np.tanh(y).astype(np.float32)


MLP = {"type": "mlp", "hidden": [8, 6], "activation": "relu"}

CASES: dict[str, tuple[str, dict[str, Any]]] = {
    # the compiled path: linear model, mse, gd / sgd / minibatch
    "gd": (COMPILED, {"optimizer": {"type": "gd", "lr": 0.1}, "epochs": 60}),
    "gd_no_bias_raw": (
        COMPILED,
        {
            "optimizer": {"type": "gd", "lr": 0.01},
            "epochs": 60,
            "model": {"type": "linear", "bias": False},
            "standardize": False,
        },
    ),
    "gd_auto": (COMPILED, {"optimizer": {"type": "gd", "lr": "auto"}, "epochs": 20}),
    # a full batch of several kernels.BLOCK_ROWS blocks, the last one short
    "gd_blocks": (COMPILED, {"optimizer": {"type": "gd", "lr": 0.1}, "epochs": 20, "rows": 5000}),
    "sgd": (COMPILED, {"optimizer": {"type": "sgd", "lr": 0.01}, "epochs": 4}),
    "sgd_windows_dev": (
        COMPILED,
        {
            "optimizer": {"type": "sgd", "lr": 0.005},
            "epochs": 5,
            "split": {"dev": 0.2, "test": 0.1},
            "max_history_points": 70,
        },
    ),
    "minibatch": (COMPILED, {"optimizer": {"type": "minibatch", "lr": 0.05, "batch_size": 16}, "epochs": 10}),
    "minibatch_big_batches": (
        # batches larger than kernels.BLOCK_ROWS, the last one short
        COMPILED,
        {"optimizer": {"type": "minibatch", "lr": 0.05, "batch_size": 2500}, "epochs": 5, "rows": 6000},
    ),
    "minibatch_early_stopping": (
        COMPILED,
        {
            "optimizer": {"type": "minibatch", "lr": 0.02, "batch_size": 8},
            "epochs": 40,
            "split": {"dev": 0.3},
            "early_stopping": {"patience": 2},
        },
    ),
    # schedules on the compiled path: the kernel takes each epoch's rate
    "gd_step_schedule": (
        COMPILED,
        {
            "optimizer": {
                "type": "gd",
                "lr": 0.1,
                "schedule": {"type": "step", "step_size": 10, "gamma": 0.5},
            },
            "epochs": 60,
        },
    ),
    "sgd_exponential": (
        COMPILED,
        {
            "optimizer": {"type": "sgd", "lr": 0.01, "schedule": {"type": "exponential", "gamma": 0.7}},
            "epochs": 4,
        },
    ),
    "minibatch_cosine": (
        # t_max 4 of 10 epochs: down to 0 and up again
        COMPILED,
        {
            "optimizer": {
                "type": "minibatch",
                "lr": 0.05,
                "batch_size": 16,
                "schedule": {"type": "cosine", "t_max": 4},
            }
        },
    ),
    "minibatch_plateau_dev": (
        COMPILED,
        {
            "optimizer": {
                "type": "minibatch",
                "lr": 0.05,
                "batch_size": 16,
                "schedule": {"type": "plateau", "factor": 0.5, "patience": 1},
            },
            "epochs": 20,
            "split": {"dev": 0.25},
        },
    ),
    # weight decay or clipping: the dense path, also for the linear model with gd, sgd, minibatch
    "gd_weight_decay": (DENSE, {"optimizer": {"type": "gd", "lr": 0.1, "weight_decay": 0.1}, "epochs": 60}),
    "minibatch_clip": (
        DENSE,
        {"optimizer": {"type": "minibatch", "lr": 0.05, "batch_size": 16, "clip_norm": 0.1}, "epochs": 10},
    ),
    "sgd_weight_decay_clip_step": (
        DENSE,
        {
            "optimizer": {
                "type": "sgd",
                "lr": 0.01,
                "weight_decay": 0.02,
                "clip_norm": 0.5,
                "schedule": {"type": "step", "step_size": 1, "gamma": 0.5},
            },
            "epochs": 3,
        },
    ),
    "linear_adam_weight_decay_clip": (
        DENSE,
        {
            "optimizer": {
                "type": "adam",
                "lr": 0.02,
                "batch_size": 16,
                "weight_decay": 0.01,
                "clip_norm": 0.5,
                "schedule": {"type": "exponential", "gamma": 0.9},
            },
            "epochs": 8,
        },
    ),
    # the dense path: other optimizers on the linear model, and MLPs, under mse
    "linear_momentum": (
        DENSE,
        {"optimizer": {"type": "momentum", "lr": 0.01, "batch_size": 16}, "epochs": 8},
    ),
    "linear_adam": (DENSE, {"optimizer": {"type": "adam", "lr": 0.02, "batch_size": 16}, "epochs": 8}),
    "mlp_adam_relu": (DENSE, {"optimizer": {"type": "adam", "lr": 0.01, "batch_size": 32}, "model": MLP}),
    "mlp_momentum_tanh": (
        DENSE,
        {
            "optimizer": {"type": "momentum", "lr": 0.01, "batch_size": 16},
            "model": {**MLP, "activation": "tanh"},
        },
    ),
    "mlp_gd_sigmoid": (
        DENSE,
        {"optimizer": {"type": "gd", "lr": 0.1}, "model": {**MLP, "activation": "sigmoid"}, "epochs": 50},
    ),
    "mlp_sgd_identity": (
        DENSE,
        {"optimizer": {"type": "sgd", "lr": 0.002}, "model": {**MLP, "activation": "identity"}, "epochs": 2},
    ),
    "mlp_momentum_weight_decay_cosine": (
        DENSE,
        {
            "optimizer": {
                "type": "momentum",
                "lr": 0.01,
                "batch_size": 16,
                "weight_decay": 0.05,
                "schedule": {"type": "cosine"},
            },
            "model": {**MLP, "activation": "tanh"},
        },
    ),
    "mlp_adam_clip_plateau": (
        DENSE,
        {
            "optimizer": {
                "type": "adam",
                "lr": 0.03,
                "batch_size": 32,
                "weight_decay": 0.001,
                "clip_norm": 0.2,
                "schedule": {"type": "plateau", "factor": 0.5, "patience": 0},
            },
            "model": MLP,
            "epochs": 20,
            "split": {"dev": 0.25},
        },
    ),
    "mlp_minibatch_dev": (
        DENSE,
        {
            "optimizer": {"type": "minibatch", "lr": 0.05, "batch_size": 10},
            "model": MLP,
            "split": {"dev": 0.25},
        },
    ),
}


def _job(name: str) -> tuple[str, np.ndarray, np.ndarray, JobConfig]:
    path, raw = CASES[name]
    raw = dict(raw)
    rows = raw.pop("rows", 300)
    raw.setdefault("epochs", 10)
    raw.setdefault("tolerance", 0.0)
    x, y = (
        _sine(rows)
        if raw.get("model", {}).get("type") == "mlp"
        else linear_data(rows, [1.5, -2.0, 0.7], 0.4, 0.5)
    )
    return path, x, y, config(raw.pop("optimizer"), **raw)


@pytest.mark.parametrize("name", list(CASES))
def test_the_fast_path_gives_the_plain_loops_numbers(name: str) -> None:
    path, x, y, cfg = _job(name)
    assert choose_path(cfg, LOSSES[cfg.loss], 1, True) == path
    assert_fast_run_is_the_plain_run(x, y, cfg)


def test_other_jobs_take_the_plain_loop() -> None:
    for raw in (
        {"loss": "mae"},
        {"loss": "huber"},
        {"loss": "bce"},
        {"loss": "cross_entropy"},
        {"model": {"type": "mlp", "hidden": [4]}, "loss": "mae"},
    ):
        cfg = config({"type": "minibatch", "lr": 0.01}, **raw)
        assert choose_path(cfg, LOSSES[cfg.loss], 1, True) == PLAIN
    cfg = config({"type": "gd"})
    assert choose_path(cfg, LOSSES["mse"], 1, False) == PLAIN


@pytest.mark.parametrize("kind", ["gd", "sgd", "minibatch", "momentum", "adam"])
@pytest.mark.parametrize("model", ["linear", "mlp"])
def test_each_option_takes_the_path_updates_py_names(kind: str, model: str) -> None:
    """A schedule keeps a job on its path; weight decay or clipping moves a compiled job to DENSE
    (the kernel has neither); jobs on the autograd path stay there with any of them."""
    base = {"type": kind, "lr": 0.01}
    path = COMPILED if model == "linear" and kind in ("gd", "sgd", "minibatch") else DENSE
    options = {
        "none": ({}, path),
        "schedule": ({"schedule": {"type": "exponential", "gamma": 0.9}}, path),
        "weight_decay": ({"weight_decay": 1e-4}, DENSE),
        "clip_norm": ({"clip_norm": 1.0}, DENSE),
        "all": ({"weight_decay": 1e-4, "clip_norm": 1.0, "schedule": {"type": "cosine"}}, DENSE),
    }
    for extra, expected in options.values():
        cfg = config({**base, **extra}, model={"type": model})
        assert choose_path(cfg, LOSSES["mse"], 1, True) == expected
        assert choose_path(cfg, LOSSES["mse"], 1, False) == PLAIN
        classifier = config({**base, **extra}, model={"type": model}, loss="bce")
        assert choose_path(classifier, LOSSES["bce"], 1, True) == PLAIN


def test_the_parameter_alone_picks_the_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # the engine reads no environment: the worker passes its setting as `fast`
    _, x, y, cfg = _job("sgd")
    fast, plain = train(x, y, cfg, ListReporter(), fast=True), train(x, y, cfg, ListReporter(), fast=False)
    assert _numbers(fast) != _numbers(plain)  # the paths differ in their last bits
    monkeypatch.setenv("DESCENT_FAST_PATHS", "0")
    assert _numbers(train(x, y, cfg, ListReporter())) == _numbers(fast)  # fast=True by default
    monkeypatch.setenv("DESCENT_FAST_PATHS", "1")
    assert _numbers(train(x, y, cfg, ListReporter(), fast=False)) == _numbers(plain)


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


def _numbers(out: Any) -> dict[str, Any]:
    return out.to_result() | {"seconds": None, "metrics": out.metrics, "lr": out.lr}


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


@pytest.mark.parametrize("optimizer", [{"type": "gd", "lr": 3.0}, {"type": "sgd", "lr": 2.0}])
def test_divergence_is_caught_at_the_plain_loops_step(optimizer: dict[str, Any]) -> None:
    x, y = linear_data(40, [3.0, -2.0], 1.0, 0.1)
    cfg = config(optimizer, epochs=200, standardize=False, tolerance=0.0)
    errors = []
    histories = []
    for fast in (False, True):
        reporter = ListReporter()
        with pytest.raises(Diverged) as caught:
            train(x, y, cfg, reporter, fast=fast)
        errors.append(caught.value)
        histories.append(reporter.train["step"])
    plain, fast_error = errors
    assert (fast_error.epoch, fast_error.step) == (plain.epoch, plain.step)
    assert histories[0] == histories[1]


def test_cancel_through_batched_ticks_stops_at_a_chunk() -> None:
    _, x, y, cfg = _job("sgd")
    reporter = ListReporter(signals={3: Signal.CANCEL}, batched_ticks=True)
    with pytest.raises(Exception, match="cancelled"):
        train(x, y, cfg, reporter, fast=True)
    assert reporter.ticks == 3


def test_the_direct_fused_adam_step_is_torch_optims_step() -> None:
    import torch

    from worker.engine.dense import DenseStep
    from worker.engine.models import MLP as Net

    def net() -> Net:
        return Net(3, (5, 4), "relu", 1, False, True, torch.Generator().manual_seed(1))

    a, b = net(), net()
    opt_a = torch.optim.Adam(a.parameters(), lr=0.01, betas=(0.8, 0.99), fused=True)
    opt_b = torch.optim.Adam(b.parameters(), lr=0.01, betas=(0.8, 0.99), fused=True)
    step = DenseStep(b, opt_b)
    assert step.direct_adam
    rng = torch.Generator().manual_seed(2)
    for _ in range(5):
        grads = [torch.randn(p.shape, generator=rng) for p in a.parameters()]
        for p, q, g in zip(a.parameters(), b.parameters(), grads, strict=True):
            p.grad, q.grad = g.clone(), g.clone()
        opt_a.step()
        step._step()
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        for key in ("step", "exp_avg", "exp_avg_sq"):
            assert torch.equal(opt_a.state[p][key], opt_b.state[q][key])


@pytest.mark.parametrize("dense", [True, False], ids=["dense", "autograd"])
def test_gathered_batches_are_the_permuted_copys_batches(dense: bool) -> None:
    # a big run gathers each batch's rows through the permutation instead of permuting a copy
    # (updates.SMALL_DATA_CELLS): the same rows in the same order, so the same numbers bit for bit
    import torch

    from worker.engine.models import MLP as Net
    from worker.engine.updates import TorchUpdates

    x, y = (torch.from_numpy(a) for a in _sine(100))
    runs = []
    for gather in (False, True):
        net = Net(3, (5, 4), "tanh", 1, False, True, torch.Generator().manual_seed(1))
        optimizer = torch.optim.Adam(net.parameters(), lr=0.01, fused=dense)
        updates = TorchUpdates(x, y, 16, dense, torch.nn.functional.mse_loss, gather=gather)
        updates.bind(net, optimizer, 0.01)
        shuffler = torch.Generator().manual_seed(2)
        costs = []
        for _ in range(3):
            updates.start_epoch(torch.randperm(100, generator=shuffler))
            costs += [updates.update(batch) for batch in range(7)]
        runs.append((costs, [p.detach().clone() for p in net.parameters()]))
    (costs_a, params_a), (costs_b, params_b) = runs
    assert costs_a == costs_b
    assert all(torch.equal(p, q) for p, q in zip(params_a, params_b, strict=True))
