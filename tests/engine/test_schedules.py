"""Regularization and schedules (`optimizer.weight_decay`, `clip_norm`, `schedule`) against PyTorch:
each schedule's rates are torch.optim.lr_scheduler's on the same settings, bit for bit, and a job
with weight decay, clipping and a schedule ends with the parameters of the loop a PyTorch user
writes with torch.optim.SGD/Adam(weight_decay=…), clip_grad_norm_ and the scheduler. Fast and plain
paths against each other: test_fast_paths_agreement.py; resuming mid-schedule:
test_checkpoint_resumed_runs.py and test_fast_paths_resume.py."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
import torch

from descent.spec import CosineSchedule, ExponentialSchedule, PlateauSchedule, Schedule, StepSchedule
from tests.support.engine import config, linear_data, run
from worker.engine.data import SHUFFLE_STREAM, generator
from worker.engine.schedules import LrSchedule

SCHEDULES: dict[str, dict[str, Any]] = {
    "step": {"type": "step", "step_size": 3, "gamma": 0.5},
    "step_default_gamma": {"type": "step", "step_size": 10},
    "exponential": {"type": "exponential", "gamma": 0.95},
    "cosine": {"type": "cosine", "t_max": 100},
    "cosine_periods": {"type": "cosine", "t_max": 7},  # down, up, down again: the chainable form
    "cosine_one_epoch": {"type": "cosine", "t_max": 1},
    "plateau": {"type": "plateau", "factor": 0.5, "patience": 2},
    "plateau_impatient": {"type": "plateau", "factor": 0.3, "patience": 0},
    "plateau_defaults": {"type": "plateau"},
}
_CLASSES = {
    "step": StepSchedule,
    "exponential": ExponentialSchedule,
    "cosine": CosineSchedule,
    "plateau": PlateauSchedule,
}


def _spec(raw: dict[str, Any]) -> Schedule:
    return _CLASSES[raw["type"]].model_validate(raw)


def _torch_scheduler(raw: dict[str, Any], optimizer: torch.optim.Optimizer) -> Any:
    """The torch scheduler a PyTorch user writes for the spec (torch's defaults for the rest)."""
    s = torch.optim.lr_scheduler
    spec = _spec(raw)
    if spec.type == "step":
        return s.StepLR(optimizer, step_size=spec.step_size, gamma=spec.gamma)
    if spec.type == "exponential":
        return s.ExponentialLR(optimizer, gamma=spec.gamma)
    if spec.type == "cosine":
        return s.CosineAnnealingLR(optimizer, T_max=spec.t_max)
    return s.ReduceLROnPlateau(optimizer, factor=spec.factor, patience=spec.patience)


def torch_rates(raw: dict[str, Any], lr: float, dev_losses: list[float]) -> list[float]:
    """Each epoch's rate under torch's scheduler, stepped after every epoch (plateau with that
    epoch's dev loss), one rate per entry of `dev_losses`."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = _torch_scheduler(raw, optimizer)
    rates = []
    for loss in dev_losses:
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if raw["type"] == "plateau":
            scheduler.step(loss)
        else:
            scheduler.step()
    return rates


def _losses(epochs: int) -> list[float]:
    """Dev losses that improve, stall (equal, or better by less than torch's 1e-4 threshold), jump
    and recover: every branch of the plateau rule."""
    rng = np.random.default_rng(3)
    out, value = [], 1.0
    for _ in range(epochs):
        step = rng.choice(["better", "same", "barely", "worse"], p=[0.4, 0.25, 0.15, 0.2])
        value = {"better": value * 0.9, "same": value, "barely": value * (1 - 5e-5), "worse": value * 1.3}[
            step
        ]
        out.append(float(value))
    return out


@pytest.mark.parametrize("name", list(SCHEDULES))
@pytest.mark.parametrize("lr", [0.1, 0.003, 1e-7])
def test_each_schedule_gives_torchs_rates_bit_for_bit(name: str, lr: float) -> None:
    """250 epochs (lr 1e-7: plateau's reductions below eps 1e-8 are skipped, as torch skips them)."""
    losses = _losses(250)
    ours = LrSchedule(_spec(SCHEDULES[name]), lr)
    rates = []
    for loss in losses:
        rates.append(ours.lr)
        ours.step(loss)
    expected = torch_rates(SCHEDULES[name], lr, losses)
    assert rates == expected
    assert len(set(rates)) > 1 or (name.startswith("plateau") and lr == 1e-7)


def test_a_plateau_with_a_nan_dev_loss_counts_a_bad_epoch_as_torch_does() -> None:
    losses = [1.0, math.nan, math.nan, 0.5, math.nan, math.nan, math.nan]
    raw = {"type": "plateau", "factor": 0.5, "patience": 1}
    ours = LrSchedule(_spec(raw), 0.1)
    rates = []
    for loss in losses:
        rates.append(ours.lr)
        ours.step(loss)
    assert rates == torch_rates(raw, 0.1, losses)


@pytest.mark.parametrize("name", ["step", "exponential", "cosine_periods", "plateau_impatient"])
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_the_history_carries_each_epochs_rate(name: str, fast: bool) -> None:
    """Every train point's `lr` is the rate of its epoch: torch's, stepped after each epoch on the
    job's own dev losses (a window straddling epochs takes its last step's)."""
    raw = SCHEDULES[name]
    cfg = config(
        {"type": "minibatch", "lr": 0.05, "batch_size": 8, "schedule": raw},
        epochs=25,
        tolerance=0.0,
        split={"dev": 0.2},
        max_history_points=40,
    )
    out, reporter = run(*linear_data(50, [1.0, -2.0], 0.5, noise=0.5), cfg, fast=fast)
    assert out.epochs_run == 25 and len(reporter.train["lr"]) == len(reporter.train["step"])
    expected = torch_rates(raw, 0.05, reporter.dev["loss"])
    assert reporter.train["lr"] == [expected[e] for e in reporter.train["epoch"]]
    assert len(set(reporter.train["lr"])) > 1
    assert out.lr == 0.05  # the result's `lr` stays the rate the job started with


def test_without_a_schedule_every_point_has_the_jobs_rate() -> None:
    cfg = config({"type": "sgd", "lr": "auto"}, epochs=3)
    out, reporter = run(*linear_data(30, [1.0], 0.0, noise=0.1), cfg)
    assert set(reporter.train["lr"]) == {out.lr}


# -- weight decay and clipping against a hand-written PyTorch loop ----------------------------------

ROWS, BATCH, EPOCHS, SEED = 20, 8, 6, 4  # 3 batches per epoch (8, 8, 4)


def _batches(epoch_rng: torch.Generator) -> list[torch.Tensor]:
    order = torch.randperm(ROWS, generator=epoch_rng)
    return [order[i : i + BATCH] for i in range(0, ROWS, BATCH)]


def _torch_loop(x: np.ndarray, y: np.ndarray, optimizer: dict[str, Any]) -> np.ndarray:
    """pytorch/examples' loop on the linear model (zeros at the start, as the engine's), with the
    engine's shuffle generator: zero_grad, forward, loss, backward, clip_grad_norm_, step; the
    scheduler stepped after each epoch."""
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    w = torch.zeros(x.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    kind, lr, wd = optimizer["type"], optimizer["lr"], optimizer.get("weight_decay", 0.0)
    if kind == "adam":
        opt: torch.optim.Optimizer = torch.optim.Adam([w, b], lr=lr, weight_decay=wd)
    else:
        opt = torch.optim.SGD([w, b], lr=lr, momentum=optimizer.get("momentum", 0.0), weight_decay=wd)
    scheduler = _torch_scheduler(optimizer["schedule"], opt) if optimizer.get("schedule") else None
    shuffler = generator(SEED, SHUFFLE_STREAM)
    for _ in range(EPOCHS):
        for rows in _batches(shuffler):
            opt.zero_grad()
            loss = torch.mean((xt[rows] @ w + b - yt[rows]) ** 2)
            loss.backward()
            if optimizer.get("clip_norm") is not None:
                torch.nn.utils.clip_grad_norm_([w, b], optimizer["clip_norm"])
            opt.step()
        if scheduler is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                scheduler.step()
    return np.r_[w.detach().numpy(), b.detach().numpy()]


@pytest.mark.parametrize(
    "optimizer",
    [
        {"type": "minibatch", "lr": 0.05, "weight_decay": 0.1},
        {"type": "minibatch", "lr": 0.05, "clip_norm": 0.5},
        {"type": "momentum", "lr": 0.02, "momentum": 0.9, "weight_decay": 0.05, "clip_norm": 1.0},
        {"type": "adam", "lr": 0.05, "weight_decay": 0.2},
        {
            "type": "adam",
            "lr": 0.1,
            "clip_norm": 0.3,
            "schedule": {"type": "step", "step_size": 2, "gamma": 0.5},
        },
        {
            "type": "momentum",
            "lr": 0.02,
            "momentum": 0.5,
            "weight_decay": 0.01,
            "clip_norm": 2.0,
            "schedule": {"type": "cosine", "t_max": 4},
        },
        {
            "type": "minibatch",
            "lr": 0.05,
            "weight_decay": 0.1,
            "schedule": {"type": "exponential", "gamma": 0.8},
        },
    ],
    ids=["sgd_wd", "sgd_clip", "momentum_wd_clip", "adam_wd", "adam_clip_step", "momentum_all", "sgd_wd_exp"],
)
@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_weight_decay_and_clipping_are_torch_optims(optimizer: dict[str, Any], fast: bool) -> None:
    x, y = linear_data(ROWS, [1.0, -2.0], 0.5, noise=0.3)
    cfg = config(
        {**optimizer, "batch_size": BATCH}, epochs=EPOCHS, tolerance=0.0, standardize=False, seed=SEED
    )
    out, _ = run(x, y, cfg, fast=fast)
    assert out.steps == EPOCHS * 3
    got = np.r_[out.params["weights"], out.params["bias"]]
    expected = _torch_loop(x, y, optimizer)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # and the options did something: the plain run without them ends elsewhere
    plain = {k: v for k, v in optimizer.items() if k not in ("weight_decay", "clip_norm", "schedule")}
    bare = _torch_loop(x, y, plain)
    assert np.max(np.abs(bare - expected)) > 1e-3
