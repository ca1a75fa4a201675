"""The shapes of a result's evaluation metrics (API.md, "Evaluation"): per split, by the job's
task. Apart from schemas.py to keep each module of shapes small; `Result` refers to them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .schema_base import Exact

Fraction = Annotated[float, Field(ge=0, le=1)]
Count = Annotated[int, Field(ge=0)]
ConfusionMatrix = Annotated[
    list[list[Count]],
    Field(
        description="counts, K × K for the K classes (2 for bce) in `result.classes` order: row i the "
        "rows of true class i, column j those predicted as class j"
    ),
]


class RegressionMetrics(Exact):
    """mse, mae and huber jobs: errors of the predictions in the target's units (null where they overflowed)."""

    mse: float | None = Field(ge=0)
    rmse: float | None = Field(ge=0)
    mae: float | None = Field(ge=0)
    r2: float | None = Field(le=1, description="1 − SSE/SST; a constant target: 1 if fitted exactly, else 0")


class BinaryMetrics(Exact):
    """bce: the positive class (`result.classes[1]`) is predicted where its probability is ≥ 0.5."""

    accuracy: Fraction
    log_loss: float | None = Field(
        ge=0, description="probabilities clipped to [eps, 1 − eps] as scikit-learn"
    )
    roc_auc: Fraction | None = Field(
        description="ranked by the probability; null when the split holds one class"
    )
    precision: Fraction = Field(
        description="0 when nothing is predicted positive (scikit-learn's zero_division=0)"
    )
    recall: Fraction = Field(description="0 when the split has no positive row")
    f1: Fraction = Field(
        description="2·tp / (2·tp + fp + fn); 0 when the split has no positive row or prediction"
    )
    confusion_matrix: ConfusionMatrix


class MulticlassMetrics(Exact):
    """cross_entropy: the predicted class is the one of largest probability."""

    accuracy: Fraction
    log_loss: float | None = Field(
        ge=0, description="probabilities clipped to [eps, 1 − eps] as scikit-learn"
    )
    macro_f1: Fraction = Field(
        description="the mean F1 of the classes that occur in the split's targets or predictions"
    )
    confusion_matrix: ConfusionMatrix


SplitMetrics = RegressionMetrics | BinaryMetrics | MulticlassMetrics


class ResultMetrics(Exact):
    """The final parameters evaluated on each split, by the job's task; null for a split with no rows."""

    train: SplitMetrics
    dev: SplitMetrics | None
    test: SplitMetrics | None
