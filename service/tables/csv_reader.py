"""A CSV upload read by pyarrow: delimiter, header, quotes, nulls, in bounded memory.

Only the first lines are looked at in Python: which delimiter (among `,` `;` tab `|`, the one that
splits them into the most columns, the same number each), whether the first row is a header
(any cell that is not a number, as in v1), its names, and which columns hold only numbers (read
straight to float32). pyarrow reads the rest: quoted fields with delimiters and line breaks, a
BOM, CRLF, decimal commas, the null values. A row with the wrong number of cells is reported by
its line number, as are a header's empty or duplicate names.

Why the file is cut into pieces: pyarrow's multi-threaded reader reads ahead without bound and
holds about the file's size again in parse buffers at its peak. A file whose fields hold no line
break (no quote in it) is cut at line ends into one piece per core, each read by a single thread
(pyarrow releases the GIL) holding one block at a time: as fast, in a third of the memory. Any
doubt (a quote, pieces that disagree on a column's type, a fault) and the file is read whole,
with every column's type inferred, and the faults named from that read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from descent.settings import Settings
from service.arriving_body import ArrivingBody
from service.upload_body import Body

from .faults import Faults, fail
from .kinds import ISO_DATE
from .options import DELIMITERS, ReadOptions
from .threads import CORES, POOL

BOM = b"\xef\xbb\xbf"
HEAD_BYTES = 65_536
"""At most these bytes' lines decide the delimiter and the header..."""
HEAD_ROWS = 20
"""...and at most this many of their records."""
WORDS = pa.dictionary(pa.int32(), pa.string())
"""The type a column of words is read as (kinds.py takes the pieces' dictionaries as they are)."""
BOOLEANS = frozenset({"1", "0", "true", "false"})
"""What pyarrow reads as a boolean (its default true and false values, in any of their cases)."""
PIECE_BYTES = 4 << 20
"""A file is read in pieces from this size (a smaller one is read in one go)..."""
PIECES = 2 * CORES
"""...this many: two per core, so that an arriving file's first pieces are read while the last
arrive, and a thread that finishes early takes another piece."""


@dataclass(frozen=True)
class CsvTable:
    """The columns as pyarrow read them, and how a data row maps to a line of the file."""

    table: pa.Table
    header: bool

    def line(self, row: int) -> int:
        """The 1-based line of data row `row` (0-based), for a file without line breaks in fields."""
        return row + 1 + int(self.header)


def read_csv(data: Body | ArrivingBody, options: ReadOptions, settings: Settings) -> CsvTable:
    """The upload's columns; a 400 naming the line and column of every fault. An arriving body's
    pieces are read as they arrive."""
    skip_bom = len(BOM) if data[: len(BOM)] == BOM else 0
    whole = data.buffer if isinstance(data, ArrivingBody) else data
    body = pa.py_buffer(whole)[skip_bom:]  # a zero-copy slice
    head = _head(data, skip_bom)
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
    reader = _Reader(data, names, header, delimiter, options)
    # what programs write: columns of numbers (or missing cells) only, read straight to float32
    samples = rows[int(header) :]
    numbers = [
        name
        for j, name in enumerate(names)
        if samples and all(j < len(r) and (_is_number(r[j], options.decimal) or r[j].strip() in options.null_values) for r in samples)
    ]
    # and columns of words, read as dictionaries: each piece's thread encodes its own rows
    words = [
        name
        for j, name in enumerate(names)
        if name not in numbers and any(j < len(r) and _is_word(r[j], options) for r in samples)
    ]
    types = dict.fromkeys(numbers, pa.float32()) | dict.fromkeys(words, WORDS)
    table = reader.typed(body, types) if types or reader.cuttable(body) else None
    if table is None:
        reader.arrived()
        table = reader.inferred(body)
    binary = [name for name, field in zip(names, table.schema, strict=True) if pa.types.is_binary(field.type)]
    if binary:  # pyarrow keeps a column that is not valid UTF-8 as bytes
        raise fail(
            f"The file is not valid UTF-8 text (column {binary[0]!r}): save it as UTF-8, or upload "
            "Parquet or Arrow.",
            "csv",
            f"column {binary[0]!r} is not valid UTF-8",
        )
    return CsvTable(table, header)


