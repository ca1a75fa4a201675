"""Gradient-based optimizers: the torch.optim optimizer and the batch each update sees.

Why a registry: gd, sgd and minibatch are one algorithm (torch.optim.SGD) fed different batches;
momentum is torch.optim.SGD with heavy-ball momentum (v ← m·v + g, w ← w − lr·v, v₀ = g₀) and adam
is torch.optim.Adam (eps 1e-8), both fed shuffled minibatches. Each is made with the job's
`weight_decay` (torch.optim's L2: g ← g + weight_decay·w inside step(), 0 by default), and
`clip_gradients` is the job's `clip_norm`, applied between backward and step. Each entry says
both halves; the learning rate is passed in because "auto" is resolved after the model exists.
Each also names the per-parameter state its optimizer keeps, which a checkpoint carries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch

from descent.spec import OptimizerConfig

FOREACH = False
"""torch.optim's multi-tensor (foreach) path or the per-tensor loop, fixed so that runs reproduce.
Measured on this engine's CPU build for batches of 32 (µs per update, loop vs foreach): linear
sgd 157 vs 182, adam 219 vs 254; MLP 10→16→1 adam 285 vs 306; MLP 10→64→64→64→1 adam 574 vs
556, momentum 318 vs 361. Foreach pays only on CUDA or many large tensors, so the loop it is for
the autograd path. The dense updates (dense.py) ask for `fused=True`: one kernel updates every
parameter (Adam on an MLP 10→64→64→1: ~65 µs a step against ~220 µs for the loop), with the same
state keys, so checkpoints keep their format."""


@dataclass(frozen=True)
class DescentMethod:
    """An optimizer type: the rows per update, and the torch optimizer that applies it."""

    batch_size: Callable[[OptimizerConfig, int], int]
    """(config, training rows) → rows per update; the last batch of an epoch may be smaller."""
    make: Callable[..., torch.optim.Optimizer]
    """(parameters, config, learning rate, fused=False) → the optimizer; `fused` picks torch's
    fused CPU kernel instead of the per-tensor loop."""
    state_keys: Callable[[OptimizerConfig], frozenset[str]]
    """config → the keys of the optimizer's state of a parameter once it has been updated (its
    `state_dict()["state"][i]`): all tensors, which checkpoint.py stores and checks."""


def _kernel(fused: bool) -> dict[str, bool]:
    return {"fused": True} if fused else {"foreach": FOREACH}


def clip_gradients(parameters: list[torch.nn.Parameter], clip_norm: float | None) -> None:
    """`optimizer.clip_norm`: scale the gradients so that their total 2-norm is at most clip_norm,
    by torch.nn.utils.clip_grad_norm_ itself (None: nothing)."""
    if clip_norm is not None:
        torch.nn.utils.clip_grad_norm_(parameters, clip_norm)


def _plain_sgd(
    params: Iterable[torch.nn.Parameter], cfg: OptimizerConfig, lr: float, fused: bool = False
) -> torch.optim.Optimizer:
    """w ← w − lr·∇cost, exactly the course's update."""
    return torch.optim.SGD(params, lr=lr, weight_decay=cfg.weight_decay, **_kernel(fused))


def _momentum(
    params: Iterable[torch.nn.Parameter], cfg: OptimizerConfig, lr: float, fused: bool = False
) -> torch.optim.Optimizer:
    """Heavy ball as torch.optim.SGD defines it (dampening 0, not Nesterov)."""
    return torch.optim.SGD(
        params, lr=lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, **_kernel(fused)
    )


def _adam(
    params: Iterable[torch.nn.Parameter], cfg: OptimizerConfig, lr: float, fused: bool = False
) -> torch.optim.Optimizer:
    return torch.optim.Adam(
        params, lr=lr, betas=tuple(cfg.betas), weight_decay=cfg.weight_decay, **_kernel(fused)
    )


def _no_state(cfg: OptimizerConfig) -> frozenset[str]:
    return frozenset()


def _momentum_state(cfg: OptimizerConfig) -> frozenset[str]:
    """torch.optim.SGD keeps a buffer only when momentum is not 0."""
    return frozenset({"momentum_buffer"}) if cfg.momentum != 0 else frozenset()


def _adam_state(cfg: OptimizerConfig) -> frozenset[str]:
    """`step` is a 0-d float32 tensor (not capturable, not fused), the moments float32 like the parameter."""
    return frozenset({"step", "exp_avg", "exp_avg_sq"})


def _whole(cfg: OptimizerConfig, rows: int) -> int:
    return rows


def _single(cfg: OptimizerConfig, rows: int) -> int:
    return 1


def _batched(cfg: OptimizerConfig, rows: int) -> int:
    return min(cfg.batch_size, rows)


METHODS: dict[str, DescentMethod] = {
    "gd": DescentMethod(batch_size=_whole, make=_plain_sgd, state_keys=_no_state),
    "sgd": DescentMethod(batch_size=_single, make=_plain_sgd, state_keys=_no_state),
    "minibatch": DescentMethod(batch_size=_batched, make=_plain_sgd, state_keys=_no_state),
    "momentum": DescentMethod(batch_size=_batched, make=_momentum, state_keys=_momentum_state),
    "adam": DescentMethod(batch_size=_batched, make=_adam, state_keys=_adam_state),
}
"""Every optimizer of descent.spec.GRADIENT_TYPES."""
