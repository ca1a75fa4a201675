"""service.parsing: CSV and JSON datasets to float32 arrays, and precise 400/413 problems.

Pure unit tests: no Redis, no app.
"""

from __future__ import annotations

import ast
import csv
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from descent.settings import Settings
from service import parsing
from service.parsing import (
    MAX_ERRORS,
    ParsedDataset,
    csv_fast,
    csv_parse,
    describe,
    parse_csv,
    parse_json_dataset,
)
from service.problems import Problem

DEFAULTS = Settings()
F32_MAX = float(np.finfo(np.float32).max)
F32_OVERFLOW = 2.0**128 - 2.0**103  # FLT_MAX + half an ulp: the first value that becomes inf

HOUSES = "a,b,price\n1,2,3\n4,5,6\n7,8,9\n"


def rejected(call: Any, *args: Any, status: int = 400) -> Problem:
    with pytest.raises(Problem) as info:
        call(*args)
    assert info.value.status == status, info.value.body()
    return info.value


def csv_problem(
    data: str | bytes, target: str | None = None, limits: Settings = DEFAULTS, status: int = 400
) -> Problem:
    return rejected(parse_csv, data, target, limits, status=status)


def json_problem(doc: object, limits: Settings = DEFAULTS, status: int = 400) -> Problem:
    return rejected(parse_json_dataset, doc, limits, status=status)


def only(problem: Problem) -> dict[str, Any]:
    assert len(problem.errors) == 1, problem.errors
    return problem.errors[0]


def assert_dataset(ds: ParsedDataset, x: Any, y: Any, features: list[str], target: str) -> None:
    assert ds.x.dtype == np.float32 and ds.y.dtype == np.float32
    assert ds.x.flags.c_contiguous and ds.y.flags.c_contiguous
    assert ds.x.ndim == 2 and ds.y.ndim == 1 and ds.x.shape[0] == ds.y.shape[0]
    np.testing.assert_array_equal(ds.x, np.asarray(x, dtype=np.float32))
    np.testing.assert_array_equal(ds.y, np.asarray(y, dtype=np.float32))
    assert ds.feature_names == features
    assert ds.target_name == target


# --------------------------------------------------------------------------------------------
# CSV: the happy paths


def test_header_names_the_columns_and_the_last_is_the_target() -> None:
    ds = parse_csv(HOUSES, None, DEFAULTS)
    assert_dataset(ds, [[1, 2], [4, 5], [7, 8]], [3, 6, 9], ["a", "b"], "price")
    assert ds.rows == 3 and ds.features == 2


def test_without_header_columns_are_named_by_position() -> None:
    ds = parse_csv("1,2,3\n4,5,6\n", None, DEFAULTS)
    assert_dataset(ds, [[1, 2], [4, 5]], [3, 6], ["col0", "col1"], "col2")


@pytest.mark.parametrize("first", ["1,2,3", '"1","2","3"', " 1 , 2.5e0 , -3 ", "1,nan,3"])
def test_a_first_row_of_numbers_is_data_not_a_header(first: str) -> None:
    text = first + "\n4,5,6\n7,8,9\n"
    if "nan" in first:  # data, so the NaN is reported where it is
        error = only(csv_problem(text))
        assert (error["row"], error["column_number"], error["column"]) == (1, 2, "col1")
        return
    ds = parse_csv(text, None, DEFAULTS)
    assert ds.rows == 3 and ds.feature_names == ["col0", "col1"]


def test_one_non_number_makes_the_first_row_a_header() -> None:
    ds = parse_csv("1,b,3\n4,5,6\n7,8,9\n", None, DEFAULTS)
    assert ds.feature_names == ["1", "b"] and ds.target_name == "3" and ds.rows == 2


def test_header_names_are_stripped() -> None:
    ds = parse_csv(" a ,\tb , price \n1,2,3\n4,5,6\n", None, DEFAULTS)
    assert ds.feature_names == ["a", "b"] and ds.target_name == "price"


def test_an_empty_cell_does_not_make_a_header() -> None:
    error = only(csv_problem("1,,3\n4,5,6\n7,8,9\n"))
    assert error == {
        "field": "csv",
        "row": 1,
        "column": "col1",
        "column_number": 2,
        "message": "line 1, column 2 ('col1'): empty cell; every cell must hold a number",
    }


@pytest.mark.parametrize(
    "target, features, name",
    [
        (None, ["a", "b"], "price"),
        ("", ["a", "b"], "price"),
        ("price", ["a", "b"], "price"),
        (" b ", ["a", "price"], "b"),
        ("a", ["b", "price"], "a"),
        ("0", ["b", "price"], "a"),
        ("1", ["a", "price"], "b"),
        ("2", ["a", "b"], "price"),
        ("-1", ["a", "b"], "price"),
        ("-3", ["b", "price"], "a"),
    ],
)
def test_target_by_name_index_negative_index_or_default_last(
    target: str | None, features: list[str], name: str
) -> None:
    ds = parse_csv(HOUSES, target, DEFAULTS)
    columns = {"a": [1, 4, 7], "b": [2, 5, 8], "price": [3, 6, 9]}
    assert_dataset(ds, np.array([columns[f] for f in features]).T, columns[name], features, name)


def test_a_digit_name_wins_over_the_index_only_when_it_matches_exactly() -> None:
    text = "a,2,b\n1,2,3\n4,5,6\n"
    assert parse_csv(text, "2", DEFAULTS).target_name == "2"  # the column named "2" (index 1)
    assert parse_csv(text, "0", DEFAULTS).target_name == "a"  # no column "0": index 0
    assert parse_csv(text, "-1", DEFAULTS).target_name == "b"


