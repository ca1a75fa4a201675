"""The evaluation metrics of a finished job, per split (API.md "Evaluation"): numpy only, float64.

Why here and written out: the result reports them for every split of every job, from the same
float64 outputs the final losses are measured on (result.py), and a user checks them against
scikit-learn.metrics on the predictions `/predict` gives — so each function follows scikit-learn's
definition, edge cases included, without making scikit-learn (or torch) a run-time dependency.

Inputs are the true targets as the engine holds them (a regression target; class indices 0..K-1 in
`result.classes` order, 1 the positive class for bce), the predicted classes (descent.predict.classify:
P ≥ 0.5 for bce, the largest logit for cross_entropy) and the probabilities (P(y = 1) per row for bce,
an (n, K) softmax for cross_entropy).

Decisions where a metric is undefined or scikit-learn has options:
- precision, recall and F1 whose denominator is 0 are 0.0, never NaN (scikit-learn's
  `zero_division=0`): no positive prediction gives precision 0, no positive row gives recall 0.
- ROC AUC is null on a split whose rows are all of one class (scikit-learn warns and gives NaN). It
  ranks rows by the probability, as scikit-learn does on `/predict`'s probabilities: rows whose
  probabilities are equal (two saturated at 1.0, say) are ties and count one half.
- log_loss clips each probability to [eps, 1 − eps] (eps of float64) and does not renormalize the
  row after the clip, as scikit-learn does (checked against 1.9's source and in the tests); a bce row
  contributes −log p or −log(1 − p) of its own probability, not torch's logit form of result.*_loss.
- macro F1 averages the per-class F1 over the classes that occur in the split's targets or
  predictions (scikit-learn's default `labels`): a class absent from a small dev split does not
  count as a 0.
- confusion_matrix is K × K for the model's K classes (2 for bce) whatever a split holds: row i is
  the true class i, column j the predicted class j, as plain ints.
- A value that overflowed (an infinite mse of a wild fit) is null: every value is a plain JSON number.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Metrics = dict[str, Any]
"""One split's metrics: names to plain floats (or None), and `confusion_matrix` as lists of ints."""


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> Metrics:
    """mse, rmse, mae and r2 of predictions `pred` against targets `y`."""
    return regression_numbers(y, pred)[1]


def regression_numbers(y: np.ndarray, pred: np.ndarray) -> tuple[float, Metrics]:
    """(r2 unrounded, for the result's `r2` fields; `regression_metrics`) from one residual and one
    scratch array.

    Why: a job's result reports both for every split; computed apart they converted and subtracted
    the split twice and made six temporaries of its length (800k rows: 6.4 MB each). The same
    element-wise operations in the same order give the same bits."""
    y64, pred64 = _vector(y), _vector(pred)
    _same_rows(y64, pred64)
    with np.errstate(over="ignore", invalid="ignore"):  # a wild fit's overflow is reported as null
        diff = pred64 - y64
        scratch = np.multiply(diff, diff)
        mse = float(np.mean(scratch))
        mae = float(np.mean(np.abs(diff, out=scratch)))
        r2 = _r2(y64, diff, scratch)
    return r2, {
        "mse": _number(mse),
        "rmse": _number(math.sqrt(mse)),
        "mae": _number(mae),
        "r2": _number(r2),
    }


def binary_metrics(y: np.ndarray, predicted: np.ndarray, probability: np.ndarray) -> Metrics:
    """bce: accuracy, log_loss, roc_auc, precision, recall, f1 of class 1, confusion_matrix (2 × 2)."""
    truth, guess = _classes(y, 2), _classes(predicted, 2)
    p = _vector(probability)
    _same_rows(truth, guess, p)
    matrix = confusion_matrix(truth, guess, 2)
    (_, fp), (fn, tp) = matrix
    return {
        "accuracy": accuracy(truth, guess),
        "log_loss": _number(log_loss(truth, p)),
        "roc_auc": roc_auc(truth, p),
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "confusion_matrix": matrix,
    }


def multiclass_metrics(y: np.ndarray, predicted: np.ndarray, probability: np.ndarray) -> Metrics:
    """cross_entropy: accuracy, log_loss, macro_f1, confusion_matrix (K × K, K = probability's columns)."""
    proba = np.asarray(probability, dtype=np.float64)
    if proba.ndim != 2:
        raise ValueError(f"probability must be (rows, K) class probabilities, got shape {proba.shape}")
    k = proba.shape[1]
    truth, guess = _classes(y, k), _classes(predicted, k)
    _same_rows(truth, guess, proba)
    matrix = confusion_matrix(truth, guess, k)
    return {
        "accuracy": accuracy(truth, guess),
        "log_loss": _number(log_loss(truth, proba)),
        "macro_f1": macro_f1(np.asarray(matrix, dtype=np.int64)),
        "confusion_matrix": matrix,
    }


