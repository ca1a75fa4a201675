"""Fitting on the training rows and encoding: checked against numpy, scikit-learn and pandas."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder

from descent.preprocess import Pipeline, PreprocessError, fit_pipeline
from descent.preprocess.pipeline import INTERLEAVE_ROWS
from tests.support.processes import ROOT
from tests.support.tables import category, datetime, number, table, text

RNG = np.random.default_rng(5)
N = 200
AGE = [None if k % 7 == 0 else float(v) for k, v in enumerate(RNG.integers(1, 80, N))]
FARE = [float(v) for v in RNG.normal(30, 10, N).astype(np.float32)]
SEX = [None if k % 11 == 0 else ("female" if v else "male") for k, v in enumerate(RNG.integers(0, 2, N))]
CITY = [f"c{v}" for v in RNG.zipf(1.6, N) % 30]
TRAIN = np.arange(0, N, 2)  # the even rows train; odd rows are dev rows the statistics must ignore


def titanic(age=AGE, sex=SEX, city=CITY):
    return table(
        text("Name"),
        number("Age", age),
        category("Sex", sex),
        number("Fare", FARE),
        category("City", city),
        category("Survived", ["yes" if k % 3 else "no" for k in range(N)]),
        target="Survived",
    )


def columns(t):
    return {c.name: c for c in t.columns}


def test_a_table_of_numbers_without_missing_cells_encodes_to_its_own_values() -> None:
    values = RNG.normal(size=(50, 3)).astype(np.float32)
    t = table(*(number(f"x{k}", values[:, k]) for k in range(3)), target="x2")
    pipeline = fit_pipeline(t, np.arange(0, 50, 3))
    encoded = pipeline.transform(columns(t), 50)
    assert pipeline.feature_names == ["x0", "x1"] and pipeline.all_numbers
    assert encoded.x.dtype == np.float32 and encoded.x.flags.c_contiguous
    assert np.array_equal(encoded.x, values[:, :2]) and encoded.kept.all() and not encoded.warnings


def test_a_matrix_taller_than_a_band_is_every_encoders_block_side_by_side() -> None:
    """The matrix is filled in bands of INTERLEAVE_ROWS rows: the same as numpy's hstack of the
    encoders' own blocks, across band edges and a last partial band."""
    rows = 2 * INTERLEAVE_ROWS + 1001
    rng = np.random.default_rng(11)
    age = rng.normal(40, 10, rows).astype(np.float32)
    age[rng.uniform(size=rows) < 0.1] = np.nan
    t = table(
        number("plain", rng.normal(size=rows).astype(np.float32)),
        number("age", age),
        category("city", [f"c{v}" for v in rng.integers(0, 6, rows)]),
        number("y", rng.normal(size=rows).astype(np.float32)),
        target="y",
    )
    pipeline = fit_pipeline(t, np.arange(0, rows, 2), missing_indicator=True)
    encoded = pipeline.transform(columns(t), rows)
    blocks = [
        i.encoder.encode(t.column(i.name)) if i.kind == "category" else i.encoder.encode(t.column(i.name).values)
        for i in pipeline.inputs
    ]
    expected = np.hstack([b.x for b in blocks])
    assert pipeline.feature_names[:3] == ["plain", "age", "age_missing"]
    assert encoded.x.flags.c_contiguous and np.array_equal(encoded.x, expected)


@pytest.mark.parametrize("impute", ["mean", "median", "zero"])
def test_imputed_values_are_scikit_learns_on_the_training_rows(impute: str) -> None:
    t = titanic()
    pipeline = fit_pipeline(t, TRAIN, include=["Age", "Fare"], impute=impute)
    strategy = {"mean": "mean", "median": "median", "zero": "constant"}[impute]
    age = np.array(AGE, dtype=np.float64).reshape(-1, 1)
    reference = SimpleImputer(strategy=strategy, fill_value=0.0).fit(age[TRAIN])
    encoded = pipeline.transform(columns(t), N)
    assert pipeline.to_json()["columns"][0]["imputed"] == pytest.approx(reference.statistics_[0], rel=1e-12)
    expected = reference.transform(age).astype(np.float32)[:, 0]
    assert np.array_equal(encoded.x[:, 0], expected)


def test_one_hot_is_scikit_learns_with_a_missing_cell_as_its_own_category() -> None:
    t = titanic()
    pipeline = fit_pipeline(t, TRAIN, include=["Sex", "City"], max_categories=1000)
    encoded = pipeline.transform(columns(t), N)
    frame = pd.DataFrame({"Sex": [s or "(missing)" for s in SEX], "City": CITY})
    reference = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(frame.iloc[TRAIN])
    expected = reference.transform(frame)
    names = [f"{col}={v}" for col, cats in zip(frame.columns, reference.categories_, strict=True) for v in cats]
    order = [pipeline.feature_names.index(n) for n in names]  # ours: most frequent first
    assert sorted(pipeline.feature_names) == sorted(names)
    assert np.array_equal(encoded.x[:, order], expected.astype(np.float32))


