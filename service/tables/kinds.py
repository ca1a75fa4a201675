"""Arrow columns to descent's typed columns: each gets its kind (API.md, "Real-world datasets").

Integers and floats are numbers (float32; a value that is infinite or beyond float32 is a fault
naming its row and column; NaN is a missing cell). Booleans are categories. Dates and timestamps
are datetimes (epoch seconds, UTC). Strings are trimmed, then read as numbers when every one is
one (with the upload's decimal mark), as datetimes when every one is an ISO 8601 date or time, else
as a category when they have at most DESCENT_MAX_CATEGORIES distinct values and do not differ in
most rows, else as text (names, ids: never a feature). Anything else is refused, by column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from descent.settings import Settings
from descent.table import Column, Table
from service.problems import too_large

from .faults import Faults, fail, list_names
from .threads import POOL

FLOAT32_MAX = float(np.finfo(np.float32).max)
SAMPLE = 100
"""A string column's first values looked at before reading all of it as numbers or datetimes."""
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
TEXT_SHARE = 0.5
"""A string column whose distinct values exceed this share of its rows is text (names, ids)..."""
TEXT_MIN_ROWS = 10
"""...once it has this many values (a small table's categories may all differ)."""

Locate = Callable[[int, int, str], dict[str, Any]]
"""(row, column index, message) → the error naming where the cell is, in the upload's own terms."""


def to_table(
    data: pa.Table, target: str | int | None, settings: Settings, locate: Locate, decimal: str = "."
) -> Table:
    """The typed columns, and the target resolved (name, or index for CSV and the JSON rows form)."""
    names = [str(n) for n in data.column_names]
    rows = data.num_rows
    if rows < 2:
        raise fail(
            f"The dataset has {rows} row{'' if rows == 1 else 's'}; at least 2 are needed.",
            "rows",
            f"{rows} row{'' if rows == 1 else 's'}; at least 2 are needed",
        )
    if rows * len(names) > settings.max_dataset_cells:
        raise too_large(
            "DESCENT_MAX_DATASET_CELLS",
            settings.max_dataset_cells,
            f"The dataset has {rows:,} rows × {len(names)} columns = {rows * len(names):,} cells",
        )
    def convert(j: int) -> tuple[Column, Faults]:
        faults = Faults()  # one per column: the columns are converted on several threads
        return _column(names[j], j, data.column(j), settings, locate, decimal, faults), faults

    converted = list(POOL.map(convert, range(len(names))))
    columns = [column for column, _ in converted]
    Faults.merged([faults for _, faults in converted]).raise_if_any()
    target_name = names[resolve_target(target, names)]
    chosen = next(c for c in columns if c.name == target_name)
    if chosen.kind in ("text", "datetime"):
        why = "text (a distinct value in most rows, or more than DESCENT_MAX_CATEGORIES values)"
        raise fail(
            f"The target {target_name!r} is {why if chosen.kind == 'text' else 'a datetime'}: it cannot be learned.",
            "target",
            f"{target_name!r} is {chosen.kind}; choose a number or category column",
        )
    if chosen.missing().all():
        raise fail(f"The target {target_name!r} has no value.", "target", f"every cell of {target_name!r} is missing")
    return Table(tuple(columns), target_name, rows)


def resolve_target(target: str | int | None, names: list[str]) -> int:
    """The target's index: a name, an index (negative from the end) or by default the last column."""
    ncols = len(names)
    if target is None or (isinstance(target, str) and not target.strip()):
        return ncols - 1
    if isinstance(target, str):
        wanted = target.strip()
        if wanted in names:
            return names.index(wanted)
        if not (wanted.lstrip("-").isdigit()):
            raise fail(
                f"The target column {wanted!r} is not in the dataset.",
                "target",
                f"no column named {wanted!r}; columns are: {list_names(names)}",
            )
        target = int(wanted)
    if -ncols <= target < ncols:
        return target % ncols
    raise fail(
        f"The target column index {target} is out of range.",
        "target",
        f"column index {target} is out of range: there are {ncols} columns (0 to {ncols - 1}, or "
        f"-{ncols} to -1 from the end)",
    )


def _column(
    name: str, j: int, values: pa.ChunkedArray, settings: Settings, locate: Locate, decimal: str, faults: Faults
) -> Column:
    kind = values.type
    if pa.types.is_dictionary(kind) and (pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type)):
        return _strings(name, j, values, settings, locate, decimal, faults)
    if pa.types.is_dictionary(kind):
        values, kind = values.cast(kind.value_type), kind.value_type
    if pa.types.is_null(kind):
        return Column(name, "number", np.full(len(values), np.nan, dtype=np.float32))
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return _numbers(name, j, values, locate, faults)
    if pa.types.is_boolean(kind):
        codes = pc.fill_null(pc.cast(values, pa.int32()), -1).to_numpy()
        return Column(name, "category", np.ascontiguousarray(codes, dtype=np.int32), (False, True))
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return _datetimes(name, values)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _strings(name, j, values, settings, locate, decimal, faults)
    faults.add(
        {
            "field": "columns",
            "column": name,
            "column_number": j + 1,
            "message": f"column {j + 1} ({name!r}) has type {kind}, which cannot be a feature or a "
            "target: store numbers, strings, booleans, dates or timestamps",
        }
    )
    return Column(name, "text", None)


