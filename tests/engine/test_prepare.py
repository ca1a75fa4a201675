"""From a typed table to the engine's input: target rows, the drawn split, the pipeline on train rows."""

from __future__ import annotations

import numpy as np
import pytest

from descent.spec import JobRequest
from tests.support.tables import category, number, table
from worker.engine import InvalidData
from worker.engine.data import split_indices
from worker.prepare import prepare

N = 40
AGE = [None if k % 5 == 0 else float(k) for k in range(N)]
SEX = ["f" if k % 3 else "m" for k in range(N)]
LABEL = [None if k == 7 else ("yes" if k % 4 == 0 else "no") for k in range(N)]
TABLE = table(number("Age", AGE), category("Sex", SEX), category("Label", LABEL), target="Label")


def config(**fields):
    return JobRequest.model_validate({"dataset_id": "d", "optimizer": {"type": "gd"}, **fields}).resolve(100)


def test_rows_without_a_target_are_dropped_and_the_split_is_stratified() -> None:
    cfg = config(loss="bce", split={"dev": 0.25})
    data = prepare(TABLE, cfg)
    labelled = [k for k in range(N) if LABEL[k] is not None]
    assert data.rows_dropped == 1 and data.y.size == N - 1 and data.classes == ["no", "yes"]
    assert np.array_equal(data.y, [1.0 if LABEL[k] == "yes" else 0.0 for k in labelled])
    y = data.y
    expected = split_indices(y.size, cfg.split, cfg.seed, y)
    assert all(np.array_equal(a, b) for a, b in zip(data.rows, expected, strict=True))
    train = np.array(labelled)[data.rows[0]]
    ages = np.array([AGE[k] for k in train if AGE[k] is not None])
    fitted_age = data.fitted["columns"][0]
    assert fitted_age["imputed"] == pytest.approx(ages.mean(), rel=1e-12)  # training rows only
    assert data.feature_names == ["Age", "Sex=f", "Sex=m"]


def test_drop_leaves_rows_with_missing_features_out_of_every_split() -> None:
    cfg = config(loss="bce", split={"dev": 0.25}, features={"impute": "drop"})
    data = prepare(TABLE, cfg)
    missing_age = sum(1 for k in range(N) if AGE[k] is None and LABEL[k] is not None)
    assert data.rows_dropped == 1 + missing_age and data.y.size == data.x.shape[0]
    every = np.sort(np.concatenate(data.rows))
    assert np.array_equal(every, np.arange(data.y.size))  # the kept rows, renumbered
    assert not np.isnan(data.x).any()


def test_a_target_the_loss_cannot_take_fails_the_job_with_why() -> None:
    with pytest.raises(InvalidData, match="loss: mse needs a number target"):
        prepare(TABLE, config())