def test_statistics_come_from_the_training_rows_only() -> None:
    """Dev rows with extreme values and new categories move neither means, medians nor categories."""
    extreme_age = [1e30 if k % 2 else v for k, v in enumerate(AGE)]
    new_sex = ["alien" if k % 2 else v for k, v in enumerate(SEX)]
    new_city = [f"dev{k}" if k % 2 else v for k, v in enumerate(CITY)]
    for impute in ("mean", "median"):
        before = fit_pipeline(titanic(), TRAIN, impute=impute).to_json()
        after = fit_pipeline(titanic(extreme_age, new_sex, new_city), TRAIN, impute=impute).to_json()
        assert before == after
    changed = titanic(extreme_age, new_sex, new_city)
    encoded = fit_pipeline(changed, TRAIN).transform(columns(changed), N)
    assert any("alien" in w for w in encoded.warnings)
    odd = encoded.x[1::2]
    sex = [k for k, n in enumerate(fit_pipeline(changed, TRAIN).feature_names) if n.startswith("Sex=")]
    assert not odd[:, sex].any()  # an unseen category is no known category


def test_the_most_frequent_categories_are_kept_and_the_rest_folded() -> None:
    t = table(
        category("c", ["a"] * 5 + ["b"] * 3 + ["c"] * 3 + ["d"] + [None] * 2),
        number("y", range(14)),
        target="y",
    )
    pipeline = fit_pipeline(t, np.arange(14), max_categories=2)
    assert pipeline.feature_names == ["c=a", "c=b", "c=(other)"]  # b before c: ties in label order
    x = pipeline.transform(columns(t), 14).x
    assert x[:, 2].tolist() == [0] * 8 + [1] * 6  # c, d and the missing cells are folded
    assert x.sum(axis=1).tolist() == [1.0] * 14


def test_drop_leaves_out_rows_with_a_missing_number_and_indicators_mark_them() -> None:
    t = titanic()
    dropped = fit_pipeline(t, TRAIN, include=["Age"], impute="drop").transform(columns(t), N)
    assert np.array_equal(~dropped.kept, np.array([a is None for a in AGE]))
    marked = fit_pipeline(t, TRAIN, include=["Age", "Fare"], missing_indicator=True)
    assert marked.feature_names == ["Age", "Age_missing", "Fare"]  # Fare has no missing cell
    x = marked.transform(columns(t), N).x
    assert np.array_equal(x[:, 1], np.array([a is None for a in AGE], dtype=np.float32))


def test_datetime_parts_are_pandas() -> None:
    stamps = ["2020-02-29T13:45:10", None, "1999-12-31T23:59:59", "2024-07-04T00:00:00", "1970-01-01"]
    t = table(datetime("when", stamps), number("y", range(5)), target="y")
    pipeline = fit_pipeline(t, np.arange(5))
    assert pipeline.feature_names == ["when.year", "when.month", "when.day", "when.dayofweek", "when.hour"]
    x = pipeline.transform(columns(t), 5).x
    dt = pd.to_datetime(pd.Series(stamps), format="ISO8601").dt
    for k, part in enumerate(["year", "month", "day", "day_of_week", "hour"]):
        expected = np.array(getattr(dt, part), dtype=np.float64)
        expected[1] = np.nanmean(expected)  # the missing cell takes the mean
        assert np.allclose(x[:, k], expected, rtol=1e-6), part


def test_the_fitted_pipeline_reads_back_from_its_json() -> None:
    t = table(
        category("flag", [True, False, None, True]),
        category("c", ["x", "y", "x", None]),
        datetime("d", ["2020-01-01", None, "2021-06-01", "2022-01-01"]),
        number("n", [1.0, None, 3.0, 4.0]),
        number("y", [0, 1, 0, 1]),
        target="y",
    )
    pipeline = fit_pipeline(t, np.arange(4), missing_indicator=True, max_categories=1)
    doc = json.loads(json.dumps(pipeline.to_json()))
    back = Pipeline.from_json(doc)
    assert back == pipeline and back.to_json() == doc
    assert np.array_equal(back.transform(columns(t), 4).x, pipeline.transform(columns(t), 4).x)
    assert doc["columns"][0]["categories"] == [True]  # a boolean stays a boolean


@pytest.mark.parametrize(
    "options, field, words",
    [
        ({"include": ["Age", "Nope"]}, "features.include", "'Nope'"),
        ({"exclude": ["Nope"]}, "features.exclude", "'Nope'"),
        ({"include": ["Name"]}, "features.include", "text"),
        ({"include": ["Survived"]}, "features.include", "target"),
        ({"include": ["Age"], "exclude": ["Age"]}, "features", "no feature column"),
    ],
)
def test_a_bad_choice_of_columns_is_an_error_naming_it(options, field: str, words: str) -> None:
    with pytest.raises(PreprocessError) as caught:
        fit_pipeline(titanic(), TRAIN, **options)
    assert caught.value.field == field and words in str(caught.value)


def test_the_default_features_are_every_usable_column_but_the_target() -> None:
    pipeline = fit_pipeline(titanic(), TRAIN, exclude=["City"])
    assert [i.name for i in pipeline.inputs] == ["Age", "Sex", "Fare"]  # not Name (text), nor the target


def test_preprocessing_imports_only_numpy() -> None:
    code = (
        "import sys; import descent.preprocess; "
        "print(sorted(m for m in ('torch', 'pandas', 'pyarrow', 'flask') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