def test_target_in_a_headerless_file_by_generated_name_or_index() -> None:
    assert parse_csv("1,2,3\n4,5,6\n", "col1", DEFAULTS).target_name == "col1"
    assert parse_csv("1,2,3\n4,5,6\n", "1", DEFAULTS).target_name == "col1"


def test_unknown_target_lists_the_columns() -> None:
    assert only(csv_problem("a,b,c\n1,2,3\n4,5,6\n", "foo")) == {
        "field": "target",
        "message": "no column named 'foo'; columns are: a, b, c",
    }


@pytest.mark.parametrize("target", ["3", "-4", "99"])
def test_target_index_out_of_range(target: str) -> None:
    error = only(csv_problem(HOUSES, target))
    assert error["field"] == "target"
    assert f"column index {int(target)} is out of range" in error["message"]
    assert "3 columns" in error["message"]


def test_a_long_column_list_is_cut_short_in_the_message() -> None:
    names = [f"c{j}" for j in range(50)]
    text = ",".join(names) + "\n" + ",".join(["1"] * 50) + "\n" + ",".join(["2"] * 50) + "\n"
    message = only(csv_problem(text, "nope"))["message"]
    assert "c29" in message and "c30," not in message and "(50 columns in all)" in message


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbfa,b\n1,2\n3,4\n",
        "\ufeffa,b\n1,2\n3,4\n",
        b"a,b\r\n1,2\r\n3,4\r\n",
        b"\xef\xbb\xbfa,b\r\n1,2\r\n3,4",
        "a,b\n1,2\r\n3,4\n\n\n  \n\r\n",
        bytearray(b"a,b\n1,2\n3,4\n"),
        memoryview(b"a,b\n1,2\n3,4\n"),
        '"a","b"\r\n1,2\r\n3,4\r\n',
        '"a",b\n"1",2\n3,"4"\n',
        'a,b\n" 1 ",2\n3,"4"\n\n',
    ],
)
def test_bom_crlf_blank_trailing_lines_and_quotes(data: Any) -> None:
    assert_dataset(parse_csv(data, None, DEFAULTS), [[1], [3]], [2, 4], ["a"], "b")


def test_quoted_names_may_hold_commas_quotes_and_newlines() -> None:
    text = '"x, in m","say ""hi""","multi\nline"\n1,2,3\n4,5,6\n'
    ds = parse_csv(text, "-3", DEFAULTS)
    assert ds.target_name == "x, in m" and ds.feature_names == ['say "hi"', "multi\nline"]
    # The header spans lines 1-2, so the first data row is line 3.
    error = only(csv_problem(text.replace("4,5,6", "4,x,6")))
    assert (error["row"], error["column"], error["column_number"]) == (4, 'say "hi"', 2)


def test_numbers_that_only_python_float_reads_take_the_slow_path_and_are_accepted() -> None:
    ds = parse_csv("a,b\n1_000,2\n3,4\n", None, DEFAULTS)
    np.testing.assert_array_equal(ds.x[:, 0], [1000, 3])


def test_values_are_rounded_to_float32() -> None:
    ds = parse_csv("a,b\n0.1,1e-50\n-2.5,3\n", None, DEFAULTS)
    assert ds.x[0, 0] == np.float32(0.1) and ds.y[0] == 0.0


def test_float32_range_edges() -> None:
    below = float(np.nextafter(F32_OVERFLOW, 0))
    ds = parse_csv(f"a,b\n{F32_MAX!r},{below!r}\n{-below!r},0\n", None, DEFAULTS)
    assert ds.x[0, 0] == ds.y[0] == np.float32(F32_MAX) and ds.x[1, 0] == -np.float32(F32_MAX)
    error = only(csv_problem(f"a,b\n1,{F32_OVERFLOW!r}\n3,4\n"))
    assert (error["row"], error["column_number"]) == (2, 2)
    assert "out of range" in error["message"] and "float32" in error["message"]


# --------------------------------------------------------------------------------------------
# CSV: rejections, each naming the line and the column


@pytest.mark.parametrize("data", ["", "\n", "\n\n  \r\n", b"", b"\xef\xbb\xbf"])
def test_empty_body(data: str | bytes) -> None:
    problem = csv_problem(data)
    assert only(problem) == {"field": "csv", "message": "no rows"}
    assert "empty" in problem.detail


@pytest.mark.parametrize(
    "data, message",
    [
        ("a,b\n", "no data rows; need at least 2"),
        ("a,b\n1,2\n", "only 1 data row; need at least 2"),
        ("1,2\n", "only 1 data row; need at least 2"),
    ],
)
def test_fewer_than_two_data_rows(data: str, message: str) -> None:
    assert only(csv_problem(data)) == {"field": "csv", "message": message}


def test_fewer_than_two_columns() -> None:
    error = only(csv_problem("price\n1\n2\n3\n"))
    assert error["field"] == "csv" and error["row"] == 1
    assert "need at least 2" in error["message"]


def test_an_empty_first_line() -> None:
    error = only(csv_problem("\n1,2\n3,4\n"))
    assert error["row"] == 1 and "empty line" in error["message"]


def test_ragged_rows_name_the_line_and_the_counts() -> None:
    problem = csv_problem("a,b,c\n1,2,3\n4,5\n6,7,8\n9,10,11,12\n")
    assert problem.errors == [
        {
            "field": "csv",
            "row": 3,
            "values": 2,
            "expected": 3,
            "message": "line 3: has 2 values, expected 3 (the number of columns in line 1)",
        },
        {
            "field": "csv",
            "row": 5,
            "values": 4,
            "expected": 3,
            "message": "line 5: has 4 values, expected 3 (the number of columns in line 1)",
        },
    ]
    assert "2 problems" in problem.detail and "line 3" in problem.detail


