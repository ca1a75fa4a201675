"""worker/engine/metrics.py against sklearn.metrics on the same predictions, and its edge cases.

Every float equals scikit-learn's to 1e-9 relative and every count exactly (tests/support/metrics.py
holds the reference); where scikit-learn has a choice the module's docstring names it: zero_division=0,
a null ROC AUC for one class, probabilities clipped to [eps, 1 − eps] for the log loss.
"""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from descent.predict import softmax
from tests.support.metrics import KEYS, assert_metrics_match, reference
from worker.engine.metrics import (
    binary_metrics,
    confusion_matrix,
    log_loss,
    multiclass_metrics,
    regression_metrics,
    regression_numbers,
    roc_auc,
)

MODULE = Path(__file__).resolve().parents[2] / "worker" / "engine" / "metrics.py"
EPS = float(np.finfo(np.float64).eps)
TIES = [0.0, 1e-300, 0.25, 0.5, 0.5 - 1e-17, 0.75, 1.0 - 1e-17, 1.0]
"""Probabilities that tie, sit on the threshold, or need clipping."""


def test_regression_equals_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(1000.0, 50.0, 500)  # far from zero: a naive sum of squares would lose digits
    pred = y + rng.normal(3.0, 20.0, 500)
    ours = regression_metrics(y.astype(np.float32), pred)
    assert set(ours) == KEYS["regression"]
    assert_metrics_match(ours, reference("mse", y.astype(np.float32), pred), "regression")


def test_the_results_r2_is_the_metrics_r2_unrounded() -> None:
    """The result's `r2` fields come from the same residual as the split's metrics (one pass):
    equal where finite, and the raw value where the metrics say null."""
    rng = np.random.default_rng(3)
    y = rng.normal(size=1000).astype(np.float32)
    pred = y + rng.normal(0.0, 0.3, 1000)
    r2, scores = regression_numbers(y, pred)
    assert r2 == scores["r2"] == regression_metrics(y, pred)["r2"]
    assert r2 == pytest.approx(reference("mse", y, pred)["r2"], rel=1e-9)
    with np.errstate(over="ignore", invalid="ignore"):
        wild, scores = regression_numbers(np.array([1.0, 2.0, 3.0]), np.array([1e200, -1e200, 3.0]))
    assert math.isinf(wild) and scores["r2"] is None


@pytest.mark.parametrize("fitted", [True, False])
def test_a_constant_target_gives_r2_as_scikit_learn(fitted: bool) -> None:
    y = np.full(5, 3.0)
    pred = y if fitted else y + np.array([0.0, 0.1, 0.0, 0.0, 0.0])
    ours = regression_metrics(y, pred)
    assert ours["r2"] == (1.0 if fitted else 0.0)
    assert_metrics_match(ours, reference("mse", y, pred), "constant target")


def test_binary_equals_scikit_learn_with_ties_and_saturated_probabilities() -> None:
    rng = np.random.default_rng(1)
    p = np.concatenate([rng.uniform(size=300), rng.choice(TIES, 100)])
    y = (rng.uniform(size=p.size) < p).astype(np.float32)
    predicted = np.where(p >= 0.5, 1.0, 0.0)
    ours = binary_metrics(y, predicted, p)
    assert set(ours) == KEYS["bce"]
    assert_metrics_match(ours, reference("bce", y, predicted, p, [0.0, 1.0]), "binary")
    assert 0.0 < ours["roc_auc"] < 1.0


def test_multiclass_equals_scikit_learn_with_four_classes() -> None:
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(400, 4)) * 3
    y = np.argmax(logits + rng.normal(size=logits.shape) * 2, axis=1).astype(np.float32)
    proba = softmax(logits)
    predicted = np.argmax(logits, axis=1).astype(np.float64)
    ours = multiclass_metrics(y, predicted, proba)
    assert set(ours) == KEYS["cross_entropy"]
    assert_metrics_match(
        ours, reference("cross_entropy", y, predicted, proba, [0.0, 1.0, 2.0, 3.0]), "multiclass"
    )
    assert np.asarray(ours["confusion_matrix"]).shape == (4, 4)


@settings(max_examples=150, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(st.integers(0, 1), st.one_of(st.sampled_from(TIES), st.floats(0.0, 1.0))),
        min_size=1,
        max_size=30,
    )
)
def test_binary_equals_scikit_learn_on_any_split(pairs: list[tuple[int, float]]) -> None:
    """Any small split: one class, no positive prediction, every row a tie — still scikit-learn's."""
    y = np.array([t for t, _ in pairs], dtype=np.float32)
    p = np.array([q for _, q in pairs])
    predicted = np.where(p >= 0.5, 1.0, 0.0)
    assert_metrics_match(
        binary_metrics(y, predicted, p), reference("bce", y, predicted, p, [0.0, 1.0]), "any"
    )


@settings(max_examples=150, deadline=None)
@given(
    k=st.integers(3, 5),
    rows=st.lists(
        st.tuples(st.integers(0, 4), st.lists(st.floats(-40, 40), min_size=5, max_size=5)),
        min_size=1,
        max_size=30,
    ),
)
def test_multiclass_equals_scikit_learn_on_any_split(k: int, rows: list[tuple[int, list[float]]]) -> None:
    """Classes absent from the targets, the predictions or both; saturated softmax rows."""
    y = np.array([t % k for t, _ in rows], dtype=np.float32)
    logits = np.array([z[:k] for _, z in rows])
    proba = softmax(logits)
    predicted = np.argmax(logits, axis=1).astype(np.float64)
    classes = [float(c) for c in range(k)]
    ours = multiclass_metrics(y, predicted, proba)
    assert_metrics_match(ours, reference("cross_entropy", y, predicted, proba, classes), "any")


