"""What a finished training run returns, and the final numbers it reports.

Why the final numbers are recomputed: losses seen during training are float32 costs of batches
before each update; the result instead applies the reported original-units parameters to the raw
data of each split in float64 (descent.predict.forward, the function the service predicts with),
so anyone holding the parameters and the data gets the same cost, r2 and accuracy. The same
outputs give each split's evaluation metrics (metrics.py: `result.metrics`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from descent.predict import classify

from .data import Part, Splits
from .losses import LossSpec
from .metrics import Metrics, binary_metrics, multiclass_metrics, regression_numbers
from .models import Params


@dataclass
class TrainOutput:
    """The outcome of `train()`. Losses and params are in the dataset's original units."""

    outcome: str
    """"converged" | "max_epochs" | "early_stopped" | "pruned" | "searched"."""
    params: Any
    """The API's `params` (models.Params.to_json): a dict for linear models, a list of layers for MLPs."""
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
    lr: float | None = None
    """The learning rate training used (the chosen one for "auto"); None for exhaustive search."""
    dev_r2: float | None = None
    test_r2: float | None = None
    dev_accuracy: float | None = None
    test_accuracy: float | None = None
    split_metrics: dict[str, Metrics | None] | None = None
    """The API's `result.metrics`: {"train": {…}, "dev": {…} | None, "test": {…} | None} (metrics.py);
    not the job's live `metrics` above."""

    def to_result(self) -> dict[str, Any]:
        """The API's `result` object: JSON-ready, plain Python numbers.

        Besides the API's keys: dev_r2/test_r2 (regression) and dev_accuracy/test_accuracy
        (classification), null where the split or the measure does not exist, and `metrics`, the
        evaluation of each split.
        """
        result: dict[str, Any] = {
            "outcome": self.outcome,
            "params": _plain(self.params),
            "train_loss": float(self.train_loss),
            "dev_loss": _opt_float(self.dev_loss),
            "test_loss": _opt_float(self.test_loss),
            "r2": _opt_float(self.r2),
            "accuracy": _opt_float(self.accuracy),
            "dev_r2": _opt_float(self.dev_r2),
            "test_r2": _opt_float(self.test_r2),
            "dev_accuracy": _opt_float(self.dev_accuracy),
            "test_accuracy": _opt_float(self.test_accuracy),
            "epochs_run": int(self.epochs_run),
            "steps": int(self.steps),
            "seconds": float(self.seconds),
        }
        if self.split_metrics is not None:
            result["metrics"] = self.split_metrics
        return result


@dataclass(frozen=True)
class PartNumbers:
    """The loss of the final parameters on one split, r2 (regression) or accuracy, and the split's
    evaluation metrics."""

    loss: float
    r2: float | None
    accuracy: float | None
    metrics: Metrics


@dataclass(frozen=True)
class FinalNumbers:
    """Losses of the final parameters on each split, and r2 or accuracy on each."""

    train: PartNumbers
    dev: PartNumbers | None
    test: PartNumbers | None

    def fields(self) -> dict[str, Any]:
        """TrainOutput's keyword arguments for these numbers."""
        dev, test = self.dev, self.test
        return {
            "train_loss": self.train.loss,
            "dev_loss": None if dev is None else dev.loss,
            "test_loss": None if test is None else test.loss,
            "r2": self.train.r2,
            "accuracy": self.train.accuracy,
            "dev_r2": None if dev is None else dev.r2,
            "test_r2": None if test is None else test.r2,
            "dev_accuracy": None if dev is None else dev.accuracy,
            "test_accuracy": None if test is None else test.accuracy,
            "split_metrics": {
                "train": self.train.metrics,
                "dev": None if dev is None else dev.metrics,
                "test": None if test is None else test.metrics,
            },
        }


def evaluate(params: Params, part: Part, loss: LossSpec) -> PartNumbers:
    """Loss, r2/accuracy and the metrics of `params` on one split's raw data, float64."""
    out = params.predict(part.x)
    cost = loss.measure(out, part.y)
    if loss.regression:
        r2, scores = regression_numbers(part.y, out)
        return PartNumbers(cost, r2, None, scores)
    predicted, probability = classify(out, loss.name)
    assert probability is not None  # a classification loss
    scores = (multiclass_metrics if loss.multiclass else binary_metrics)(part.y, predicted, probability)
    return PartNumbers(cost, None, scores["accuracy"], scores)


def measure(params: Params, part: Part | None, loss: LossSpec) -> float | None:
    """The loss of `params` on one split's raw data, float64 (None for an empty split)."""
    if part is None:
        return None
    return loss.measure(params.predict(part.x), part.y)


def final_numbers(params: Params, splits: Splits, loss: LossSpec) -> FinalNumbers:
    """Everything the result reports about the final parameters."""
    return FinalNumbers(
        train=evaluate(params, splits.train, loss),
        dev=None if splits.dev is None else evaluate(params, splits.dev, loss),
        test=None if splits.test is None else evaluate(params, splits.test, loss),
    )


def _plain(value: Any) -> Any:
    """Params as plain JSON: dicts and lists of Python floats."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    return float(value)


def _opt_float(value: float | None) -> float | None:
    return None if value is None else float(value)
