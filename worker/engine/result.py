"""What a finished training run returns, and the final numbers it reports.

Why the final numbers are recomputed: losses seen during training are float32 costs of batches
before each update; the result instead applies the reported original-units parameters to the raw
data of each split in float64, so anyone holding the parameters and the data gets the same cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .data import Part, Splits
from .losses import LossSpec
from .models import Params


@dataclass
class TrainOutput:
    """The outcome of `train()`. Losses and params are in the dataset's original units."""

    outcome: str
    """"converged" | "max_epochs" | "early_stopped" | "searched"."""
    params: dict[str, Any]
    train_loss: float
    dev_loss: float | None
    test_loss: float | None
    r2: float | None
    accuracy: float | None
    epochs_run: int
    steps: int
    seconds: float
    metrics: dict[str, float | int | None]
    log_every: int
    surface: dict[str, Any] | None = None
    """Exhaustive search only: {"axes": {name: [values]}, "cost": float64 array, C order}."""

    def to_result(self) -> dict[str, Any]:
        """The API's `result` object: JSON-ready, plain Python numbers."""
        return {
            "outcome": self.outcome,
            "params": {
                "weights": [float(v) for v in self.params["weights"]],
                "bias": float(self.params["bias"]),
            },
            "train_loss": float(self.train_loss),
            "dev_loss": _opt_float(self.dev_loss),
            "test_loss": _opt_float(self.test_loss),
            "r2": _opt_float(self.r2),
            "accuracy": _opt_float(self.accuracy),
            "epochs_run": int(self.epochs_run),
            "steps": int(self.steps),
            "seconds": float(self.seconds),
        }


@dataclass(frozen=True)
class FinalNumbers:
    """Losses of the final parameters on each split, and the training split's r2."""

    train_loss: float
    dev_loss: float | None
    test_loss: float | None
    r2: float | None
    accuracy: float | None


def measure(params: Params, part: Part | None, loss: LossSpec) -> float | None:
    """The loss of `params` on one split's raw data, float64 (None for an empty split)."""
    if part is None:
        return None
    return loss.measure(params.predict(part.x), part.y)


def final_numbers(params: Params, splits: Splits, loss: LossSpec) -> FinalNumbers:
    """Everything the result reports about the final parameters."""
    pred = params.predict(splits.train.x)
    return FinalNumbers(
        train_loss=loss.measure(pred, splits.train.y),
        dev_loss=measure(params, splits.dev, loss),
        test_loss=measure(params, splits.test, loss),
        r2=r2_score(splits.train.y, pred) if loss.regression else None,
        accuracy=None,
    )


def r2_score(y: np.ndarray, pred: np.ndarray) -> float:
    """1 − SSE/SST; a constant target gives 1.0 if fitted exactly, else 0.0 (as scikit-learn)."""
    y64 = y.astype(np.float64)
    resid = pred - y64
    sse = float(np.dot(resid, resid))
    centered = y64 - y64.mean()
    sst = float(np.dot(centered, centered))
    if sst == 0.0:
        return 1.0 if sse == 0.0 else 0.0
    return 1.0 - sse / sst


def _opt_float(value: float | None) -> float | None:
    return None if value is None else float(value)
