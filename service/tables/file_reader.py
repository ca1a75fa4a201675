"""Parquet and Arrow IPC uploads: columnar files read as they are, their types kept.

Their columns already have types, so nothing is guessed but what a string column holds; a file that
is not what its content type says, or whose columns are nested or binary, is a 400 naming why.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from service.upload_body import Body

from .faults import fail

MAGIC = {"parquet": b"PAR1", "arrow": b"ARROW1"}


def read_parquet(data: Body) -> pa.Table:
    if data[: len(MAGIC["parquet"])] != MAGIC["parquet"]:
        raise fail(
            "The body is not a Parquet file (it does not start with PAR1); send it with the content "
            "type of what it is (text/csv, application/vnd.apache.arrow.file, …).",
            "body",
            "not a Parquet file",
        )
    try:
        return pq.read_table(pa.BufferReader(pa.py_buffer(data)), use_threads=True)
    except (pa.ArrowException, OSError) as exc:
        raise fail(f"The Parquet file cannot be read: {exc}", "body", "not a readable Parquet file") from None


def read_arrow(data: Body) -> pa.Table:
    """An Arrow IPC file (Feather v2) or stream."""
    source = pa.py_buffer(data)
    try:
        if data[: len(MAGIC["arrow"])] == MAGIC["arrow"]:
            return ipc.open_file(source).read_all()
        return ipc.open_stream(source).read_all()
    except (pa.ArrowException, OSError) as exc:
        raise fail(
            f"The body is not an Arrow IPC file or stream: {exc}", "body", "not an Arrow IPC file or stream"
        ) from None
