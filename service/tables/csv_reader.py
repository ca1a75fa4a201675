"""A CSV upload read by pyarrow's multi-threaded reader: delimiter, header, quotes, nulls.

Only the first lines are looked at in Python: which delimiter (among `,` `;` tab `|`, the one that
splits them into the most columns, the same number each), whether the first row is a header
(any cell that is not a number, as in v1), and its names. pyarrow reads the rest: quoted fields
with delimiters and line breaks, a BOM, CRLF, decimal commas, the null values. A row with the
wrong number of cells is reported by its line number, as are a header's empty or duplicate names.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from descent.settings import Settings

from .faults import Faults, fail
from .options import DELIMITERS, ReadOptions

BOM = b"\xef\xbb\xbf"
HEAD_BYTES = 65_536
"""Bytes whose lines decide the delimiter and the header."""
HEAD_ROWS = 20


@dataclass(frozen=True)
class CsvTable:
    """The columns as pyarrow read them, and how a data row maps to a line of the file."""

    table: pa.Table
    header: bool

    def line(self, row: int) -> int:
        """The 1-based line of data row `row` (0-based), for a file without line breaks in fields."""
        return row + 1 + int(self.header)


def read_csv(data: bytes, options: ReadOptions, settings: Settings) -> CsvTable:
    """The upload's columns; a 400 naming the line and column of every fault."""
    buffer = pa.py_buffer(data)
    skip_bom = len(BOM) if data.startswith(BOM) else 0
    buffer = buffer[skip_bom:]  # a zero-copy slice
    head = data[skip_bom : skip_bom + HEAD_BYTES].decode("utf-8", errors="ignore")
    if not head.strip():
        raise fail("The dataset is empty.", "csv", "no rows")
    delimiter = options.delimiter or _detect(head, options.decimal)
    rows = _records(head, delimiter)
    if not rows:
        raise fail("The dataset is empty.", "csv", "no rows")
    first = rows[0]
    header = any(cell.strip() and not _is_number(cell, options.decimal) for cell in first)
    names = [c.strip() for c in first] if header else [f"col{j}" for j in range(len(first))]
    _check_names(names, header, settings)
    ragged: list[pacsv.InvalidRow] = []

    def skip(row: pacsv.InvalidRow) -> str:
        ragged.append(row)
        return "skip"


    def read(types: dict[str, pa.DataType] | None) -> pa.Table:
        return pacsv.read_csv(
            pa.BufferReader(buffer),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=int(header), use_threads=True),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=b'"' in data, invalid_row_handler=skip
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                null_values=list(options.null_values),
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                decimal_point=options.decimal,
            ),
        )

    table = None
    if all(_is_number(c, options.decimal) or c.strip() in options.null_values for r in rows[int(header) :] for c in r):
        # what programs write: numbers only, parsed straight to float32 (no float64 table)
        try:
            table = read(dict.fromkeys(names, pa.float32()))
        except pa.ArrowInvalid:
            table = None  # a cell further down is not a number: read again, inferring each column
        if table is not None and (ragged or not _finite(table)):
            table = None  # faults are reported by the general read, in the file's own numbers
        ragged.clear()
    if table is None:
        try:
            table = read(None)
        except pa.ArrowInvalid as exc:
            raise _unreadable(exc) from None
    if ragged:
        _report_ragged(ragged, data, len(names))
    binary = [name for name, field in zip(names, table.schema, strict=True) if pa.types.is_binary(field.type)]
    if binary:  # pyarrow keeps a column that is not valid UTF-8 as bytes
        raise fail(
            f"The file is not valid UTF-8 text (column {binary[0]!r}): save it as UTF-8, or upload "
            "Parquet or Arrow.",
            "csv",
            f"column {binary[0]!r} is not valid UTF-8",
        )
    return CsvTable(table, header)


