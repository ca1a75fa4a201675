"""What the client sends for a table given as a pandas DataFrame, a numpy array, a path or CSV text.

Why a module of its own: the client works with the standard library alone, and a data scientist
hands it whatever they hold. pandas and pyarrow are imported only when a DataFrame is passed (so
they are installed); a DataFrame is uploaded as Parquet when pyarrow is there, keeping its types,
categories and missing values exactly, else as CSV. Rows to predict go as JSON by column name, so
a file or frame whose columns are in another order still predicts right.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

CONTENT_TYPES = {
    ".csv": "text/csv",
    ".tsv": "text/csv",
    ".txt": "text/csv",
    ".parquet": "application/vnd.apache.parquet",
    ".arrow": "application/vnd.apache.arrow.file",
    ".feather": "application/vnd.apache.arrow.file",
}
"""The content type of an uploaded file, by its extension (anything else is sent as CSV)."""

_NULLS = frozenset({"", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"})
"""CSV cells read as missing values: the server's default `null_values`."""


def is_dataframe(data: Any) -> bool:
    """A pandas DataFrame, recognised without importing pandas."""
    return type(data).__module__.startswith("pandas") and hasattr(data, "columns")


def is_ndarray(data: Any) -> bool:
    return type(data).__module__ == "numpy" and hasattr(data, "ndim")


def as_path(data: Any) -> Path | None:
    """`data` as a file path: a Path (or os.PathLike), or a one-line string naming an existing file."""
    if isinstance(data, os.PathLike):
        return Path(data)
    if isinstance(data, str) and "\n" not in data and Path(data).is_file():
        return Path(data)
    return None


def target_column(y: Any, target: str | None) -> str:
    """The name a DataFrame's separately given target takes: `target`, else the Series' name, else y."""
    return target or getattr(y, "name", None) or "y"


def upload_body(data: Any, y: Any = None, target: str | None = None) -> tuple[bytes, str, str]:
    """(body, content type, file name) for POST /v1/datasets.

    A path: the file as it is. A string that is not a path: CSV text. A DataFrame: Parquet (or CSV
    without pyarrow), with `y` (a Series or array) added as the target column. A 2-D numpy array:
    CSV of its numbers, `y` added as the last column (the default target).
    """
    path = as_path(data)
    if path is not None:
        return path.read_bytes(), CONTENT_TYPES.get(path.suffix.lower(), "text/csv"), path.name
    if isinstance(data, str):
        return data.encode(), "text/csv", "data.csv"
    if isinstance(data, bytes):
        return data, "text/csv", "data.csv"
    if is_dataframe(data):
        frame = data if y is None else data.assign(**{target_column(y, target): list(y)})
        try:
            buffer = io.BytesIO()
            frame.to_parquet(buffer, index=False)
            return buffer.getvalue(), CONTENT_TYPES[".parquet"], "data.parquet"
        except ImportError:  # no pyarrow: CSV keeps the values, the server infers the kinds again
            return frame.to_csv(index=False).encode(), "text/csv", "data.csv"
    if is_ndarray(data):
        import numpy as np

        table = np.asarray(data, dtype=np.float64)
        if table.ndim != 2:
            raise ValueError(f"an array to upload must be 2-D (rows × columns), got shape {table.shape}")
        if y is not None:
            table = np.column_stack([table, np.asarray(y, dtype=np.float64)])
        text = io.StringIO()
        np.savetxt(text, table, delimiter=",", fmt="%.17g")
        return text.getvalue().encode(), "text/csv", "data.csv"
    raise TypeError(
        f"cannot upload a {type(data).__name__}: give a path, CSV text, a pandas DataFrame or a 2-D numpy array"
    )


def predict_payload(data: Any) -> dict[str, Any]:
    """The JSON body of POST /v1/jobs/{id}/predict for `data`.

    A DataFrame, a CSV file or CSV text with a header: `{"columns", "rows"}`, matched by name on the
    server. Objects (a list of dicts): `{"rows"}`. A numpy array or a list of number lists (or a CSV
    of numbers without a header): `{"x"}`, in the model's `feature_names` order.
    """
    if is_dataframe(data):
        return {"columns": [str(c) for c in data.columns], "rows": [_row(r) for r in data.itertuples(index=False)]}
    if is_ndarray(data):
        rows = data.tolist()
        return {"x": [rows] if data.ndim == 1 else rows}
    path = as_path(data)
    if path is not None or isinstance(data, str):
        text = path.read_text(encoding="utf-8-sig") if path is not None else data
        return _csv_payload(text)
    if isinstance(data, Sequence) and data and all(isinstance(r, Mapping) for r in data):
        return {"rows": [dict(r) for r in data]}
    if isinstance(data, Sequence):
        return {"x": [list(r) for r in data]}
    raise TypeError(
        f"cannot predict a {type(data).__name__}: give a DataFrame, an array, rows, a path or CSV text"
    )


def _csv_payload(text: str) -> dict[str, Any]:
    """A CSV's rows: by header name when the first row is a header, else as numbers in order."""
    sample = text[:65_536]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(io.StringIO(text), dialect) if row]
    if not rows:
        raise ValueError("the file has no rows")
    if all(isinstance(_cell(v), float) for v in rows[0]):
        return {"x": [[float(v) for v in row] for row in rows]}
    header, body = rows[0], rows[1:]
    return {"columns": [h.strip() for h in header], "rows": [[_cell(v) for v in row] for row in body]}


def _cell(text: str) -> Any:
    """A CSV cell as JSON: a number when it reads as one, None when it is a null value, else the text."""
    stripped = text.strip()
    if stripped in _NULLS:
        return None
    try:
        return float(stripped)
    except ValueError:
        return stripped


def _row(values: Sequence[Any]) -> list[Any]:
    return [_value(v) for v in values]


def _value(value: Any) -> Any:
    """A DataFrame cell as JSON: NaN, NaT and None as null, numpy scalars as Python, times as ISO."""
    if value is None or type(value).__name__ == "NAType":  # pandas.NA
        return None
    if hasattr(value, "isoformat"):
        return None if str(value) == "NaT" else value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (str, bool, int, float)):
        return value
    return json.loads(json.dumps(value, default=str))
