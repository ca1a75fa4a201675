"""Which update path `choose_path()` takes for each option (worker/engine/updates.py), and that the
compiled and dense paths give the autograd loop's numbers within float32 rounding, never bit for bit
(the same updates in another order of float32 operations), and diverge at its step."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.engine import assert_fast_run_is_the_plain_run, config, linear_data
from tests.support.fast_paths import CASES, COMPILED, DENSE, PLAIN
from tests.support.fast_paths import job as _job
from tests.support.fast_paths import numbers as _numbers
from tests.support.fast_paths import sine as _sine
from worker.engine import Diverged, ListReporter, train
from worker.engine.losses import LOSSES
from worker.engine.updates import choose_path


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