def _numbers(name: str, j: int, values: pa.ChunkedArray, locate: Locate, faults: Faults) -> Column:
    if pa.types.is_float32(values.type):  # stored as it is, unless a value is infinite
        as_float32 = np.ascontiguousarray(values.to_numpy(), dtype=np.float32)
        if not np.isinf(as_float32).any():
            return Column(name, "number", as_float32)
    as_float = values.cast(pa.float64()) if not pa.types.is_float64(values.type) else values
    numbers = as_float.to_numpy()  # nulls become NaN
    bad = np.flatnonzero(np.abs(numbers) > FLOAT32_MAX)  # ±inf too; NaN (missing) compares false
    for row in bad[:20]:
        v = float(numbers[row])
        why = "infinite values are not allowed" if np.isinf(v) else f"larger in magnitude than float32 allows ({FLOAT32_MAX:.7g})"
        faults.add(locate(int(row), j, f"{v!r} is out of range: {why}"))
    faults.total += max(0, bad.size - 20)
    if bad.size:
        return Column(name, "number", np.zeros(numbers.shape, dtype=np.float32))  # rejected anyway
    return Column(name, "number", numbers.astype(np.float32))


def _datetimes(name: str, values: pa.ChunkedArray) -> Column:
    kind = values.type
    stamps = values.cast(pa.timestamp("us", kind.tz)) if pa.types.is_timestamp(kind) else values.cast(pa.timestamp("us"))
    micros = pc.cast(stamps, pa.int64()).to_numpy(zero_copy_only=False)
    missing = np.asarray(pc.is_null(stamps).to_numpy(zero_copy_only=False), dtype=bool)
    seconds = micros.astype(np.float64) / 1e6
    seconds[missing] = np.nan
    has_time = bool(np.any(np.nan_to_num(seconds) % 86400 != 0))
    return Column(name, "datetime", seconds, has_time=has_time)


def _strings(
    name: str, j: int, values: pa.ChunkedArray, settings: Settings, locate: Locate, decimal: str, faults: Faults
) -> Column:
    """A string column, dictionary-encoded first (one hash pass over the rows, or read so: the CSV
    reader's pieces encode their own rows): trimming, the number and datetime tries and the
    category labels then work on the distinct values only."""
    indices, dictionary = _encoded(values)
    dictionary = pc.utf8_trim_whitespace(dictionary)
    dictionary = pc.if_else(pc.equal(dictionary, ""), pa.scalar(None, dictionary.type), dictionary)
    numeric = pc.replace_substring(dictionary, ",", ".") if decimal == "," else dictionary
    sample = [v for v in numeric.slice(0, 4 * SAMPLE).to_pylist() if v is not None][:SAMPLE]
    attempts = []
    if all(_is_number(v) for v in sample):
        attempts.append(lambda: numeric.cast(pa.float64()))
    if all(ISO_DATE.match(v) for v in sample):
        attempts.append(lambda: dictionary.cast(pa.timestamp("us")))
    for attempt in attempts:  # a cast of the distinct values, tried only when the first ones fit
        try:
            converted = pc.take(attempt(), indices)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        if pa.types.is_timestamp(converted.type):
            return _datetimes(name, converted)
        return _numbers(name, j, converted, locate, faults)
    rows = pc.fill_null(indices, -1).to_numpy()
    valid = np.append(dictionary.is_valid().to_numpy(zero_copy_only=False), False)
    present = int(np.count_nonzero(valid[rows]))  # index -1 (a missing cell) reads the appended False
    distinct = pc.unique(dictionary.drop_null())
    if len(distinct) > settings.max_categories or (present >= TEXT_MIN_ROWS and len(distinct) > TEXT_SHARE * present):
        return Column(name, "text", None)
    labels = tuple(sorted(distinct.to_pylist()))
    codes = pc.fill_null(pc.index_in(dictionary, value_set=pa.array(labels, type=dictionary.type)), -1)
    lookup = np.append(codes.to_numpy().astype(np.int32), np.int32(-1))
    return Column(name, "category", lookup[rows], labels)


def _encoded(values: pa.ChunkedArray) -> tuple[pa.ChunkedArray, pa.Array]:
    """A string column as (int32 indices, one dictionary): encoded here, or its chunks' own
    dictionaries (one per piece the CSV reader read) unified."""
    if pa.types.is_dictionary(values.type):
        encoded = values.unify_dictionaries()
    else:
        encoded = pc.dictionary_encode(values)  # the chunks share one dictionary
    indices = pa.chunked_array([c.indices.cast(pa.int32()) for c in encoded.chunks], pa.int32())
    value_type = values.type.value_type if pa.types.is_dictionary(values.type) else values.type
    dictionary = encoded.chunks[-1].dictionary if encoded.num_chunks else pa.array([], value_type)
    return indices, dictionary


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