def test_a_blank_line_in_the_middle_is_a_ragged_row() -> None:
    error = only(csv_problem("a,b\n1,2\n\n3,4\n"))
    assert error["row"] == 3 and error["values"] == 0 and "empty line" in error["message"]
    error = only(csv_problem("a,b\n1,2\n   \n3,4\n"))
    assert error["row"] == 3 and error["values"] == 0


def test_a_non_numeric_cell_names_line_and_column() -> None:
    rows = "\n".join(["a,b,price"] + [f"{i},{i},{i}" for i in range(5)] + ["1,2,abc", "3,4,5"])
    problem = csv_problem(rows)
    assert only(problem) == {
        "field": "csv",
        "row": 7,
        "column": "price",
        "column_number": 3,
        "message": "line 7, column 3 ('price'): not a number: 'abc'",
    }
    assert "line 7, column 3 ('price'): not a number: 'abc'" in problem.detail


@pytest.mark.parametrize(
    "cell, words",
    [
        ("", "empty cell"),
        ("  ", "empty cell"),
        ("1.2.3", "not a number: '1.2.3'"),
        ("0x10", "not a number: '0x10'"),
        ("nan", "NaN is not allowed"),
        ("NaN", "NaN is not allowed"),
        ("inf", "infinite values are not allowed"),
        ("-Infinity", "infinite values are not allowed"),
        ("1e999", "'1e999' overflows to infinity"),
        ("-1e400", "overflows to infinity"),
        ("1e39", "larger in magnitude than float32 allows"),
        ("-3.5e38", "larger in magnitude than float32 allows"),
    ],
)
def test_each_kind_of_bad_cell(cell: str, words: str) -> None:
    for text in (f"a,b\n1,2\n3,{cell}\n5,6\n", f'"a",b\n1,2\n3,{cell}\n5,6\n'):
        error = only(csv_problem(text))
        assert (error["row"], error["column"], error["column_number"]) == (3, "b", 2)
        assert error["message"].startswith("line 3, column 2 ('b'): ")
        assert words in error["message"]


def test_a_cell_that_holds_a_comma_is_one_cell() -> None:
    error = only(csv_problem('a,b\n"1,5",2\n3,4\n'))
    assert (error["row"], error["column_number"]) == (2, 1)
    assert error["message"].endswith("not a number: '1,5'")
    # One quoted cell "1,2" is one value, not two.
    error = only(csv_problem('a,b\n"1,2"\n3,4\n'))
    assert error["row"] == 2 and error["values"] == 1


def test_a_long_bad_cell_is_cut_short() -> None:
    error = only(csv_problem("a,b\n1," + "x" * 500 + "\n3,4\n"))
    assert "…" in error["message"] and len(error["message"]) < 120


def test_duplicate_and_empty_header_names() -> None:
    problem = csv_problem("a,b,a,,price\n1,2,3,4,5\n6,7,8,9,10\n")
    assert problem.errors[0] == {
        "field": "csv",
        "row": 1,
        "column": "a",
        "column_number": 3,
        "message": "line 1, column 3 ('a'): duplicate column name; column 1 has the same name",
    }
    assert problem.errors[1]["column_number"] == 4 and problem.errors[1]["column"] == ""
    assert "empty column name" in problem.errors[1]["message"]
    assert len(problem.errors) == 2


def test_a_pandas_index_column_is_an_empty_name() -> None:
    error = only(csv_problem(",a,b\n0,1.5,2\n1,3.5,4\n"))
    assert error["column_number"] == 1 and "index=False" in error["message"]


def test_invalid_utf8_names_the_byte_offset() -> None:
    error = only(csv_problem(b"a,b\n1,2\n3,\xff4\n"))
    assert error["byte_offset"] == 10 and error["row"] == 3 and "0xff" in error["message"]
    error = only(csv_problem(b"\xef\xbb\xbfa,b\n1,\xc3\n"))
    assert error["byte_offset"] == 9 and error["row"] == 2


def test_malformed_quoting_names_the_line() -> None:
    error = only(csv_problem('a,b\n1,2\n"3"x,4\n5,6\n'))
    assert error["row"] == 3 and "malformed" in error["message"]
    error = only(csv_problem('a,b\n1,2\n3,4\n"5,6\n'))
    assert error["row"] == 4 and "malformed" in error["message"]
    error = only(csv_problem('"a,b\n1,2\n'))
    assert error["row"] == 1


def test_errors_are_listed_in_reading_order_across_kinds() -> None:
    text = "a,b,c\n1,x,3\n4,5\n6,7,nan\n,8,9\n10,11,12\n"
    problem = csv_problem(text)
    assert [(e["row"], e.get("column_number")) for e in problem.errors] == [
        (2, 2),
        (3, None),
        (4, 3),
        (5, 1),
    ]
    assert "4 problems" in problem.detail and "all 4 are listed" in problem.detail


def test_at_most_twenty_errors_and_the_detail_gives_the_total() -> None:
    text = "a,b\n" + "".join(f"{i},x{i}\n" for i in range(30))
    problem = csv_problem(text)
    assert len(problem.errors) == MAX_ERRORS == 20
    assert [e["row"] for e in problem.errors] == list(range(2, 22))
    assert "30 problems" in problem.detail and "first 20" in problem.detail