def accuracy(y: np.ndarray, predicted: np.ndarray) -> float:
    """The fraction of rows whose predicted class is the target."""
    return float(np.mean(np.asarray(predicted, dtype=np.float64) == np.asarray(y, dtype=np.float64)))


def _r2(y64: np.ndarray, resid: np.ndarray, scratch: np.ndarray) -> float:
    """1 − SSE/SST from the float64 targets and the residual (pred − y); a constant target gives 1.0
    if fitted exactly, else 0.0 (as scikit-learn). `scratch`: an array of their length the centred
    targets may be written into."""
    sse = float(np.dot(resid, resid))
    centered = np.subtract(y64, y64.mean(), out=scratch)
    sst = float(np.dot(centered, centered))
    if sst == 0.0:
        return 1.0 if sse == 0.0 else 0.0
    return 1.0 - sse / sst


def log_loss(y: np.ndarray, probability: np.ndarray) -> float:
    """Mean −log of the probability given to each row's class, each probability clipped to
    [eps, 1 − eps]. `probability`: P(y = 1) per row (two classes) or (n, K) class probabilities."""
    truth = np.asarray(y).astype(np.int64)
    proba = np.asarray(probability, dtype=np.float64)
    eps = np.finfo(np.float64).eps
    if proba.ndim == 1:  # as scikit-learn: the columns [1 − p, p], each clipped
        picked = np.where(truth == 1, proba, 1.0 - proba)
    else:
        picked = proba[np.arange(truth.size), truth]
    return float(-np.mean(np.log(np.clip(picked, eps, 1.0 - eps))))


def roc_auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve of `score` for class 1 (None when a class is missing).

    Computed as the Mann-Whitney statistic: the fraction of (positive, negative) pairs the score
    orders correctly, a tie counting one half — what scikit-learn's trapezoids under the ROC curve
    give. Counted in int64 (twice the statistic), so one division is the only rounding.
    """
    truth = np.asarray(y).astype(np.int64)
    s = np.asarray(score, dtype=np.float64)
    positives = int(np.count_nonzero(truth == 1))
    negatives = truth.size - positives
    if positives == 0 or negatives == 0:
        return None
    order = np.argsort(s, kind="stable")
    ranked, positive = s[order], truth[order] == 1
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])  # groups of equal scores
    pos = np.add.reduceat(positive.astype(np.int64), starts)
    neg = np.diff(np.r_[starts, truth.size]) - pos
    below = np.cumsum(neg) - neg  # negatives scored strictly below each group
    twice = int(np.dot(pos, 2 * below + neg))
    return _number(twice / (2 * positives * negatives))


def macro_f1(matrix: np.ndarray) -> float:
    """The mean F1 of the classes that occur as a target or a prediction (its row or column of the
    confusion matrix is not all zero); F1 = 2·tp / (2·tp + fp + fn)."""
    tp = np.diag(matrix)
    true_sum, pred_sum = matrix.sum(axis=1), matrix.sum(axis=0)
    present = (true_sum + pred_sum) > 0
    if not present.any():
        return 0.0
    f1 = 2.0 * tp[present] / (true_sum[present] + pred_sum[present])
    return float(np.mean(f1))


def confusion_matrix(y: np.ndarray, predicted: np.ndarray, k: int) -> list[list[int]]:
    """K × K counts: row i the rows of true class i, column j those predicted as class j."""
    truth, guess = _classes(y, k), _classes(predicted, k)
    counts = np.bincount(truth * k + guess, minlength=k * k).reshape(k, k)
    return [[int(c) for c in row] for row in counts]


# -- helpers -------------------------------------------------------------------------------------------
def _vector(a: np.ndarray) -> np.ndarray:
    """A 1-D float64 array (a float32 target converts exactly)."""
    out = np.asarray(a, dtype=np.float64)
    if out.ndim != 1:
        raise ValueError(f"expected one value per row, got shape {out.shape}")
    return out


def _classes(a: np.ndarray, k: int) -> np.ndarray:
    """Class indices as int64; ValueError unless each is a whole number in 0..k-1."""
    values = _vector(a)
    index = values.astype(np.int64)
    if values.size and (not np.all(index == values) or index.min() < 0 or index.max() >= k):
        raise ValueError(f"class indices must be whole numbers 0..{k - 1}")
    return index


def _same_rows(*arrays: np.ndarray) -> None:
    rows = {a.shape[0] for a in arrays}
    if len(rows) != 1:
        raise ValueError(f"every array needs one entry per row; got {sorted(rows)} rows")
    if rows == {0}:
        raise ValueError("a split without rows has no metrics")


def _ratio(numerator: int, denominator: int) -> float:
    """numerator / denominator, or 0.0 where the denominator is 0 (zero_division=0)."""
    return float(numerator / denominator) if denominator else 0.0


def _number(value: float) -> float | None:
    """A plain float, or None where it is not finite (JSON has no NaN or infinity)."""
    return float(value) if math.isfinite(value) else None
