"""Targets of every kind for every loss, and raw predict rows encoded like the table's own rows."""

from __future__ import annotations

import numpy as np
import pytest

from descent.preprocess import (
    PreprocessError,
    columns_from_records,
    columns_from_rows,
    decode,
    encode_target,
    fit_pipeline,
    parse_datetime,
)
from tests.support.tables import category, datetime, number, table, text


def test_bce_takes_two_strings_with_the_second_in_sorted_order_positive() -> None:
    target = category("Survived", ["yes", "no", None, "yes"])
    enc = encode_target(target, "bce")
    assert enc.classes == ("no", "yes") and enc.positive == "yes"
    assert np.array_equal(enc.y, [1, 0, np.nan, 1], equal_nan=True) and enc.y.dtype == np.float32
    flipped = encode_target(target, "bce", positive="no")
    assert flipped.y.tolist()[:2] == [0.0, 1.0] and flipped.classes == ("yes", "no")  # y = 1 is "no"


def test_bce_takes_numbers_and_booleans_as_the_data_had_them() -> None:
    assert encode_target(number("y", [2.0, 5.0, 5.0]), "bce").classes == (2, 5)
    assert encode_target(number("y", [2.0, 5.0, 5.0]), "bce", positive=2).y.tolist() == [1.0, 0.0, 0.0]
    flags = encode_target(category("y", [True, False]), "bce", positive=False)
    assert flags.classes == (True, False) and flags.y.tolist() == [0.0, 1.0]


def test_cross_entropy_classes_are_the_sorted_values_and_decode_back() -> None:
    enc = encode_target(category("c", ["3rd", "1st", "2nd", "1st", None]), "cross_entropy")
    assert enc.classes == ("1st", "2nd", "3rd")
    assert np.array_equal(enc.y, [2, 0, 1, 0, np.nan], equal_nan=True)
    assert decode(enc.classes, np.array([2, 0])) == ["3rd", "1st"]
    assert encode_target(number("k", [0, 1, 5, 1]), "cross_entropy").y.tolist() == [0, 1, 2, 1]


@pytest.mark.parametrize(
    "column, loss, positive, field, words",
    [
        (category("c", ["a", "b", "c"]), "bce", None, "loss", "has 3"),
        (category("c", ["a", "a", None]), "bce", None, "target", "1 distinct"),
        (category("c", ["a", "b"]), "mse", None, "loss", "number target"),
        (text("Name"), "cross_entropy", None, "target", "text"),
        (category("c", ["a", "b"]), "bce", "z", "positive", "'z' is not a value"),
    ],
)
def test_a_target_that_does_not_fit_its_loss_is_an_error(column, loss, positive, field, words) -> None:
    with pytest.raises(PreprocessError) as caught:
        encode_target(column, loss, positive)
    assert caught.value.field == field and words in str(caught.value)


TABLE = table(
    number("Age", [22.0, None, 40.0, 31.0]),
    category("Sex", ["male", "female", None, "female"]),
    category("Class", ["1", "3", "3", "2"]),
    datetime("Boarded", ["2020-01-02", "2020-01-03T10:00:00", None, "2020-02-01"]),
    number("y", [0, 1, 0, 1]),
    target="y",
)


def test_raw_rows_encode_like_the_same_rows_of_the_table() -> None:
    pipeline = fit_pipeline(TABLE, np.arange(4), missing_indicator=True)
    from_table = pipeline.transform({c.name: c for c in TABLE.columns}, 4).x
    records = [
        {"Sex": "male", "Age": 22, "Class": 1, "Boarded": "2020-01-02", "y": 0, "Id": 7},
        {"Boarded": "2020-01-03T10:00:00Z", "Class": "3", "Sex": " female ", "Age": None},
        {"Age": 40.0, "Class": 3, "Sex": None},  # Boarded: a missing key
        {"Age": "31", "Sex": "female", "Class": "2", "Boarded": "2020-02-01T01:00:00+01:00"},
    ]
    by_records = pipeline.transform(columns_from_records(records, pipeline), 4).x
    names = ["Boarded", "Class", "Sex", "Age"]
    lists = [[r.get(n) for n in names] for r in records]
    by_lists = pipeline.transform(columns_from_rows(names, lists, pipeline), 4).x
    assert np.array_equal(by_records, from_table) and np.array_equal(by_lists, from_table)


def test_an_unseen_category_is_no_known_category_with_a_warning() -> None:
    pipeline = fit_pipeline(TABLE, np.arange(4))
    encoded = pipeline.transform(columns_from_records([{"Sex": "other", "Class": "9"}], pipeline), 1)
    sex = [k for k, n in enumerate(pipeline.feature_names) if n.startswith(("Sex=", "Class="))]
    assert not encoded.x[0, sex].any()
    assert len(encoded.warnings) == 2 and "'other'" in encoded.warnings[0]


def test_rows_that_cannot_be_read_name_the_row_and_column() -> None:
    pipeline = fit_pipeline(TABLE, np.arange(4))
    with pytest.raises(PreprocessError) as caught:
        columns_from_records([{"Age": 1}, {"Age": "old"}], pipeline)
    assert caught.value.field == "rows[1].Age" and "'old'" in str(caught.value)
    with pytest.raises(PreprocessError) as caught:
        columns_from_rows(["Age", "Sex"], [[1, "male"]], pipeline)
    assert caught.value.field == "columns" and "'Class'" in str(caught.value)
    with pytest.raises(PreprocessError) as caught:
        columns_from_records([{"Boarded": "yesterday"}], pipeline)
    assert caught.value.field == "rows[0].Boarded"


def test_timestamps_are_utc_unless_they_say_otherwise() -> None:
    assert parse_datetime("1970-01-02") == 86400.0
    assert parse_datetime("1970-01-01T01:00:00+01:00") == 0.0
    assert parse_datetime("1970-01-01T00:00:01Z") == 1.0
    assert parse_datetime("not a date") is None
