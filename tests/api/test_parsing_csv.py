"""service.parsing on CSV: the happy paths, rejections naming the line and column, the limits.

Pure unit tests: no Redis, no app.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from descent.settings import Settings
from service.parsing import (
    MAX_ERRORS,
    csv_parse,
    parse_csv,
    parse_json_dataset,
)
from tests.support.parsing import (
    DEFAULTS,
    F32_MAX,
    F32_OVERFLOW,
    HOUSES,
    assert_dataset,
    csv_problem,
    json_problem,
    only,
)

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