def test_many_nonfinite_values_found_by_the_fast_path_are_capped_too() -> None:
    text = "a,b\n" + "".join(f"{i},nan\n" for i in range(25))
    problem = csv_problem(text)
    assert len(problem.errors) == 20 and "25 problems" in problem.detail
    assert problem.errors[0]["row"] == 2 and problem.errors[-1]["row"] == 21


def test_the_target_and_the_data_are_reported_together() -> None:
    problem = csv_problem("a,b\n1,x\n3,4\n", "zz")
    assert [e["field"] for e in problem.errors] == ["target", "csv"]


# --------------------------------------------------------------------------------------------
# Limits


def test_cell_limit_counts_data_rows_times_columns() -> None:
    small = Settings(max_dataset_cells=10)
    assert parse_csv("a,b\n" + "1,2\n" * 5, None, small).rows == 5  # 5 × 2 = 10: at the limit
    problem = csv_problem("1,2\n" * 6, limits=small, status=413)
    assert "DESCENT_MAX_DATASET_CELLS" in problem.detail and "= 10" in problem.detail
    assert "6 rows × 2 columns = 12 cells" in problem.detail
    assert problem.errors[0]["field"] == "body"


@pytest.mark.parametrize("quoted", [False, True])
def test_cell_limit_is_checked_before_any_number_is_converted(
    quoted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args: Any) -> None:
        raise AssertionError("converted numbers of an oversized upload")

    monkeypatch.setattr(csv_parse, "_bulk", forbidden)
    monkeypatch.setattr(csv_parse, "_scan", forbidden)
    row = '"1",2\n' if quoted else "1,2\n"
    problem = csv_problem("a,b\n" + row * 10_000, limits=Settings(max_dataset_cells=100), status=413)
    assert "DESCENT_MAX_DATASET_CELLS" in problem.detail
    if quoted:  # the quoted reader stops as soon as the limit is passed
        assert "at least 51 rows" in problem.detail


def test_feature_limit() -> None:
    two = Settings(max_features=2)
    assert parse_csv("a,b,c\n1,2,3\n4,5,6\n", None, two).features == 2
    problem = csv_problem("a,b,c,d\n1,2,3,4\n5,6,7,8\n", limits=two)
    assert "DESCENT_MAX_FEATURES = 2" in problem.detail
    assert "DESCENT_MAX_FEATURES = 2" in only(problem)["message"]
    problem = json_problem({"x": [[1, 2, 3], [4, 5, 6]], "y": [1, 2]}, limits=two)
    assert only(problem)["field"] == "x" and "DESCENT_MAX_FEATURES = 2" in problem.detail
    problem = json_problem({"columns": ["a", "b", "c", "d"], "rows": [[1, 2, 3, 4]] * 2}, limits=two)
    assert only(problem)["field"] == "columns"


def test_json_cell_limit() -> None:
    small = Settings(max_dataset_cells=6)
    assert parse_json_dataset({"x": [[1, 2]] * 2, "y": [1, 2]}, small).rows == 2  # 2 × 3
    problem = json_problem({"x": [[1, 2]] * 3, "y": [1, 2, 3]}, limits=small, status=413)
    assert "DESCENT_MAX_DATASET_CELLS" in problem.detail and "9 cells" in problem.detail
    problem = json_problem({"columns": ["a", "b", "c"], "rows": [[1, 2, 3]] * 3}, limits=small, status=413)
    assert "9 cells" in problem.detail


# --------------------------------------------------------------------------------------------
# JSON


def test_json_x_y_form() -> None:
    ds = parse_json_dataset({"name": "n", "x": [[1.5, 2], [3, -4e-3]], "y": [3, 4.25]}, DEFAULTS)
    assert_dataset(ds, [[1.5, 2], [3, -4e-3]], [3, 4.25], ["x0", "x1"], "y")


@pytest.mark.parametrize(
    "target, features, name",
    [
        ("price", ["a", "b"], "price"),
        ("a", ["b", "price"], "a"),
        (1, ["a", "price"], "b"),
        (-3, ["b", "price"], "a"),
        (None, ["a", "b"], "price"),
        ("missing", ["a", "b"], "price"),
    ],
)
def test_json_columns_rows_form(target: Any, features: list[str], name: str) -> None:
    doc: dict[str, Any] = {"name": "houses", "columns": ["a", "b", "price"], "rows": [[1, 2, 3], [4, 5, 6]]}
    if target != "missing":
        doc["target"] = target
    ds = parse_json_dataset(doc, DEFAULTS)
    columns = {"a": [1, 4], "b": [2, 5], "price": [3, 6]}
    assert_dataset(ds, np.array([columns[f] for f in features]).T, columns[name], features, name)


@pytest.mark.parametrize(
    "doc, errors",
    [
        (
            {"x": [[1], [2]], "y": [1, 2], "target": "y"},
            [{"field": "target", "message": 'unknown key; the {"x", "y"} form takes: name, x, y'}],
        ),
        ({"x": [[1], [2]]}, [{"field": "y", "message": "required"}]),
        (
            {"columns": ["a", "b"], "rows": [[1, 2]] * 2, "extra": 1, "more": 2},
            [
                {
                    "field": "extra",
                    "message": 'unknown key; the {"columns", "rows"} form takes: name, columns, rows, target',
                },
                {
                    "field": "more",
                    "message": 'unknown key; the {"columns", "rows"} form takes: name, columns, rows, target',
                },
            ],
        ),
        ({"rows": [[1, 2]] * 2}, [{"field": "columns", "message": "required"}]),
    ],
)
def test_json_unknown_and_missing_keys(doc: dict[str, Any], errors: list[dict[str, str]]) -> None:
    assert json_problem(doc).errors == errors