def test_roc_auc_is_null_on_a_split_of_one_class() -> None:
    for label in (0.0, 1.0):
        y = np.full(4, label)
        assert roc_auc(y, np.array([0.1, 0.4, 0.6, 0.9])) is None
        assert (
            binary_metrics(y, np.array([0.0, 0.0, 1.0, 1.0]), np.array([0.1, 0.4, 0.6, 0.9]))["roc_auc"]
            is None
        )


def test_roc_auc_counts_ties_as_one_half() -> None:
    # positives at 0.9 and 0.5, negatives at 0.5 and 0.1: 3 pairs ordered, 1 tied → 3.5 / 4
    assert roc_auc(np.array([1, 1, 0, 0]), np.array([0.9, 0.5, 0.5, 0.1])) == 0.875


def test_undefined_precision_recall_and_f1_are_zero_not_nan() -> None:
    nothing_predicted = binary_metrics(np.array([1.0, 0.0]), np.array([0.0, 0.0]), np.array([0.2, 0.1]))
    assert nothing_predicted["precision"] == 0.0 and nothing_predicted["recall"] == 0.0
    assert nothing_predicted["f1"] == 0.0
    no_positive_row = binary_metrics(np.array([0.0, 0.0]), np.array([1.0, 0.0]), np.array([0.7, 0.1]))
    assert no_positive_row["recall"] == 0.0 and no_positive_row["precision"] == 0.0
    neither = binary_metrics(np.array([0.0, 0.0]), np.array([0.0, 0.0]), np.array([0.2, 0.1]))
    assert (neither["precision"], neither["recall"], neither["f1"]) == (0.0, 0.0, 0.0)
    assert neither["accuracy"] == 1.0 and neither["confusion_matrix"] == [[2, 0], [0, 0]]
    for scores in (nothing_predicted, no_positive_row, neither):
        assert all(
            isinstance(v, float) and math.isfinite(v)
            for k, v in scores.items()
            if k in ("precision", "recall", "f1")
        )


def test_log_loss_clips_certain_mistakes_to_eps() -> None:
    # a positive row given probability 0 and a negative row given 1: each costs −log(eps), not infinity
    assert log_loss(np.array([1, 0]), np.array([0.0, 1.0])) == pytest.approx(-math.log(EPS), rel=1e-12)
    assert log_loss(np.array([1, 0]), np.array([1.0, 0.0])) == pytest.approx(-math.log1p(-EPS), rel=1e-12)
    proba = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert log_loss(np.array([1, 2]), proba) == pytest.approx(
        -(math.log(EPS) + math.log1p(-EPS)) / 2, rel=1e-12
    )


def test_macro_f1_averages_the_classes_the_split_has() -> None:
    # class 1 is neither a target nor a prediction here: it does not count as an F1 of 0
    y = np.array([0.0, 0.0, 2.0, 2.0])
    predicted = np.array([0.0, 2.0, 2.0, 2.0])
    proba = np.full((4, 3), 1 / 3)
    ours = multiclass_metrics(y, predicted, proba)
    assert ours["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2, rel=1e-12)
    assert ours["confusion_matrix"] == [[1, 0, 1], [0, 0, 0], [0, 0, 2]]


def test_the_confusion_matrix_is_k_by_k_in_class_order_with_int_counts() -> None:
    matrix = confusion_matrix(np.array([2.0, 2.0, 0.0]), np.array([2.0, 0.0, 0.0]), 4)
    assert matrix == [[1, 0, 0, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]
    assert all(type(c) is int for row in matrix for c in row)


def test_every_value_is_a_plain_json_number_and_overflow_is_null() -> None:
    y = np.array([1.0, 2.0, 3.0])
    wild = regression_metrics(y, np.array([1e200, -1e200, 3.0]))  # squares overflow to infinity
    assert wild["mse"] is None and wild["rmse"] is None and wild["mae"] == pytest.approx(2e200 / 3)
    assert wild["r2"] is None
    binary = binary_metrics(np.array([0.0, 1.0]), np.array([0.0, 1.0]), np.array([0.3, 0.8]))
    multi = multiclass_metrics(np.array([0.0, 2.0]), np.array([0.0, 1.0]), softmax(np.eye(3)[:2]))
    for scores in (wild, binary, multi, regression_metrics(y, y)):
        assert json.loads(json.dumps(scores, allow_nan=False)) == scores


def test_inputs_that_do_not_fit_are_refused() -> None:
    with pytest.raises(ValueError, match=r"0\.\.1"):
        binary_metrics(np.array([0.0, 2.0]), np.array([0.0, 1.0]), np.array([0.1, 0.9]))
    with pytest.raises(ValueError, match="whole numbers"):
        multiclass_metrics(np.array([0.5, 1.0]), np.array([0.0, 1.0]), np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match="rows"):
        regression_metrics(np.array([1.0, 2.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="without rows"):
        regression_metrics(np.array([]), np.array([]))


def test_the_module_needs_numpy_alone() -> None:
    """No torch and no scikit-learn at run time: the module imports numpy and the standard library."""
    tree = ast.parse(MODULE.read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {
        (node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    }
    assert imported == {"__future__", "math", "typing", "numpy"}
