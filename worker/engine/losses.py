"""Losses: the torch function training differentiates, and the float64 one results are measured with.

Why both: training runs in float32 torch on (maybe standardized) data; the reported final losses
are float64 numpy on raw data, so a client can recompute them from the reported parameters.
`to_original` turns a loss measured on a standardized target back into original units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class LossSpec:
    """One loss: the training function, the measuring function and how its units scale."""

    train: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    """Mean loss of a batch, differentiable (predictions, targets)."""
    measure: Callable[[np.ndarray, np.ndarray], float]
    """Mean loss in float64 numpy (predictions, targets)."""
    regression: bool
    """True: the target is standardized with the features and r2 is reported."""
    to_original: Callable[[float], float]
    """Factor that turns a loss on a target scaled by `y_scale` into original units."""


def _mse(pred: np.ndarray, y: np.ndarray) -> float:
    diff = pred - y.astype(np.float64)
    return float(np.mean(diff * diff))


LOSSES: dict[str, LossSpec] = {
    "mse": LossSpec(
        train=F.mse_loss,
        measure=_mse,
        regression=True,
        to_original=lambda y_scale: y_scale * y_scale,
    ),
}
"""Every loss of config.LOSS_TYPES."""