@pytest.mark.parametrize(
    "doc, field",
    [
        ([[1, 2]], "body"),
        ("x", "body"),
        (None, "body"),
        ({"name": "n"}, "body"),
        ({"x": [[1]], "y": [1], "columns": ["a"]}, "body"),
    ],
)
def test_json_document_shape(doc: object, field: str) -> None:
    assert only(json_problem(doc))["field"] == field


def test_json_bad_values_are_named_by_index() -> None:
    doc = {
        "x": [[1, 2], [3, 4], [5, 6], [7, "abc"], [True, None], [[1], {"a": 1}]],
        "y": [1, 2, 3, 4, 5, "6"],
    }
    assert json_problem(doc).errors == [
        {"field": "x[3][1]", "message": "not a number: 'abc'"},
        {"field": "x[4][0]", "message": "not a number: true"},
        {"field": "x[4][1]", "message": "not a number: null"},
        {"field": "x[5][0]", "message": "not a number: a list"},
        {"field": "x[5][1]", "message": "not a number: an object"},
        {"field": "y[5]", "message": "not a number: '6'"},
    ]


@pytest.mark.parametrize(
    "value, words",
    [
        (float("nan"), "NaN is not allowed"),
        (float("inf"), "infinite values are not allowed"),
        (-float("inf"), "infinite values are not allowed"),
        (1e39, "larger in magnitude than float32 allows"),
        (10**400, "overflows to infinity"),
        (False, "not a number: false"),
        ("1.5", "not a number: '1.5'"),
    ],
)
def test_json_rejected_numbers(value: object, words: str) -> None:
    error = only(json_problem({"x": [[1, 2], [3, value]], "y": [1, 2]}))
    assert error["field"] == "x[1][1]" and words in error["message"]
    error = only(json_problem({"columns": ["a", "b"], "rows": [[1, 2], [value, 4]]}))
    assert error["field"] == "rows[1][0]" and words in error["message"]
    error = only(json_problem({"x": [[1], [2]], "y": [value, 2]}))
    assert error["field"] == "y[0]" and words in error["message"]


def test_json_big_integers_within_range_are_numbers() -> None:
    ds = parse_json_dataset({"x": [[2**70], [1]], "y": [0, 1]}, DEFAULTS)
    assert ds.x[0, 0] == np.float32(2.0**70)


def test_json_ragged_rows_and_lengths() -> None:
    assert json_problem({"x": [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]], "y": [1, 2, 3, 4]}).errors == [
        {"field": "y", "message": "has 4 values but x has 5 rows"}
    ]
    assert json_problem({"columns": ["a", "b", "c"], "rows": [[1, 2, 3], [4, 5, 6], [7, 8]]}).errors == [
        {"field": "rows[2]", "message": "has 2 values, expected 3 (the number of columns)"}
    ]
    problem = json_problem({"x": [[1, 2], [3], 5, [1, "z"]], "y": [1, 2, 3, 4]})
    assert problem.errors == [
        {"field": "x[1]", "message": "has 1 value, expected 2 (the number of values in x[0])"},
        {"field": "x[2]", "message": "must be a list of numbers, not a number"},
        {"field": "x[3][1]", "message": "not a number: 'z'"},
    ]


@pytest.mark.parametrize(
    "doc, field, words",
    [
        ({"x": [[1, 2]], "y": [1]}, "x", "has 1 row; need at least 2"),
        ({"x": [], "y": []}, "x", "has 0 rows; need at least 2"),
        ({"x": [[], []], "y": [1, 2]}, "x[0]", "is empty"),
        ({"x": {"a": 1}, "y": [1, 2]}, "x", "must be a list of rows"),
        ({"x": [[1], [2]], "y": 3}, "y", "must be a list of numbers"),
        ({"columns": ["a", "b"], "rows": [[1, 2]]}, "rows", "has 1 row; need at least 2"),
        ({"columns": ["a"], "rows": [[1], [2]]}, "columns", "need at least 2"),
        ({"columns": "a,b", "rows": [[1, 2], [3, 4]]}, "columns", "must be a list"),
    ],
)
def test_json_too_little_data(doc: dict[str, Any], field: str, words: str) -> None:
    error = json_problem(doc).errors[0]
    assert error["field"] == field and words in error["message"]


def test_json_column_names() -> None:
    problem = json_problem({"columns": ["a", 3, "a", " "], "rows": [[1, 2, 3, 4]] * 2})
    assert problem.errors == [
        {"field": "columns[1]", "message": "must be a string, not a number"},
        {"field": "columns[2]", "message": "duplicate column name 'a' (also columns[0])"},
        {"field": "columns[3]", "message": "empty column name"},
    ]


@pytest.mark.parametrize(
    "target, words",
    [
        ("nope", "no column named 'nope'; columns are: a, b, price"),
        ("1", "send an integer"),
        (3, "column index 3 is out of range"),
        (-4, "column index -4 is out of range"),
        (True, "not a boolean"),
        (1.5, "must be a column name (string) or a 0-based column index (integer)"),
        (3.0, "column index 3 is out of range"),
    ],
)
def test_json_bad_target(target: object, words: str) -> None:
    doc = {"columns": ["a", "b", "price"], "rows": [[1, 2, 3], [4, 5, 6]], "target": target}
    error = only(json_problem(doc))
    assert error["field"] == "target" and words in error["message"]