def _records(text: str, delimiter: str) -> list[list[str]]:
    """The first non-empty records of `text` (the last one dropped when the text was cut)."""
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if r and any(c.strip() for c in r)]
    if len(text) >= HEAD_BYTES - 4 and len(rows) > 1:
        rows = rows[:-1]
    return rows[:HEAD_ROWS]


def _finite(table: pa.Table) -> bool:
    """No ±inf in a float32 table (a value beyond float32 parses as inf: the general read names it)."""
    return not any(pc.any(pc.is_inf(column)).as_py() for column in table.columns)


def _detect(head: str, decimal: str) -> str:
    """The delimiter that splits the first lines into the most columns, the same number each."""
    best, best_score = ",", (-1, -1)
    for delimiter in DELIMITERS:
        if delimiter == decimal:
            continue
        rows = _records(head, delimiter)
        if not rows:
            continue
        widths = {len(r) for r in rows}
        score = (int(len(widths) == 1 and len(rows[0]) > 1), len(rows[0]))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _is_number(cell: str, decimal: str) -> bool:
    text = cell.strip()
    if decimal == ",":
        text = text.replace(",", ".")
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_names(names: list[str], header: bool, settings: Settings) -> None:
    faults = Faults()
    seen: dict[str, int] = {}
    for j, name in enumerate(names):
        where = {"field": "csv", "row": 1, "column": name, "column_number": j + 1}
        if not name:
            faults.add(
                {
                    **where,
                    "message": f"line 1, column {j + 1}: empty column name; every column of the header "
                    "needs a name (an unnamed first column is often an index written by pandas' "
                    "to_csv: write it with index=False)",
                }
            )
        elif len(name) > settings.max_column_name_length:
            faults.add(
                {
                    **where,
                    "column": name[:40] + "…",
                    "message": f"line 1, column {j + 1}: a column name of {len(name)} characters; the "
                    f"limit is DESCENT_MAX_COLUMN_NAME_LENGTH = {settings.max_column_name_length}",
                }
            )
        elif name in seen:
            faults.add(
                {
                    **where,
                    "message": f"line 1, column {j + 1} ({name!r}): duplicate column name; column "
                    f"{seen[name] + 1} has the same name",
                }
            )
        else:
            seen[name] = j
    faults.raise_if_any()
    if len(names) < 2:
        raise fail(
            "The dataset needs at least 2 columns: one or more features and a target.",
            "csv",
            f"line 1 has {len(names)} column; put a feature and a target on each line",
        )
    if len(names) - 1 > settings.max_features:
        features = len(names) - 1
        raise fail(
            f"The dataset has {features} features, more than the limit DESCENT_MAX_FEATURES = "
            f"{settings.max_features}.",
            "csv",
            f"{features} features; the limit is DESCENT_MAX_FEATURES = {settings.max_features}",
        )


def _report_ragged(rows: list[pacsv.InvalidRow], data: bytes, expected: int) -> None:
    faults = Faults()
    start = 0
    for row in rows:
        text = row.text.encode()
        at = data.find(text, start) if len(faults.items) < 20 else -1
        line = data.count(b"\n", 0, at) + 1 if at >= 0 else None
        if at >= 0:
            start = at + len(text)
        count = row.actual_columns
        what = "empty line" if not count else f"has {count} value{'' if count == 1 else 's'}"
        shown = f"line {line}" if line is not None else "a line"
        faults.add(
            {
                "field": "csv",
                "row": line,
                "values": count,
                "expected": expected,
                "message": f"{shown}: {what}, expected {expected} (the number of columns in line 1)",
            }
        )
    faults.raise_if_any()


def _unreadable(exc: pa.ArrowInvalid) -> Exception:
    message = str(exc)
    if "UTF8" in message or "UTF-8" in message:
        return fail(
            "The file is not valid UTF-8 text: save it as UTF-8, or upload Parquet or Arrow.",
            "csv",
            "not valid UTF-8",
        )
    return fail(f"The CSV cannot be read: {message}", "csv", message)
