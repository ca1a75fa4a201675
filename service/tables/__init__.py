"""Uploads read into typed columns with Apache Arrow: CSV, Parquet, Arrow IPC and the JSON forms.

pyarrow's readers do the reading (multi-threaded, quoted fields, decimal commas, nulls, a BOM,
CRLF); descent decides each column's kind (kinds.py), names every fault by row and column
(faults.py) and describes the columns for the dataset resource (summary.py). The result is a
`descent.table.Table`, which the store keeps column by column.

    options.py      the format and CSV options of an upload, checked
    csv_reader.py   delimiter and header detection, then pyarrow.csv
    file_reader.py  Parquet and Arrow IPC
    json_reader.py  the two JSON forms
    kinds.py        Arrow columns → number, category, datetime, text; the target
    summary.py      the resource's columns, warnings and v1 stats
    column_stats.py a number or datetime column's summary, compiled (numba)
    threads.py      the threads an upload's pieces and columns are spread over
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from descent.settings import Settings
from descent.table import Table
from service.arriving_body import ArrivingBody
from service.upload_body import Body

from .csv_reader import read_csv
from .faults import fail
from .file_reader import read_arrow, read_parquet
from .json_reader import table_from_json
from .kinds import to_table
from .options import Format, ReadOptions, format_of, read_options
from .summary import describe

# pyarrow converts to and from numpy through its pandas shim, which imports pandas on first use when
# it is installed (not in the service image; in a dev or bench environment): ~200 ms and ~35 MB that
# would land on the first upload. Done here, at import: preloaded once in gunicorn's master.
pa.array([0.0])
# Arrow's buffers from the C library's allocator, not mimalloc: mimalloc keeps the pages a reader
# thread freed for that thread, so the columns converted next on the request's thread took new
# pages (an upload's peak was ~0.2x its file size higher, its first ~9 MB higher).
pa.set_memory_pool(pa.system_memory_pool())

__all__ = ["Format", "ReadOptions", "Upload", "describe", "format_of", "read_options", "read_upload", "table_from_json"]


class Upload:
    """An upload's bytes, handed to the reader once (`take`): once pyarrow has read them they are
    freed, and not held while the columns are converted and described (the file's size less at an
    upload's peak memory). A caller's reference would keep them: pass `Upload(body)` itself."""

    def __init__(self, data: Body | ArrivingBody) -> None:
        self._data: Body | ArrivingBody | None = data

    def take(self) -> Body | ArrivingBody:
        data, self._data = self._data, None
        if data is None:
            raise RuntimeError("an upload's bytes are taken once")
        return data


def read_upload(data: Body | ArrivingBody | Upload, fmt: Format, options: ReadOptions, settings: Settings) -> Table:
    """A file upload as typed columns; a 400 (or 413) problem naming every fault."""
    taken = data.take() if isinstance(data, Upload) else data
    del data
    if fmt == "csv":
        try:
            read = read_csv(taken, options, settings)
        finally:
            if isinstance(taken, ArrivingBody):
                taken.settle()  # the connection is gunicorn's again once its body is all in
        del taken  # the file, freed here when it came as an Upload

        def locate(row: int, j: int, message: str) -> dict[str, Any]:
            name = read.table.column_names[j]
            line = read.line(row)
            where = {"field": "csv", "row": line, "column": name, "column_number": j + 1}
            return {**where, "message": f"line {line}, column {j + 1} ({name!r}): {message}"}

        return to_table(read.table, options.target, settings, locate, options.decimal)
    data_table = read_parquet(taken) if fmt == "parquet" else read_arrow(taken)
    del taken

    def locate_row(row: int, j: int, message: str) -> dict[str, Any]:
        name = data_table.column_names[j]
        return {"field": "body", "row": row, "column": name, "message": f"row {row}, column {name!r}: {message}"}

    _check_names(data_table.column_names, settings)
    return to_table(data_table, options.target, settings, locate_row)


def _check_names(names: list[str], settings: Settings) -> None:
    long = [n for n in names if len(str(n)) > settings.max_column_name_length]
    if long:
        raise fail(
            f"A column name has {len(long[0])} characters; the limit is DESCENT_MAX_COLUMN_NAME_LENGTH = "
            f"{settings.max_column_name_length}.",
            "body",
            f"a column name longer than DESCENT_MAX_COLUMN_NAME_LENGTH = {settings.max_column_name_length}",
        )
    if len(names) - 1 > settings.max_features:
        raise fail(
            f"The dataset has {len(names) - 1} features, more than the limit DESCENT_MAX_FEATURES = "
            f"{settings.max_features}.",
            "body",
            f"{len(names) - 1} features; the limit is DESCENT_MAX_FEATURES = {settings.max_features}",
        )