def test_json_errors_are_capped_at_twenty() -> None:
    problem = json_problem({"x": [["s"]] * 25, "y": [0] * 25})
    assert len(problem.errors) == 20 and "25 problems" in problem.detail
    assert problem.errors[19]["field"] == "x[19][0]"
    problem = json_problem({"x": [[float("nan")]] * 25, "y": [0] * 25})
    assert len(problem.errors) == 20 and "25 problems" in problem.detail


# --------------------------------------------------------------------------------------------
# describe()


def check_describe(ds: ParsedDataset) -> None:
    stats = describe(ds)
    assert set(stats) == {"x_mean", "x_std", "y_mean", "y_std", "y_min", "y_max"}
    for value in [
        *stats["x_mean"],
        *stats["x_std"],
        stats["y_mean"],
        stats["y_std"],
        stats["y_min"],
        stats["y_max"],
    ]:
        assert type(value) is float
    x = ds.x.astype(np.float64)
    y = ds.y.astype(np.float64)
    np.testing.assert_allclose(stats["x_mean"], x.mean(axis=0), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(stats["x_std"], x.std(axis=0), rtol=1e-9, atol=1e-300)
    assert math.isclose(stats["y_mean"], y.mean(), rel_tol=1e-12, abs_tol=1e-300)
    assert math.isclose(stats["y_std"], y.std(), rel_tol=1e-9, abs_tol=1e-300)
    assert stats["y_min"] == y.min() and stats["y_max"] == y.max()


def test_describe_is_population_mean_and_std_in_float64() -> None:
    stats = describe(parse_csv("a,b,y\n1,10,0\n3,10,1\n", None, DEFAULTS))
    assert stats == {
        "x_mean": [2.0, 10.0],
        "x_std": [1.0, 0.0],
        "y_mean": 0.5,
        "y_std": 0.5,
        "y_min": 0.0,
        "y_max": 1.0,
    }


@pytest.mark.parametrize("chunk", [1 << 20, 7])
def test_describe_equals_numpy(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing.stats, "_PIECE_CELLS", chunk)
    rng = np.random.default_rng(3)
    x = (rng.normal(size=(257, 4)) * [1, 1e3, 1e-3, 1e30] + [0, 5, -7, 1e31]).astype(np.float32)
    y = rng.normal(size=257).astype(np.float32)
    check_describe(ParsedDataset(x=x, y=y, feature_names=["a", "b", "c", "d"], target_name="y"))


# --------------------------------------------------------------------------------------------
# Property tests

_finite = st.floats(min_value=-F32_MAX, max_value=F32_MAX, allow_nan=False, allow_infinity=False)
_matrix = st.integers(2, 6).flatmap(
    lambda cols: st.lists(st.lists(_finite, min_size=cols, max_size=cols), min_size=2, max_size=8)
)
# Header names: any text a spreadsheet might hold, except what the format itself cannot carry
# (a lone \r is turned into a line end, a leading BOM is dropped).
_name = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\r\ufeff\x00"),
    min_size=1,
    max_size=8,
).filter(lambda s: s.strip() != "")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _write(header: list[str] | None, rows: list[list[str]], newline: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    if header is not None:
        writer.writerow(header)
    for row in rows:
        out.write(",".join(row) + newline)
    return out.getvalue()


@st.composite
def _csv_case(draw: st.DrawFn) -> tuple[str, list[str] | None, np.ndarray]:
    matrix = draw(_matrix)
    cols = len(matrix[0])
    header = None
    if draw(st.booleans()):
        header = draw(st.lists(_name, min_size=cols, max_size=cols, unique_by=lambda s: s.strip()))
        if all(_is_number(h) for h in header):  # then it would be (and must be) data
            header[0] = "name"
            if len({h.strip() for h in header}) < cols:
                header = None
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = _write(header, [[repr(v) for v in row] for row in matrix], newline)
    text += draw(st.sampled_from(["", newline, newline * 3, "  " + newline]))
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text, header, np.array(matrix, dtype=np.float64).astype(np.float32)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_csv_case(), as_bytes=st.booleans())
def test_property_finite_matrices_round_trip_through_csv(
    case: tuple[str, list[str] | None, np.ndarray], as_bytes: bool
) -> None:
    text, header, expected = case
    ds = parse_csv(text.encode() if as_bytes else text, None, DEFAULTS)
    np.testing.assert_array_equal(ds.x, expected[:, :-1])
    np.testing.assert_array_equal(ds.y, expected[:, -1])
    names = [h.strip() for h in header] if header else [f"col{j}" for j in range(expected.shape[1])]
    assert ds.feature_names == names[:-1] and ds.target_name == names[-1]


_garbage = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "abc",
            "nan",
            "-inf",
            "Infinity",
            "1e999",
            "-1e39",
            "1.2.3",
            "--1",
            "0x1A",
            "1;5",
            "e5",
            "١٢x",
            "\t",
            "true",
        ]
    ),
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters=',"\n\r'), max_size=6),
).filter(lambda s: not (_is_number(s) and abs(float(s)) < F32_OVERFLOW))


