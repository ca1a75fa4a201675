"""Losses: the torch function training differentiates, and the float64 one results are measured with.

Why both: training runs in float32 torch on (maybe standardized) data; the reported losses are in
the dataset's original units, and the final ones are float64 numpy on raw data, so a client can
recompute them from the reported parameters.

Units. A regression target is standardized, y' = (y − ȳ)/s, so a residual in training space is
r' = r/s. For mse and mae the original-units loss is exactly s²·mse(r') and s·mae(r'). Huber is
not homogeneous, but huber_δ(s·r') = s²·huber_{δ/s}(r') holds exactly (both branches), so training
uses delta δ/s on the standardized target and reports s² times its value: `delta` (1.0) is in the
target's ORIGINAL units — the same loss torch.nn.functional.huber_loss gives on raw data — and the
optimum does not depend on `standardize`. Classification targets (bce, cross_entropy) are never
standardized, so their factor is 1. Every history and epoch cost is the training loss times that
factor: the loss in original units of the parameters at that point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .errors import InvalidData

HUBER_DELTA = 1.0
"""Huber's threshold between the quadratic and the linear branch, in the target's original units."""

TrainLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class LossSpec:
    """One loss: the training function, the measuring function, units, and what targets it takes."""

    name: str
    training: Callable[[float], TrainLoss]
    """y_scale → mean loss of a batch in training space, differentiable (outputs, targets)."""
    measure: Callable[[np.ndarray, np.ndarray], float]
    """Mean loss in float64 numpy of raw model outputs against raw targets."""
    to_original: Callable[[float], float]
    """y_scale → factor that turns a training-space loss into original units."""
    curvature: float | None
    """c with ∇²loss ≤ c·xxᵀ per sample for a linear model in training space (see lr_auto.py);
    None for a loss without bounded curvature (mae)."""

    @property
    def regression(self) -> bool:
        """True: the target is real-valued, standardized with the features, and r2 is reported."""
        return self.name not in ("bce", "cross_entropy")

    @property
    def multiclass(self) -> bool:
        """True: the model has one output per class and the targets are class indices."""
        return self.name == "cross_entropy"

    def outputs(self, y: np.ndarray) -> int:
        """The model's number of outputs for targets `y` (all rows); InvalidData if they do not fit."""
        if self.name == "bce":
            bad = np.flatnonzero((y != 0) & (y != 1))
            if bad.size:
                raise InvalidData(
                    f"loss bce needs targets 0 or 1, but {bad.size} of {y.size} rows have other values "
                    f"(the first is row {bad[0]}, 0-based, with {float(y[bad[0]]):g}); "
                    "use a regression loss, or recode the target as 0/1"
                )
        if self.name == "cross_entropy":
            bad = np.flatnonzero((y < 0) | (y != np.floor(y)))
            if bad.size:
                raise InvalidData(
                    f"loss cross_entropy needs integer class targets 0, 1, …, K−1, but {bad.size} of "
                    f"{y.size} rows are not non-negative integers (the first is row {bad[0]}, 0-based, "
                    f"with {float(y[bad[0]]):g}); recode the classes as 0..K−1"
                )
            return int(y.max()) + 1
        return 1

    def targets(self, y: np.ndarray) -> torch.Tensor:
        """The training-space target tensor: class indices (int64) for cross_entropy, else float."""
        if self.multiclass:
            return torch.from_numpy(y.astype(np.int64))
        return torch.from_numpy(y)


def _mse(out: np.ndarray, y: np.ndarray) -> float:
    diff = out - y.astype(np.float64)
    return float(np.mean(diff * diff))


def _mae(out: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.abs(out - y.astype(np.float64))))


def _huber(out: np.ndarray, y: np.ndarray) -> float:
    a = np.abs(out - y.astype(np.float64))
    d = HUBER_DELTA
    return float(np.mean(np.where(a <= d, 0.5 * a * a, d * (a - 0.5 * d))))


def _bce(out: np.ndarray, y: np.ndarray) -> float:
    """Mean −[y·log σ(z) + (1−y)·log(1−σ(z))], written as torch's stable form."""
    z = out
    return float(np.mean(np.maximum(z, 0.0) - z * y.astype(np.float64) + np.log1p(np.exp(-np.abs(z)))))


def _cross_entropy(out: np.ndarray, y: np.ndarray) -> float:
    """Mean of logsumexp(z) − z_y over the rows of (n, K) logits."""
    z = out.reshape(out.shape[0], -1)
    top = z.max(axis=1)
    lse = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
    picked = z[np.arange(z.shape[0]), y.astype(np.int64)]
    return float(np.mean(lse - picked))


def _huber_training(y_scale: float) -> TrainLoss:
    delta = HUBER_DELTA / y_scale

    def loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.huber_loss(out, y, delta=delta)

    return loss


LOSSES: dict[str, LossSpec] = {
    "mse": LossSpec(
        name="mse",
        training=lambda y_scale: F.mse_loss,
        measure=_mse,
        to_original=lambda y_scale: y_scale * y_scale,
        curvature=2.0,
    ),
    "mae": LossSpec(
        name="mae",
        training=lambda y_scale: F.l1_loss,
        measure=_mae,
        to_original=lambda y_scale: y_scale,
        curvature=None,
    ),
    "huber": LossSpec(
        name="huber",
        training=_huber_training,
        measure=_huber,
        to_original=lambda y_scale: y_scale * y_scale,
        curvature=1.0,
    ),
    "bce": LossSpec(
        name="bce",
        training=lambda y_scale: F.binary_cross_entropy_with_logits,
        measure=_bce,
        to_original=lambda y_scale: 1.0,
        curvature=0.25,
    ),
    "cross_entropy": LossSpec(
        name="cross_entropy",
        training=lambda y_scale: F.cross_entropy,
        measure=_cross_entropy,
        to_original=lambda y_scale: 1.0,
        curvature=0.5,
    ),
}
"""Every loss of descent.spec.LOSSES."""
