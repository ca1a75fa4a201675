"""A CSV big enough to be read in pieces (one per core) gives what one read of the whole file
gives: pandas is the reference; a fault in a later piece is still named by its line."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from descent.settings import Settings
from service.problems import Problem
from service.tables import ReadOptions, read_upload
from service.tables.csv_reader import PIECE_BYTES
from tests.support.real_data import big_mixed, csv_text

SETTINGS = Settings()


def read(text: str):
    return read_upload(text.encode(), "csv", ReadOptions(), SETTINGS)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return big_mixed()


@pytest.fixture(scope="module")
def text(frame) -> str:
    out = csv_text(frame, float_format="%.7g")
    assert len(out) > PIECE_BYTES and '"' not in out  # cut into pieces, not read whole
    return out


def test_a_big_file_read_in_pieces_equals_pandas(text: str) -> None:
    reference = pd.read_csv(io.StringIO(text))
    table = read(text)
    assert table.rows == len(reference)
    assert {c.name: c.kind for c in table.columns} == {
        "x": "number",
        "n": "number",
        "colour": "category",
        "day": "datetime",
        "y": "number",
    }
    for name in ("x", "n", "y"):
        np.testing.assert_array_equal(table.column(name).values, reference[name].to_numpy(np.float32))
    colour = table.column("colour")
    assert colour.labels == ("blue", "green", "red")
    by_row = np.array([colour.labels[c] if c >= 0 else None for c in colour.values], dtype=object)
    expected = reference["colour"].str.strip().to_numpy(dtype=object)
    assert all((a is None and pd.isna(b)) or a == b for a, b in zip(by_row, expected, strict=True))
    day = table.column("day")
    seconds = (pd.to_datetime(reference["day"]) - pd.Timestamp("1970-01-01")).dt.total_seconds().to_numpy()
    np.testing.assert_array_equal(day.values, seconds)  # NaN where missing, in both
    assert day.has_time


def test_a_number_column_with_a_word_in_the_last_piece_is_read_as_a_whole(frame: pd.DataFrame) -> None:
    changed = frame.copy()
    changed["n"] = changed["n"].astype(object)
    changed.loc[len(changed) - 3, "n"] = "unknown"  # the head says numbers; the last piece does not
    text = csv_text(changed, float_format="%.7g")
    table = read(text)
    assert table.rows == len(frame)
    assert table.column("n").kind == "text"  # 100 distinct numbers and a word: over the category limit
    reference = pd.read_csv(io.StringIO(text), usecols=["x"])
    np.testing.assert_array_equal(table.column("x").values, reference["x"].to_numpy(np.float32))


def test_a_ragged_row_in_a_later_piece_is_named_by_its_line(text: str) -> None:
    lines = text.splitlines()
    at = len(lines) - 10
    lines[at] += ",7"
    with pytest.raises(Problem) as caught:
        read("\n".join(lines) + "\n")
    assert caught.value.status == 400
    assert caught.value.errors[0]["row"] == at + 1, caught.value.errors
    assert f"line {at + 1}: has 6 values, expected 5" in caught.value.errors[0]["message"]


@pytest.mark.parametrize("at_fraction", [0.1, 0.9])  # the first piece, and the last
def test_a_number_beyond_float32_in_any_piece_is_named_by_its_line(text: str, at_fraction: float) -> None:
    lines = text.splitlines()
    at = int(len(lines) * at_fraction)
    cells = lines[at].split(",")
    x = lines[0].split(",").index("x")
    cells[x] = "1e39"  # parses as inf in a float32 piece: the whole file is read again to name it
    lines[at] = ",".join(cells)
    with pytest.raises(Problem) as caught:
        read("\n".join(lines) + "\n")
    error = caught.value.errors[0]
    assert caught.value.status == 400 and error["row"] == at + 1 and error["column"] == "x", caught.value.errors
    assert "larger in magnitude than float32" in error["message"]
