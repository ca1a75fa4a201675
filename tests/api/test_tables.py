"""The upload readers (service/tables): messy CSV, Parquet, Arrow and JSON into typed columns,
each fault a 400 naming its row and column; pandas and pyarrow are the references."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from descent.settings import Settings
from service.problems import Problem
from service.tables import ReadOptions, describe, read_upload, table_from_json
from tests.support.real_data import (
    csv_text,
    european_csv,
    feather_bytes,
    housing,
    parquet_bytes,
    sales,
    titanic,
)

DEFAULTS = Settings()


def read(data: bytes | str, fmt: str = "csv", settings: Settings = DEFAULTS, **options):
    raw = data.encode() if isinstance(data, str) else data
    return read_upload(raw, fmt, ReadOptions(**options), settings)


def rejected(data: bytes | str, fmt: str = "csv", settings: Settings = DEFAULTS, **options) -> Problem:
    with pytest.raises(Problem) as caught:
        read(data, fmt, settings, **options)
    return caught.value


def test_a_housing_table_with_quoted_fields_and_the_target_first() -> None:
    frame = housing()
    table = read(csv_text(frame), target="price")
    assert table.target == "price" and table.rows == len(frame)
    kinds = {c.name: c.kind for c in table.columns}
    assert kinds == {
        "price": "number",
        "area": "number",
        "bedrooms": "number",
        "mainroad": "category",
        "guestroom": "category",
        "furnishing": "category",
        "address": "text",  # every value distinct: never a feature
    }
    np.testing.assert_array_equal(table.column("area").values, frame["area"].to_numpy(np.float32))
    furnishing = table.column("furnishing")
    assert [furnishing.labels[c] for c in furnishing.values[:5]] == frame["furnishing"][:5].tolist()


def test_a_titanic_table_keeps_missing_ages_and_string_classes() -> None:
    frame = titanic()
    table = read(csv_text(frame), target="Survived")
    age = table.column("Age").values
    np.testing.assert_array_equal(np.isnan(age), frame["Age"].isna().to_numpy())
    assert table.column("Name").kind == "text" and table.column("Pclass").labels == ("1st", "2nd", "3rd")
    embarked = table.column("Embarked")
    assert np.array_equal(embarked.values < 0, frame["Embarked"].isna().to_numpy())
    summary = {c["name"]: c for c in describe(table)["columns"]}
    assert summary["Age"]["missing"] == int(frame["Age"].isna().sum())
    assert summary["Age"]["mean"] == pytest.approx(frame["Age"].mean(), rel=1e-6)
    assert summary["Age"]["std"] == pytest.approx(frame["Age"].std(ddof=0), rel=1e-5)
    top = summary["Pclass"]["categories"]
    counts = frame["Pclass"].value_counts()
    assert [(c["value"], c["count"]) for c in top] == list(zip(counts.index, counts.tolist(), strict=True))
    warnings = describe(table)["warnings"]
    assert any("'PassengerId' goes up by 1 from row to row" in w for w in warnings)
    assert any("'Name' is text" in w for w in warnings)


def test_a_semicolon_file_with_decimal_commas_and_stray_spaces() -> None:
    table = read(european_csv(), decimal=",")
    assert [c.kind for c in table.columns] == ["number", "category", "number"]
    assert table.column("farbe").labels == ("blau", "grün", "rot")  # trimmed: three colours, not five
    reference = pd.read_csv(io.StringIO(european_csv()), sep=";", decimal=",")
    np.testing.assert_array_equal(table.column("größe").values, reference["größe"].to_numpy(np.float32))


def test_a_date_column_with_empty_cells_is_a_datetime() -> None:
    frame = sales()
    table = read(csv_text(frame))
    date = table.column("date")
    assert date.kind == "datetime" and not date.has_time
    expected = (pd.to_datetime(frame["date"]) - pd.Timestamp("1970-01-01")).dt.total_seconds().to_numpy()
    np.testing.assert_array_equal(np.isnan(date.values), frame["date"].isna().to_numpy())
    present = ~frame["date"].isna().to_numpy()
    np.testing.assert_array_equal(date.values[present], expected[present])


@pytest.mark.parametrize("make, target", [(housing, "price"), (titanic, "Survived"), (sales, "sold")])
def test_parquet_and_arrow_give_the_same_table_as_the_csv(make, target: str) -> None:
    frame = make()
    from_csv = read(csv_text(frame), target=target)
    for data, fmt in ((parquet_bytes(frame), "parquet"), (feather_bytes(frame), "arrow")):
        other = read(data, fmt, target=target)
        assert (other.target, other.rows) == (from_csv.target, from_csv.rows)
        for ours, theirs in zip(from_csv.columns, other.columns, strict=True):
            assert (ours.name, ours.kind, ours.labels, ours.has_time) == (theirs.name, theirs.kind, theirs.labels, theirs.has_time)
            if ours.values is not None:
                np.testing.assert_array_equal(ours.values, theirs.values)


def test_a_bom_crlf_and_quoted_line_breaks_are_read() -> None:
    table = read('\ufeffa,note,y\r\n1,"two\r\nlines, and a comma",3\r\n4,plain,6\r\n')
    assert [c.name for c in table.columns] == ["a", "note", "y"] and table.rows == 2
    assert table.column("note").labels == ("plain", "two\r\nlines, and a comma")


def test_a_headerless_file_of_numbers_is_read_as_v1_did() -> None:
    table = read("1,2\n3,4\n")
    assert [c.name for c in table.columns] == ["col0", "col1"] and table.target == "col1"


def test_null_values_are_configurable() -> None:
    table = read("a,y\n-,1\n2,3\n", null_values="-")
    assert np.isnan(table.column("a").values[0]) and table.column("a").kind == "number"


def test_a_string_column_with_more_categories_than_the_limit_is_text() -> None:
    rows = "\n".join(f"v{k % 30},{k}" for k in range(200))
    assert read("c,y\n" + rows + "\n").column("c").kind == "category"
    assert read("c,y\n" + rows + "\n", settings=replace(DEFAULTS, max_categories=29)).column("c").kind == "text"


@pytest.mark.parametrize(
    "data, field, words",
    [
        ("a,b\n1,2\n3\n4,5\n", "csv", "line 3: has 1 value, expected 2"),
        ("a,b\n1,2\n3,inf\n", "csv", "line 3, column 2 ('b'): inf is out of range"),
        ("a,b\n1,2\n3,1e39\n", "csv", "larger in magnitude than float32"),
        (",b\n1,2\n3,4\n", "csv", "empty column name"),
        ("a,a\n1,2\n3,4\n", "csv", "duplicate column name"),
        ("a,b\n1,2\n", "rows", "1 row; at least 2"),
        ("", "csv", "no rows"),
        ("a\n1\n2\n", "csv", "line 1 has 1 column"),
    ],
)
def test_a_broken_csv_is_a_400_naming_the_line_and_column(data: str, field: str, words: str) -> None:
    problem = rejected(data)
    assert problem.status == 400 and problem.errors[0]["field"] == field
    assert words in problem.errors[0]["message"], problem.errors


def test_a_bad_target_is_a_400_listing_the_columns() -> None:
    problem = rejected("a,b\n1,2\n3,4\n", target="price")
    assert problem.errors[0]["field"] == "target" and "columns are: a, b" in problem.errors[0]["message"]
    assert "out of range" in rejected("a,b\n1,2\n3,4\n", target="5").errors[0]["message"]
    text = "\n".join(f"name {k},{k}" for k in range(30))
    assert "text" in rejected("who,y\n" + text + "\n", target="who").errors[0]["message"]


def test_limits_are_named() -> None:
    long_name = "n" * 300
    problem = rejected(f"{long_name},y\n1,2\n3,4\n")
    assert "DESCENT_MAX_COLUMN_NAME_LENGTH = 256" in problem.errors[0]["message"]
    assert rejected("a,b,c\n1,2,3\n4,5,6\n", settings=replace(DEFAULTS, max_features=1)).errors[0][
        "message"
    ].startswith("2 features")
    big = rejected("a,b\n1,2\n3,4\n", settings=replace(DEFAULTS, max_dataset_cells=3))
    assert big.status == 413 and "DESCENT_MAX_DATASET_CELLS" in big.detail


def test_bytes_that_are_not_what_the_content_type_says_are_a_400() -> None:
    assert "not a Parquet file" in rejected(b"a,b\n1,2\n", "parquet").errors[0]["message"]
    assert "not an Arrow IPC" in rejected(b"a,b\n1,2\n", "arrow").errors[0]["message"]
    assert "UTF-8" in rejected(b"a,b\n\xff\xfe,1\nx,2\n").detail


def test_a_parquet_file_with_nested_or_binary_columns_is_a_400_naming_them() -> None:
    data = pa.table(
        {"tags": [[1, 2], [3]], "blob": [b"\x00", b"\x01"], "y": [1.0, 2.0]}
    )
    out = io.BytesIO()
    pq.write_table(data, out)
    problem = rejected(out.getvalue(), "parquet")
    assert [e["column"] for e in problem.errors] == ["tags", "blob"]
    assert "list<element: int64>" in problem.errors[0]["message"]


def test_json_rows_take_strings_booleans_and_nulls() -> None:
    doc = {"columns": ["Sex", "Adult", "Age", "y"], "rows": [["m", True, None, 1], ["f", False, 3, 0]], "target": "y"}
    table = table_from_json(doc, DEFAULTS, 256)
    assert [c.kind for c in table.columns] == ["category", "category", "number", "number"]
    assert table.column("Adult").labels == (False, True)
    with pytest.raises(Problem) as caught:
        table_from_json({"columns": ["a", "y"], "rows": [[1, 1], ["x", 2]]}, DEFAULTS, 256)
    assert caught.value.errors[0]["field"] == "rows[1][0]"


def test_a_number_columns_histogram_is_numpys() -> None:
    frame = titanic()
    age = {c["name"]: c for c in describe(read(csv_text(frame), target="Survived"))["columns"]}["Age"]
    present = frame["Age"].dropna().to_numpy(np.float32)
    expected, _ = np.histogram(present, bins=10, range=(present.min(), present.max()))
    assert sum(age["histogram"]) == present.size
    assert np.abs(np.array(age["histogram"]) - expected).max() <= 1  # float32 bin edges may round a value over