@settings(max_examples=150, deadline=None)
@given(
    matrix=_matrix,
    header=st.booleans(),
    garbage=_garbage,
    data=st.data(),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_property_one_garbage_cell_is_reported_exactly_where_it_is(
    matrix: list[list[float]], header: bool, garbage: str, data: st.DataObject, newline: str
) -> None:
    cells = [[repr(v) for v in row] for row in matrix]
    # Without a header, garbage in the first row would make it a header: mutate a later row.
    i = data.draw(st.integers(0 if header else 1, len(cells) - 1), label="row")
    j = data.draw(st.integers(0, len(cells[0]) - 1), label="column")
    cells[i][j] = garbage
    names = [f"f{k}" for k in range(len(cells[0]))] if header else None
    text = _write(names, cells, newline)
    error = only(rejected(parse_csv, text, None, DEFAULTS))
    line = i + 1 + (1 if header else 0)
    column = names[j] if names else f"col{j}"
    assert (error["field"], error["row"], error["column"], error["column_number"]) == (
        "csv",
        line,
        column,
        j + 1,
    )
    assert error["message"].startswith(f"line {line}, column {j + 1} ({column!r}): ")


@st.composite
def _json_case(draw: st.DrawFn) -> tuple[dict[str, Any], np.ndarray, np.ndarray, list[str], str]:
    matrix = draw(_matrix)
    numbers = st.one_of(_finite, st.integers(-(2**60), 2**60))
    matrix = [[draw(numbers) if draw(st.booleans()) else v for v in row] for row in matrix]
    values = np.array(matrix, dtype=np.float64).astype(np.float32)
    cols = values.shape[1]
    if draw(st.booleans()):
        doc: dict[str, Any] = {"x": [row[:-1] for row in matrix], "y": [row[-1] for row in matrix]}
        if draw(st.booleans()):
            doc["name"] = draw(st.text(max_size=5))
        return doc, values[:, :-1], values[:, -1], [f"x{k}" for k in range(cols - 1)], "y"
    names = draw(
        st.lists(st.text(min_size=1, max_size=5).filter(str.strip), min_size=cols, max_size=cols, unique=True)
    )
    doc = {"columns": names, "rows": matrix}
    t = draw(st.integers(-cols, cols - 1))
    how = draw(st.sampled_from(["name", "index", "none", "absent"]))
    if how == "name":
        doc["target"] = names[t]
    elif how == "index":
        doc["target"] = t
    elif how == "none":
        doc["target"] = None
    if how in ("none", "absent"):
        t = cols - 1
    t %= cols
    keep = [k for k in range(cols) if k != t]
    return doc, values[:, keep], values[:, t], [names[k] for k in keep], names[t]


@settings(max_examples=150, deadline=None)
@given(case=_json_case())
def test_property_valid_json_documents_round_trip(
    case: tuple[dict[str, Any], np.ndarray, np.ndarray, list[str], str],
) -> None:
    doc, x, y, features, target = case
    ds = parse_json_dataset(doc, DEFAULTS)
    assert_dataset(ds, x, y, features, target)
    check_describe(ds)


# --------------------------------------------------------------------------------------------
# Purity


def test_the_parser_imports_only_numpy_numba_the_standard_library_and_its_siblings() -> None:
    imported: set[str] = set()
    for module in Path(parsing.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:  # not the package's own modules
                imported.add((node.module or "").split(".")[0])
    assert not imported & {"torch", "flask", "redis", "pandas", "rq"}
    assert imported - {
        "__future__",
        "concurrent",
        "csv",
        "itertools",
        "math",
        "re",
        "collections",
        "dataclasses",
        "typing",
        "os",
        "tempfile",
    } == {"numpy", "numba", "descent", "service"}


# --------------------------------------------------------------------------------------------
# The compiled fast path gives the general path's datasets


def _general(data: bytes, target: str | None = None) -> ParsedDataset:
    """parse_csv with the fast path switched off."""
    saved = csv_parse._fast_csv
    csv_parse._fast_csv = lambda *args: None
    try:
        return parse_csv(data, target, DEFAULTS)
    finally:
        csv_parse._fast_csv = saved


def _same(a: ParsedDataset, b: ParsedDataset) -> None:
    assert a.feature_names == b.feature_names and a.target_name == b.target_name
    assert a.x.dtype == b.x.dtype == np.float32 and a.y.dtype == b.y.dtype == np.float32
    assert a.x.flags.c_contiguous and a.y.flags.c_contiguous
    np.testing.assert_array_equal(a.x.view(np.uint32), b.x.view(np.uint32))  # bit for bit (−0.0 too)
    np.testing.assert_array_equal(a.y.view(np.uint32), b.y.view(np.uint32))


NUMBER_CELLS = [
    "0",
    "-0",
    "+0.0",
    "1",
    "-1",
    "1.",
    ".5",
    "-.5",
    "007",
    "0.000001",
    "123456789012345678",
    "1234567890123456789012345",
    "0.1",
    "0.30000000000000004",
    "9007199254740993",
    "2.5e-3",
    "1e22",
    "1e23",
    "1E-22",
    "1e-23",
    "4.9e-324",
    "1e-45",
    "3.4028234e38",
    "  2.5",
    "2.5\t",
    " -3e+2 ",
    "123.456e-10",
    "1e+0",
    "0e999",
    "99999999999999999999e-20",
]


@pytest.mark.parametrize("header", [True, False])
def test_the_fast_path_reads_every_kind_of_number_as_float_does(header: bool) -> None:
    cells = NUMBER_CELLS
    rows = [
        ",".join([cells[i], cells[(i + 7) % len(cells)], cells[(i + 3) % len(cells)]])
        for i in range(len(cells))
    ]
    text = ("a,b,c\n" if header else "") + "\n".join(rows) + "\n\n  \n"
    fast = csv_fast._fast_csv(text.encode(), None, DEFAULTS)
    assert fast is not None
    _same(fast, _general(text.encode()))
    expected = np.array([[float(c) for c in r.split(",")] for r in rows], dtype=np.float64).astype(np.float32)
    np.testing.assert_array_equal(fast.y, expected[:, -1])


@given(
    values=st.lists(
        st.lists(
            st.one_of(
                st.floats(allow_nan=False, allow_infinity=False, width=64, min_value=-1e30, max_value=1e30),
                st.integers(-(10**20), 10**20),
                st.decimals(
                    allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9), max_value=10**9
                ),
            ),
            min_size=3,
            max_size=3,
        ),
        min_size=2,
        max_size=30,
    ),
    form=st.sampled_from(["{}", "{!r}", "{:e}", "{:.3g}", " {} "]),
)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_property_the_fast_path_equals_the_general_path(values: list[list[Any]], form: str) -> None:
    def show(v: Any) -> str:
        try:
            return form.format(v)
        except (TypeError, ValueError):
            return str(v)

    text = "x0,x1,y\n" + "\n".join(",".join(show(v) for v in row) for row in values) + "\n"
    data = text.encode()
    try:
        general = _general(data, "x1")
    except Problem:
        assert csv_fast._fast_csv(data, "x1", DEFAULTS) is None
        return
    fast = csv_fast._fast_csv(data, "x1", DEFAULTS)
    if fast is not None:  # it may step aside (a value it leaves to the general path's checks)
        _same(fast, general)
    _same(parse_csv(data, "x1", DEFAULTS), general)


@pytest.mark.parametrize(
    "data",
    [
        b'a,b\n"1",2\n3,4\n',  # a quote
        b"a,b\r\n1,2\r\n3,4\r\n",  # CRLF
        b"a,b\n1,2\n\n3,4\n",  # a blank row inside
        b"a,b\n1,2,3\n3,4\n",  # ragged
        b"a,b\n1,x\n3,4\n",  # not a number
        b"a,b\n1,1_000\n3,4\n",  # float() reads it, the fast path does not
        b"a,b\n1,1e39\n3,4\n",  # overflows float32
        b"a,b\n1,nan\n3,4\n",
        b"a,a\n1,2\n3,4\n",  # duplicate names
        b"a,b\n1,2\n",  # one row
        "\u00e9,b\n1,2\n3,4\n".encode(),  # a non-ASCII name
        b"a,b\n1,2\n3,4\xc2\xa0\n",  # non-ASCII trailing space
    ],
)
def test_the_fast_path_steps_aside_for_anything_unusual(data: bytes) -> None:
    assert csv_fast._fast_csv(data, None, DEFAULTS) is None


def test_a_plain_upload_takes_the_fast_path() -> None:
    rng = np.random.default_rng(0)
    table = rng.standard_normal((500, 4)) * 10.0 ** rng.integers(-8, 8, (500, 4))
    buf = io.StringIO()
    np.savetxt(buf, table, fmt="%.9g", delimiter=",", header="a,b,c,d", comments="")
    data = buf.getvalue().encode()
    fast = csv_fast._fast_csv(data, "b", DEFAULTS)
    assert fast is not None
    _same(fast, _general(data, "b"))
    cells = [[float(v) for v in line.split(",")] for line in data.decode().splitlines()[1:]]
    np.testing.assert_array_equal(fast.y, np.array(cells)[:, 1].astype(np.float32))


@pytest.mark.parametrize("piece_bytes", [1, 37, 1 << 22])
def test_an_upload_parsed_in_pieces_equals_one_pass(
    piece_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # hard cells (outside Clinger's case) in every piece, and rows of different lengths
    rng = np.random.default_rng(1)
    table = rng.standard_normal((300, 3)) * 10.0 ** rng.integers(-30, 30, (300, 3))
    buf = io.StringIO()
    np.savetxt(buf, table, fmt="%.17g", delimiter=",", header="a,b,c", comments="")
    data = buf.getvalue().encode()
    one = csv_fast._fast_csv(data, "b", DEFAULTS)
    monkeypatch.setattr(csv_fast, "_PIECE_BYTES", piece_bytes)
    monkeypatch.setattr(csv_fast, "_THREADS", 4)
    pieces = csv_fast._csv_pieces(data, data.index(b"\n") + 1, len(data.rstrip()))
    assert len(pieces) == (1 if piece_bytes > len(data) else 4)
    several = csv_fast._fast_csv(data, "b", DEFAULTS)
    assert one is not None and several is not None
    _same(several, one)
    _same(several, _general(data, "b"))


@pytest.mark.parametrize("bad_row", [0, 150, 299])
def test_a_fault_in_any_piece_leaves_the_upload_to_the_general_path(
    bad_row: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_fast, "_PIECE_BYTES", 1)
    monkeypatch.setattr(csv_fast, "_THREADS", 4)
    rows = [f"{i},{2 * i}" for i in range(300)]
    rows[bad_row] = f"{bad_row},oops"
    data = ("x,y\n" + "\n".join(rows) + "\n").encode()
    assert csv_fast._fast_csv(data, None, DEFAULTS) is None
    with pytest.raises(Problem) as caught:
        parse_csv(data, None, DEFAULTS)
    assert caught.value.body()["errors"][0]["row"] == bad_row + 2


@pytest.mark.parametrize(
    "cell", ["9223372036854775808", "-9223372036854775808", "9999999999999999999", "9.99e18"]
)
def test_a_mantissa_past_int64_keeps_its_value_on_the_fast_path(cell: str) -> None:
    """19 significant digits can exceed int64 in the compiled pass; such a cell is not Clinger's exact
    case and must come out as float() reads it (it came out with the wrong sign)."""
    data = f"x,y\n0,1\n{cell},2\n".encode()
    fast = csv_fast._fast_csv(data, None, DEFAULTS)
    assert fast is not None and fast.x[1, 0] == np.float32(float(cell))
    assert parse_csv(data, None, DEFAULTS).x[1, 0] == np.float32(float(cell))
