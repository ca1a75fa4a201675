"""What the Python client sends for each kind of table a user holds (descent/client_data.py)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from descent.client_data import predict_payload, upload_body

FRAME = pd.DataFrame(
    {
        "Sex": ["female", "male", None],
        "Age": [22.0, np.nan, 40.5],
        "Pclass": pd.Categorical(["1st", "3rd", "3rd"]),
        "Boarded": pd.to_datetime(["2020-01-02", None, "2020-03-04 05:06:07"], format="ISO8601"),
    }
)


def test_a_dataframe_is_uploaded_as_parquet_with_its_types_and_missing_values() -> None:
    body, content_type, name = upload_body(FRAME)
    assert content_type == "application/vnd.apache.parquet" and name == "data.parquet"
    back = pq.read_table(io.BytesIO(body)).to_pandas()
    pd.testing.assert_frame_equal(back, FRAME, check_dtype=False)


def test_a_dataframe_and_its_target_series_become_one_table() -> None:
    y = pd.Series([1, 0, 1], name="Survived")
    body, _, _ = upload_body(FRAME, y)
    back = pq.read_table(io.BytesIO(body)).to_pandas()
    assert list(back.columns) == [*FRAME.columns, "Survived"] and back["Survived"].tolist() == [1, 0, 1]


def test_an_array_is_uploaded_as_csv_with_y_last() -> None:
    x = np.array([[1.0, 2.5], [3.0, 1e-20]])
    body, content_type, _ = upload_body(x, np.array([7.0, 8.0]))
    assert content_type == "text/csv"
    assert np.array_equal(np.loadtxt(io.StringIO(body.decode()), delimiter=","), [[1, 2.5, 7], [3, 1e-20, 8]])


def test_a_path_is_sent_as_it_is_with_the_type_of_its_extension(tmp_path: Path) -> None:
    file = tmp_path / "t.parquet"
    FRAME.to_parquet(file)
    for given in (file, str(file)):
        body, content_type, name = upload_body(given)
        assert (body, content_type, name) == (file.read_bytes(), "application/vnd.apache.parquet", "t.parquet")
    assert upload_body("a,b\n1,2\n") == (b"a,b\n1,2\n", "text/csv", "data.csv")  # text, not a path


def test_a_dataframe_predicts_by_column_name_with_nulls() -> None:
    assert predict_payload(FRAME) == {
        "columns": ["Sex", "Age", "Pclass", "Boarded"],
        "rows": [
            ["female", 22.0, "1st", "2020-01-02T00:00:00"],
            ["male", None, "3rd", None],
            [None, 40.5, "3rd", "2020-03-04T05:06:07"],
        ],
    }


def test_a_csv_with_a_header_predicts_by_name_and_one_without_by_position(tmp_path: Path) -> None:
    file = tmp_path / "rows.csv"
    file.write_text("Age;Sex;Fare\n22;male;7.25\n;female;NA\n")
    assert predict_payload(file) == {
        "columns": ["Age", "Sex", "Fare"],
        "rows": [[22.0, "male", 7.25], [None, "female", None]],
    }
    assert predict_payload("1,2\n3,4\n") == {"x": [[1.0, 2.0], [3.0, 4.0]]}


def test_arrays_and_rows_predict_in_the_models_order() -> None:
    assert predict_payload(np.array([[1.0, 2.0]])) == {"x": [[1.0, 2.0]]}
    assert predict_payload(np.array([1.0, 2.0])) == {"x": [[1.0, 2.0]]}
    assert predict_payload([{"Age": 3}]) == {"rows": [{"Age": 3}]}
    assert predict_payload([[1, 2]]) == {"x": [[1, 2]]}
    with pytest.raises(TypeError):
        predict_payload(3.5)
