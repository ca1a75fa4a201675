"""service.parsing on JSON documents, and describe()'s statistics.

Pure unit tests: no Redis, no app.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from service import parsing
from service.parsing import (
    ParsedDataset,
    describe,
    parse_csv,
    parse_json_dataset,
)
from tests.support.parsing import (
    DEFAULTS,
    assert_dataset,
    check_describe,
    json_problem,
    only,
)

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
