"""Gradient-based optimizers: the torch.optim optimizer and the batch each update sees.

Why a registry: gd, sgd and minibatch are one algorithm (torch.optim.SGD) fed different batches;
momentum and adam will be other torch.optim classes fed minibatches. Each entry says both halves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch

from .config import OptimizerConfig


@dataclass(frozen=True)
class DescentMethod:
    """An optimizer type: the rows per update, and the torch optimizer that applies it."""

    batch_size: Callable[[OptimizerConfig, int], int]
    """(config, training rows) → rows per update; the last batch of an epoch may be smaller."""
    make: Callable[[Iterable[torch.nn.Parameter], OptimizerConfig], torch.optim.Optimizer]


def _plain_sgd(params: Iterable[torch.nn.Parameter], cfg: OptimizerConfig) -> torch.optim.Optimizer:
    """w ← w − lr·∇cost, exactly the course's update."""
    return torch.optim.SGD(params, lr=cfg.lr)


METHODS: dict[str, DescentMethod] = {
    "gd": DescentMethod(batch_size=lambda cfg, n: n, make=_plain_sgd),
    "sgd": DescentMethod(batch_size=lambda cfg, n: 1, make=_plain_sgd),
    "minibatch": DescentMethod(batch_size=lambda cfg, n: min(cfg.batch_size, n), make=_plain_sgd),
}
"""Every optimizer of config.DESCENT_TYPES."""