class _Reader:
    """pyarrow's CSV reader with the upload's names, delimiter and null values."""

    def __init__(
        self, data: Body | ArrivingBody, names: list[str], header: bool, delimiter: str, options: ReadOptions
    ) -> None:
        self.data, self.names, self.header, self.options = data, names, header, options
        # whether a field may hold a line break: known once the file is in (an arriving file's
        # pieces look for a quote each); `in` walks a memory map byte by byte in Python
        self.quoted = None if isinstance(data, ArrivingBody) else data.find(b'"') != -1
        self.parse = {"delimiter": delimiter, "newlines_in_values": bool(self.quoted)}

    def arrived(self) -> None:
        """Wait for the whole of an arriving file, and look for a quote in it."""
        if isinstance(self.data, ArrivingBody):
            self.data = self.data.complete()
            self.quoted = self.data.find(b'"') != -1
            self.parse["newlines_in_values"] = self.quoted

    def cuttable(self, body: pa.Buffer) -> bool:
        """Whether the file can be read in pieces: big enough, and no field can hold a line break."""
        return not self.quoted and body.size >= PIECE_BYTES

    def typed(self, body: pa.Buffer, types: dict[str, pa.DataType]) -> pa.Table | None:
        """The file read with `types` (the other columns inferred), in pieces when it can be cut;
        None when a cell does not fit its type, a row is ragged, or the pieces disagree on a
        column's type: the inferred read names why."""
        skip = len(self.data) - body.size
        count = PIECES if self.cuttable(body) else 1
        ragged: list[pacsv.InvalidRow] = []
        floats = [n for n, t in types.items() if t == pa.float32()]

        def read(k: int) -> pa.Table | None:
            start, end = _boundary(self.data, skip, k, count), _boundary(self.data, skip, k + 1, count)
            if end <= start:
                return None  # a line longer than a piece: the piece before holds it
            if isinstance(self.data, ArrivingBody):
                self.data.wait(end)
                if self.data.buffer.find(b'"', start, end) != -1:
                    raise _ReadWhole  # a field may hold a line break
            piece = self._read(body[start - skip : end - skip], types, first=k == 0, threads=count == 1, invalid=ragged.append)
            if not _finite(piece, floats):  # checked while the piece is fresh in this core's cache
                raise _ReadWhole  # a value beyond float32 parses as inf: the inferred read names it
            return piece

        try:
            tables = [t for t in POOL.map(read, range(count)) if t is not None]
            table = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
        except (pa.ArrowInvalid, pa.ArrowTypeError, _ReadWhole):
            return None
        return None if ragged else table

    def inferred(self, body: pa.Buffer) -> pa.Table:
        """The whole file, every column's type inferred by pyarrow's multi-threaded reader; a 400
        naming the lines of ragged rows, or what pyarrow could not read."""
        ragged: list[pacsv.InvalidRow] = []
        try:
            table = self._read(body, None, first=True, threads=True, invalid=ragged.append)
        except pa.ArrowInvalid as exc:
            raise _unreadable(exc) from None
        if ragged:
            _report_ragged(ragged, body.to_pybytes(), len(self.names))
        return table

    def _read(
        self,
        piece: pa.Buffer,
        types: dict[str, pa.DataType] | None,
        first: bool,
        threads: bool,
        invalid: Callable[[pacsv.InvalidRow], object],
    ) -> pa.Table:
        def skip(row: pacsv.InvalidRow) -> str:
            invalid(row)
            return "skip"

        return pacsv.read_csv(
            pa.BufferReader(piece),
            read_options=pacsv.ReadOptions(
                column_names=self.names, skip_rows=int(self.header and first), use_threads=threads
            ),
            parse_options=pacsv.ParseOptions(**self.parse, invalid_row_handler=skip),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                null_values=list(self.options.null_values),
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                decimal_point=self.options.decimal,
            ),
        )


def _boundary(data: Body | ArrivingBody, start: int, k: int, count: int) -> int:
    """Where the k-th of `count` pieces of `data[start:]` begins: the line end after k/count of it
    (the start for the first, the end of the file past the last)."""
    if k == 0:
        return start
    if k >= count:
        return len(data)
    end = data.find(b"\n", start + k * (len(data) - start) // count) + 1
    return end if end > 0 else len(data)


class _ReadWhole(Exception):
    """A piece holds a quote (a field may hold a line break) or a number beyond float32: the file
    is read whole, its types inferred, and what is wrong named from that read."""


def _head(data: Body, skip: int) -> str:
    """The file's first lines: up to HEAD_ROWS + 2 of them within HEAD_BYTES, whole lines only
    unless the file (or its first line) ends sooner."""
    end, at, cut = min(len(data), skip + HEAD_BYTES), skip, skip
    for _ in range(HEAD_ROWS + 2):
        found = data.find(b"\n", at, end)
        if found < 0:
            break
        at = cut = found + 1
    else:
        return data[skip:cut].decode("utf-8", errors="ignore")
    if end == len(data) or cut == skip:  # the whole file, or a first line longer than HEAD_BYTES
        cut = end
    return data[skip:cut].decode("utf-8", errors="ignore")


def _records(text: str, delimiter: str) -> list[list[str]]:
    """The first non-empty records of `text`."""
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if r and any(c.strip() for c in r)]
    return rows[:HEAD_ROWS]


def _finite(table: pa.Table, names: list[str]) -> bool:
    """No ±inf in the float32 columns `names` (a value beyond float32 parses as inf)."""
    return not any(pc.any(pc.is_inf(table.column(name))).as_py() for name in names)


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


def _is_word(cell: str, options: ReadOptions) -> bool:
    """A cell no column type but a string holds: not missing, a number, a boolean or an ISO date."""
    text = cell.strip()
    return bool(text) and not (
        text in options.null_values
        or _is_number(text, options.decimal)
        or text.lower() in BOOLEANS
        or ISO_DATE.match(text)
    )


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
