"""Turn an uploaded dataset (CSV text, or one of the two JSON forms) into float32 arrays.

Pure: numpy and the standard library only, so the API process, the worker and the tests can all
import it without torch, flask or redis.

Every rejection raises `Problem` (built with `invalid` or `too_large`) whose ``errors`` name the
fault precisely: for CSV the 1-based line number and the column (name and 1-based number), for
JSON an indexed field path such as ``x[3][1]``. Up to `MAX_ERRORS` errors are listed at once (the
first ones in reading order); ``detail`` says how many there were in all.

What counts as a number
    A cell or JSON value is a number when it is a JSON number (not a boolean, not a string) or, for
    CSV, when Python's ``float()`` accepts the cell after stripping surrounding whitespace (so
    ``1e5``, `` 2.5 ``, ``-.5`` and ``1_000`` are numbers). NaN and infinities parse as numbers but
    are rejected as values, as are finite values that overflow float32 (|v| > 3.4e38): datasets
    are stored as float32.

Speed
    An upload of plain numbers (bytes, ASCII, no quote or carriage return: what a program writes)
    is read by `_fast_csv`: a compiled (numba) pass over the bytes that tokenizes and converts each
    cell straight into float32, with no decoded text, no list of lines and no float64 table. A
    cell whose decimal mantissa and exponent fit Clinger's exact case (at most 2⁵³ and |e| ≤ 22:
    one correctly rounded multiplication or division of exact doubles) is converted there; any
    other is converted afterwards by ``float()``. Both are the correctly rounded double, which is
    what ``float()`` and ``np.loadtxt`` give, so the values are those of the general path. Anything
    else — a quote, a stray character, a ragged or blank row, a value that is not finite in
    float32, a header or target problem — makes `_fast_csv` step aside, and the general path
    below parses the upload and reports every fault as it always has.

    On the general path a CSV is split into lines with ``str.split`` (or, when it contains a ``"``,
    with the C ``csv`` module) and converted in one ``np.loadtxt`` call, numpy's C tokenizer. Only
    when that bulk conversion fails (or disagrees on the shape) does a slow per-cell scan run, to
    find every faulty line and column; the scan uses ``float()``, whose grammar is a superset of
    ``loadtxt``'s, so both paths accept the same values and produce the same doubles.
"""

from __future__ import annotations

import csv
import itertools
import math
import os
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from descent.settings import Settings
from service.problems import Problem, invalid, too_large

MAX_ERRORS = 20
"""How many faults one rejection lists; ``detail`` gives the total."""

FLOAT32_MAX = float(np.finfo(np.float32).max)

_F32_LIMIT = 2.0**128 - 2.0**103
"""The smallest magnitude that rounds to infinity when cast to float32 (FLT_MAX + half an ulp).

Values strictly below it in magnitude are stored as finite float32 numbers; this is exactly the
set for which ``np.float32(v)`` is finite, so the slow scan and the vectorised check agree.
"""

_BOM = b"\xef\xbb\xbf"
_INDEX = re.compile(r"-?[0-9]+")
_SHOWN_NAMES = 30
"""Column names listed in an "unknown target" message before it is cut short."""
_PIECE_BYTES = 1 << 22
"""A CSV body is parsed in pieces of about this many bytes (at most `_THREADS` pieces), each on its
own thread: the compiled kernels release the GIL, so a large upload uses every core."""
_PIECE_CELLS = 1 << 20
"""The same for the column statistics of `describe`: rows are split in pieces of this many cells."""
_THREADS = max(1, min(4, os.cpu_count() or 1))
_POOL: ThreadPoolExecutor | None = None


def _map_pieces(work: Callable[[int], Any], pieces: int) -> list[Any]:
    """work(0), …, work(pieces − 1), on the shared pool when there is more than one."""
    global _POOL
    if pieces == 1:
        return [work(0)]
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="descent-parse")
    return list(_POOL.map(work, range(pieces)))


def _csv_pattern() -> str:
    """The grammar of an acceptable CSV upload, as a JSON Schema (ECMA-262) pattern.

    Every CSV `parse_csv` accepts matches it; what it cannot say is that every row has as many
    cells as the first, that header names are unique, that the target names a column and that the
    values fit float32. Cells are numbers as ``float()`` reads them (digits with single
    underscores, a decimal point, an exponent; NaN and infinities are never accepted values),
    possibly quoted and padded with whitespace; the optional header row is any RFC 4180 record.
    """
    space = r"(?:[^\S\n]|[\x1c-\x1f])*"  # str.strip's whitespace within a line
    any_space = r"[\s\x1c-\x1f]*"
    digits = r"\d(?:_?\d)*"
    number = rf"[+-]?(?:{digits}(?:\.(?:{digits})?)?|\.{digits})(?:[eE][+-]?{digits})?"
    cell = rf'{space}(?:{number}|"{any_space}{number}{any_space}"){space}'
    row = rf"{cell}(?:,{cell})+"
    name = r'(?:"(?:[^"]|"")*"|[^,\n]*)'
    header = rf"{name}(?:,{name})+"
    return rf"^\ufeff?(?:{header}\r?\n)?{row}(?:\n{row})+{any_space}$"


CSV_PATTERN = _csv_pattern()
"""Matches every CSV upload that can be accepted (see `_csv_pattern`)."""


@dataclass(frozen=True, eq=False)
class ParsedDataset:
    """A parsed dataset: features ``x`` (rows × features) and target ``y`` (rows), float32.

    ``eq=False``: a generated ``__eq__``/``__hash__`` over numpy arrays would raise, so datasets
    compare (and hash) by identity.
    """

    x: np.ndarray
    """float32, C-contiguous, shape (rows, features), features >= 1."""
    y: np.ndarray
    """float32, shape (rows,)."""
    feature_names: list[str]
    target_name: str

    @property
    def rows(self) -> int:
        return int(self.x.shape[0])

    @property
    def features(self) -> int:
        return int(self.x.shape[1])


# --------------------------------------------------------------------------------------------
# Error collection


class _Errors:
    """The first `MAX_ERRORS` faults found, and how many there were in all."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.total = 0

    def add(self, error: dict[str, Any]) -> None:
        self.total += 1
        if len(self.items) < MAX_ERRORS:
            self.items.append(error)

    def add_lazily(self, make: Callable[..., dict[str, Any]], *args: Any) -> None:
        """``add(make(*args))``, calling ``make`` only if the error will be listed."""
        if len(self.items) < MAX_ERRORS:
            self.add(make(*args))
        else:
            self.total += 1

    def add_cells(self, bad: np.ndarray, error: Callable[[tuple[int, ...]], dict[str, Any]]) -> None:
        """Add one error per True cell of ``bad``, in row-major order, building only those listed."""
        count = int(np.count_nonzero(bad))
        room = max(0, MAX_ERRORS - len(self.items))
        for index in np.argwhere(bad)[:room]:
            self.add(error(tuple(int(k) for k in index)))
        self.total += count - min(count, room)

    def raise_if_any(self, what: str) -> None:
        if not self.total:
            return
        first = self.items[0]
        first_text = first["message"] if first.get("field") == "csv" else _field_message(first)
        if self.total == 1:
            detail = f"The {what} was rejected: {first_text}."
        else:
            listed = (
                f"all {self.total} are listed in errors"
                if self.total <= len(self.items)
                else f"the first {len(self.items)} are listed in errors"
            )
            detail = (
                f"The {what} was rejected: {self.total} problems were found ({listed}); "
                f"the first: {first_text}."
            )
        raise invalid(detail, self.items)


def _field_message(error: dict[str, Any]) -> str:
    return f"{error['field']}: {error['message']}"


def _fail(detail: str, field: str, message: str, **extra: Any) -> Problem:
    """A single structural fault (empty data, too few rows, ...): nothing else is worth listing."""
    return invalid(detail, [{"field": field, **extra, "message": message}])


def _show(value: str, limit: int = 40) -> str:
    """repr() of a cell for a message, cut short when long."""
    if len(value) > limit:
        return repr(value[:limit]) + "…"
    return repr(value)


def _nonfinite_message(value: float, text: str | None) -> str:
    """Why a value parsed as a number is still rejected (NaN, ±inf, or out of float32 range)."""
    shown = _show(text) if text is not None else repr(value)
    if math.isnan(value):
        return f"not a finite number: {shown} (NaN is not allowed)"
    if math.isinf(value):
        if text is None or "inf" in text.lower():
            return f"not a finite number: {shown} (infinite values are not allowed)"
        return f"out of range: {shown} overflows to infinity"
    return f"out of range: {shown} is larger in magnitude than float32 allows ({FLOAT32_MAX:.7g})"


# --------------------------------------------------------------------------------------------
# CSV


def parse_csv(
    data: bytes | bytearray | memoryview | str, target: str | None, settings: Settings
) -> ParsedDataset:
    """Parse a CSV upload.

    Format: UTF-8 (a leading BOM is dropped), comma separated, RFC 4180 quoting, ``\\n`` or
    ``\\r\\n`` line ends; blank (empty or whitespace-only) lines at the end are ignored, a blank
    line anywhere else is a row with the wrong number of values.

    Header: the first row is a header when any of its cells, stripped of surrounding whitespace,
    is non-empty and not a number; header names are stripped. A first row of numbers only, even
    number-like names such as ``1,2,3``, is data, and the columns are named ``col0``, ``col1``, ….
    (An empty cell does not make a header: ``1,,3`` is a data row with a missing value.) Header
    names must be non-empty and unique.

    ``target`` (the ``target`` query parameter) picks the target column; the other columns are
    the features, in file order:

    - ``None``, or an empty/whitespace-only string: the last column;
    - a column name, matched exactly after stripping surrounding whitespace; a name wins over an
      index, so with a header ``a,2,b`` the target ``"2"`` is the column named ``2``;
    - otherwise an integer written as ``[-]digits``: a 0-based index, negative ones counting from
      the end (``"-1"`` is the last column, ``"0"`` the first);
    - anything else is a 400 on field ``target`` listing the columns.

    Limits: rows × columns (data rows; header excluded) above ``settings.max_dataset_cells`` is a
    413, checked from the line count before any number is converted (for quoted CSVs, while the
    rows are being split); more than ``settings.max_features`` feature columns is a 400.
    """
    fast = _fast_csv(data, target, settings)
    if fast is not None:
        return fast
    text = _decode(data)
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    # Blank trailing lines go, and with them trailing spaces of the last cell (which stripping
    # would drop anyway).
    text = text.rstrip()
    if not text:
        raise _fail(
            "The CSV is empty: send a header row (optional) and at least 2 rows of numbers.",
            "csv",
            "no rows",
        )
    first, first_end, first_lines = _first_record(text)
    if not first or (len(first) == 1 and not first[0].strip()):
        raise _fail(
            "The CSV's first line is empty: it must hold the column names or the first row of data.",
            "csv",
            "line 1: empty line; expected the header or the first data row",
            row=1,
        )
    ncols = len(first)
    if ncols < 2:
        raise _fail(
            "The CSV has only 1 column; it needs at least 2: one or more features and the target.",
            "csv",
            f"line 1: has 1 column ({_show(first[0].strip())}); need at least 2",
            row=1,
        )
    _check_features(ncols - 1, settings, "csv")
    header = _is_header(first)
    names = [c.strip() for c in first] if header else [f"col{j}" for j in range(ncols)]
    # The data rows: split on commas, unless a quote appears in them (a quoted header alone, as
    # R's write.csv makes, keeps the fast path). 413 here, before any number is converted.
    body, skip = (first_end, first_lines) if header else (0, 0)
    source: _Source = (
        _QuotedSource(text, body, skip, ncols, settings)
        if text.find('"', body) >= 0
        else _PlainSource(text, body, skip, ncols, settings)
    )
    del text  # the source holds what is needed; free the decoded copy early
    nrows = source.nrows
    if nrows < 2:
        what = "no data rows" if nrows == 0 else "only 1 data row"
        raise _fail(
            f"The CSV has {what}{' after its header' if header else ''}: a dataset needs at least 2 rows.",
            "csv",
            f"{what}; need at least 2",
        )

    errors = _Errors()
    if header:
        _check_header(names, errors)
    target_index = _resolve_csv_target(target, names, errors)
    values = _csv_values(source, ncols, names, errors)
    errors.raise_if_any("CSV")
    assert values is not None and target_index is not None
    return _split(values, target_index, names)


def _decode(data: bytes | bytearray | memoryview | str) -> str:
    if isinstance(data, str):
        return data[1:] if data.startswith("\ufeff") else data
    raw = bytes(data)
    skip = len(_BOM) if raw.startswith(_BOM) else 0
    try:
        return raw[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + skip
        line = raw.count(b"\n", 0, offset) + 1
        byte = raw[offset]
        raise _fail(
            f"The CSV is not valid UTF-8: byte 0x{byte:02x} at byte offset {offset} (line {line}) "
            "cannot be decoded. Save the file as UTF-8 and upload it again.",
            "csv",
            f"line {line}: byte offset {offset}: invalid UTF-8 byte 0x{byte:02x}",
            row=line,
            byte_offset=offset,
        ) from None


def _check_features(features: int, settings: Settings, field: str) -> None:
    if features > settings.max_features:
        raise _fail(
            f"The dataset has {features} features, more than the limit "
            f"DESCENT_MAX_FEATURES = {settings.max_features}.",
            field,
            f"{features} features; the limit is DESCENT_MAX_FEATURES = {settings.max_features}",
        )


def _check_cells(rows: int, columns: int, settings: Settings, *, at_least: bool = False) -> None:
    if rows * columns > settings.max_dataset_cells:
        more = "at least " if at_least else ""
        raise too_large(
            "DESCENT_MAX_DATASET_CELLS",
            settings.max_dataset_cells,
            f"The dataset has {more}{rows:,} rows × {columns} columns = {more}{rows * columns:,} cells",
        )


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _is_header(cells: Sequence[str]) -> bool:
    return any(c.strip() and not _is_number(c) for c in cells)


def _malformed(line: int, exc: csv.Error) -> Problem:
    return _fail(
        f"The CSV is malformed in the record starting on line {line}: {exc}. Quote a field "
        'as a whole ("like this", with "" for a quote inside it).',
        "csv",
        f"line {line}: malformed CSV: {exc}",
        row=line,
    )


def _iter_lines(text: str, start: int) -> Iterator[str]:
    """The lines of ``text[start:]``, each with its ``\\n``; only ``\\n`` ends a line.

    (``str.splitlines`` would also split on form feeds and other separators, and ``io.StringIO``
    would copy the whole text.)
    """
    end = len(text)
    while start < end:
        stop = text.find("\n", start)
        if stop < 0:
            yield text[start:]
            return
        yield text[start : stop + 1]
        start = stop + 1


def _first_record(text: str) -> tuple[list[str], int, int]:
    """The cells of the first record, the offset just past it and how many lines it spans."""
    newline = text.find("\n")
    line_end = len(text) if newline < 0 else newline
    if text.find('"', 0, line_end) < 0:
        return text[:line_end].split(","), min(line_end + 1, len(text)), 1
    reader = csv.reader(_iter_lines(text, 0), strict=True)
    try:
        first = next(reader)
    except csv.Error as exc:
        raise _malformed(1, exc) from None
    lines = reader.line_num
    offset = 0
    for _ in range(lines):
        offset = text.find("\n", offset) + 1
        if offset == 0:  # the record runs to the end of the text
            return first, len(text), lines
    return first, offset, lines


class _Source:
    """The data rows of a CSV (header excluded), as text lines and as cells."""

    nrows: int

    def lines(self) -> list[str] | None:
        """The data rows as comma-joined lines for the bulk converter (None: use the scan)."""
        raise NotImplementedError

    def line_number(self, i: int) -> int:
        """1-based line of the file where data row ``i`` starts."""
        raise NotImplementedError

    def cells(self, i: int) -> list[str]:
        """The cells of data row ``i`` (an empty or whitespace-only line has none)."""
        raise NotImplementedError


class _PlainSource(_Source):
    """Data rows without any quote character: one row per line, cells split on commas.

    ``text[body:]`` holds the rows; the ``skip`` lines before ``body`` are the header.
    """

    def __init__(self, text: str, body: int, skip: int, ncols: int, settings: Settings) -> None:
        self._skip = skip
        self.nrows = text.count("\n", body) + 1 if body < len(text) else 0
        _check_cells(self.nrows, ncols, settings)  # before building any list
        self._lines = text.split("\n")[skip:] if self.nrows else []

    def lines(self) -> list[str]:
        return self._lines

    def line_number(self, i: int) -> int:
        return i + 1 + self._skip

    def cells(self, i: int) -> list[str]:
        line = self._lines[i]
        return line.split(",") if line.strip() else []


class _QuotedSource(_Source):
    """Data rows with quoted fields, split by the C ``csv`` module (strict RFC 4180 quoting).

    Each record is kept as its cells joined with commas (one string per row, not a list of
    cells); the few records with a comma inside a cell also keep their cells. Rows are counted
    while they are read, so an oversized upload stops at the cell limit.
    """

    def __init__(self, text: str, body: int, skip: int, ncols: int, settings: Settings) -> None:
        reader = csv.reader(_iter_lines(text, body), strict=True)
        self._lines: list[str] = []
        self._starts: list[int] = []
        self._odd: dict[int, list[str]] = {}
        max_rows = settings.max_dataset_cells // ncols
        while True:
            begin = skip + reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise _malformed(begin, exc) from None
            line = ",".join(record)
            if record and line.count(",") != len(record) - 1:
                self._odd[len(self._lines)] = record
            self._lines.append(line)
            self._starts.append(begin)
            if len(self._lines) > max_rows:
                _check_cells(len(self._lines), ncols, settings, at_least=True)
        self.nrows = len(self._lines)

    def lines(self) -> list[str] | None:
        # Joined lines would split a cell that holds a comma: such files take the slow scan.
        return None if self._odd else self._lines

    def line_number(self, i: int) -> int:
        return self._starts[i]

    def cells(self, i: int) -> list[str]:
        odd = self._odd.get(i)
        if odd is not None:
            return odd
        line = self._lines[i]
        return line.split(",") if line.strip() else []


def _check_header(names: list[str], errors: _Errors) -> None:
    seen: dict[str, int] = {}
    for j, name in enumerate(names):
        if not name:
            errors.add(
                {
                    "field": "csv",
                    "row": 1,
                    "column": name,
                    "column_number": j + 1,
                    "message": f"line 1, column {j + 1}: empty column name; every column of the "
                    "header needs a name (an unnamed first column is often an index written by "
                    "pandas' to_csv: write it with index=False)",
                }
            )
        elif name in seen:
            errors.add(
                {
                    "field": "csv",
                    "row": 1,
                    "column": name,
                    "column_number": j + 1,
                    "message": f"line 1, column {j + 1} ({name!r}): duplicate column name; column "
                    f"{seen[name] + 1} has the same name",
                }
            )
        else:
            seen[name] = j


def _list_names(names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN_NAMES])
    if len(names) > _SHOWN_NAMES:
        shown += f", … ({len(names)} columns in all)"
    return shown


def _resolve_csv_target(target: str | None, names: list[str], errors: _Errors) -> int | None:
    """The index of the target column (see `parse_csv`), or None after adding an error."""
    ncols = len(names)
    if target is None or not target.strip():
        return ncols - 1
    wanted = target.strip()
    if wanted in names:
        return names.index(wanted)
    if _INDEX.fullmatch(wanted):
        index = int(wanted)
        if -ncols <= index < ncols:
            return index % ncols
        errors.add(
            {
                "field": "target",
                "message": f"column index {index} is out of range: there are {ncols} columns "
                f"(0 to {ncols - 1}, or -{ncols} to -1 from the end)",
            }
        )
        return None
    errors.add(
        {
            "field": "target",
            "message": f"no column named {wanted!r}; columns are: {_list_names(names)}",
        }
    )
    return None


def _bulk(lines: list[str] | None, ncols: int) -> np.ndarray | None:
    """All rows at once with numpy's C tokenizer, or None if anything is off."""
    if lines is None:
        return None
    try:
        values = np.loadtxt(lines, delimiter=",", comments=None, quotechar=None, dtype=np.float64, ndmin=2)
    except ValueError:
        return None
    # loadtxt skips blank lines silently: a shape that is not exactly (rows, columns) sends us to
    # the slow scan, which reports such lines.
    if values.shape != (len(lines), ncols):
        return None
    return values


def _csv_values(source: _Source, ncols: int, names: list[str], errors: _Errors) -> np.ndarray | None:
    """The (rows, columns) float32 values, or None (with errors added) if any cell is bad."""
    values = _bulk(source.lines(), ncols)
    if values is None:
        values = _scan(source, ncols, names, errors)
        if values is None:
            return None
    with np.errstate(over="ignore", invalid="ignore"):
        values32 = values.astype(np.float32)
    bad = ~np.isfinite(values32)
    if bad.any():
        errors.add_cells(
            bad,
            lambda ij: _csv_cell_error(
                source.line_number(ij[0]),
                ij[1],
                names,
                _nonfinite_message(float(values[ij]), source.cells(ij[0])[ij[1]].strip()),
            ),
        )
        return None
    return values32


def _csv_cell_error(
    line: int, j: int, names: list[str], message: str | Callable[..., str], *args: Any
) -> dict[str, Any]:
    """The error for one cell; ``message`` may be a function of ``args`` that builds it."""
    if callable(message):
        message = message(*args)
    name = names[j]
    return {
        "field": "csv",
        "row": line,
        "column": name,
        "column_number": j + 1,
        "message": f"line {line}, column {j + 1} ({name!r}): {message}",
    }


def _scan(source: _Source, ncols: int, names: list[str], errors: _Errors) -> np.ndarray | None:
    """Convert cell by cell, reporting every ragged row, non-number and out-of-range value.

    Returns the float64 values when nothing was wrong (the bulk converter may have refused a
    number that ``float()`` accepts, such as ``1_000``).
    """
    rows: list[list[float]] = []
    limit = _F32_LIMIT
    for i in range(source.nrows):
        cells = source.cells(i)
        if len(cells) != ncols:
            errors.add_lazily(_ragged_error, source.line_number(i), len(cells), ncols)
            continue
        try:
            row = [float(c) for c in cells]
        except ValueError:
            row = []
            line = source.line_number(i)
            for j, cell in enumerate(cells):
                try:
                    row.append(float(cell))
                except ValueError:
                    errors.add_lazily(_csv_cell_error, line, j, names, _bad_cell, cell)
                    row.append(0.0)
        # NaN compares false, so this also catches NaN; ±inf and float32 overflow fail the bounds.
        if not all(-limit < v < limit for v in row):
            line = source.line_number(i)
            for j, v in enumerate(row):
                if not -limit < v < limit:
                    errors.add_lazily(
                        _csv_cell_error, line, j, names, _nonfinite_message, v, cells[j].strip()
                    )
        if not errors.total:
            rows.append(row)
    if errors.total:
        return None
    return np.array(rows, dtype=np.float64).reshape(len(rows), ncols)


def _ragged_error(line: int, count: int, ncols: int) -> dict[str, Any]:
    what = "empty line" if not count else f"has {count} value{'' if count == 1 else 's'}"
    return {
        "field": "csv",
        "row": line,
        "values": count,
        "expected": ncols,
        "message": f"line {line}: {what}, expected {ncols} (the number of columns in line 1)",
    }


def _bad_cell(cell: str) -> str:
    shown = cell.strip()
    if not shown:
        return "empty cell; every cell must hold a number"
    return f"not a number: {_show(shown)}"


def _split(values: np.ndarray, target: int, names: list[str]) -> ParsedDataset:
    """Cut float32 (rows, columns) values into features and target."""
    ncols = values.shape[1]
    y = np.ascontiguousarray(values[:, target])
    if target == ncols - 1:
        x = np.ascontiguousarray(values[:, :-1])
    else:
        x = np.ascontiguousarray(np.delete(values, target, axis=1))
    return ParsedDataset(
        x=x,
        y=y,
        feature_names=[n for k, n in enumerate(names) if k != target],
        target_name=names[target],
    )


# --------------------------------------------------------------------------------------------
# CSV: the compiled fast path (module docstring, "Speed")

_ASCII_SPACE = b" \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"
"""What str.strip()/rstrip() remove among ASCII bytes."""
_EXACT_POWERS = np.array([10.0**k for k in range(23)])
"""10⁰ … 10²², every one exactly a double."""
_CELL_OK, _CELL_HARD = 0, 1


@numba.njit(
    "int64(Array(uint8, 1, 'C', readonly=True), int64, int64, int64, int64, int64, float64[::1], "
    "float32[:, ::1], float32[::1], int64[:, ::1])",
    cache=True,
    nogil=True,
)
def _csv_cells(buf, start, end, rows, cols, target, powers, x, y, hard):  # pragma: no cover - compiled
    """Parse rows × cols cells of plain CSV from buf[start:end] into float32 features `x` (rows ×
    cols−1, the columns but `target` in order) and target `y` (column `target`). Compiled when the
    module is imported (from numba's cache after the first time), so no request waits for it.

    A cell is [ \t]* [+-]? digits [. digits] [(e|E) [+-]? digits] [ \t]* (at least one digit
    before the exponent); cells end at ',' and rows at '\n' (the last at `end`). Cells outside
    Clinger's exact case get NaN and their [begin, stop) byte offsets, row and column in `hard`
    (row-major order; only as many as `hard` has room for). Returns the number of hard cells, or −1 − (byte
    offset) at the first byte that does not fit (another character, a ragged row, too many or too
    few rows). Every read is guarded by `end` (≤ len(buf)).
    """
    pos = start
    nhard = 0
    for i in range(rows):
        for j in range(cols):
            begin = pos
            while pos < end and (buf[pos] == 32 or buf[pos] == 9):
                pos += 1
            negative = False
            if pos < end and (buf[pos] == 43 or buf[pos] == 45):
                negative = buf[pos] == 45
                pos += 1
            mantissa = 0
            digits = 0
            significant = 0
            exponent = 0
            while pos < end and 48 <= buf[pos] <= 57:
                if significant < 19:
                    if mantissa > 0 or buf[pos] != 48:
                        mantissa = mantissa * 10 + (buf[pos] - 48)
                        significant += 1
                else:
                    exponent += 1
                    significant += 1
                digits += 1
                pos += 1
            if pos < end and buf[pos] == 46:
                pos += 1
                while pos < end and 48 <= buf[pos] <= 57:
                    if significant < 19:
                        if mantissa > 0 or buf[pos] != 48:
                            mantissa = mantissa * 10 + (buf[pos] - 48)
                            significant += 1
                        exponent -= 1
                    else:
                        significant += 1
                    digits += 1
                    pos += 1
            if digits == 0:
                return -1 - pos
            if pos < end and (buf[pos] == 101 or buf[pos] == 69):
                pos += 1
                eneg = False
                if pos < end and (buf[pos] == 43 or buf[pos] == 45):
                    eneg = buf[pos] == 45
                    pos += 1
                edigits = 0
                e = 0
                while pos < end and 48 <= buf[pos] <= 57:
                    if e < 100000:
                        e = e * 10 + (buf[pos] - 48)
                    edigits += 1
                    pos += 1
                if edigits == 0:
                    return -1 - pos
                exponent += -e if eneg else e
            stop = pos
            while pos < end and (buf[pos] == 32 or buf[pos] == 9):
                pos += 1
            if j < cols - 1:
                if pos >= end or buf[pos] != 44:
                    return -1 - pos
            elif i < rows - 1:
                if pos >= end or buf[pos] != 10:
                    return -1 - pos
            elif pos != end:
                return -1 - pos
            pos += 1
            if significant <= 19 and mantissa <= 9007199254740992 and -22 <= exponent <= 22:
                value = float(mantissa)
                value = value * powers[exponent] if exponent >= 0 else value / powers[-exponent]
                cell = np.float32(-value if negative else value)
            else:
                cell = np.float32(np.nan)
                if nhard < hard.shape[0]:
                    hard[nhard, 0] = begin
                    hard[nhard, 1] = stop
                    hard[nhard, 2] = i
                    hard[nhard, 3] = j
                nhard += 1
            if j == target:
                y[i] = cell
            else:
                x[i, j - (j > target)] = cell
    return nhard


def _fast_csv(
    data: bytes | bytearray | memoryview | str, target: str | None, settings: Settings
) -> ParsedDataset | None:
    """The upload parsed on the compiled path, or None to let the general path parse it (and
    report whatever is wrong). See the module docstring."""
    if isinstance(data, str):
        return None
    raw = data if isinstance(data, bytes) else bytes(data)
    skip = len(_BOM) if raw.startswith(_BOM) else 0
    if b'"' in raw or b"\r" in raw:
        return None
    end = len(raw)
    while end > skip and raw[end - 1] in _ASCII_SPACE:
        end -= 1
    newline = raw.find(b"\n", skip, end)
    if newline < 0:
        return None
    try:
        first = raw[skip:newline].decode("ascii").split(",")
    except UnicodeDecodeError:
        return None
    ncols = len(first)
    if ncols < 2 or ncols - 1 > settings.max_features:
        return None
    header = _is_header(first)
    names = [c.strip() for c in first] if header else [f"col{j}" for j in range(ncols)]
    body = newline + 1 if header else skip
    if body >= end:
        return None
    pieces = _csv_pieces(raw, body, end)
    buf = np.frombuffer(raw, dtype=np.uint8)
    counts = _map_pieces(lambda k: int(_count_lines(buf, *pieces[k])), len(pieces))
    nrows = sum(counts)
    if nrows < 2 or nrows * ncols > settings.max_dataset_cells:
        return None
    errors = _Errors()
    if header:
        _check_header(names, errors)
    target_index = _resolve_csv_target(target, names, errors)
    if errors.total or target_index is None:
        return None
    x = np.empty((nrows, ncols - 1), dtype=np.float32)
    y = np.empty(nrows, dtype=np.float32)
    first_rows = np.cumsum([0, *counts]).tolist()

    def parse(k: int) -> np.ndarray | None:
        """Piece k into its rows of x and y: its hard cells (rows counted from 0), None if it does
        not fit the fast path."""
        (start, stop), rows, r0 = pieces[k], counts[k], first_rows[k]
        args = (
            buf,
            start,
            stop,
            rows,
            ncols,
            target_index,
            _EXACT_POWERS,
            x[r0 : r0 + rows],
            y[r0 : r0 + rows],
        )
        hard = np.empty((min(rows * ncols, 4096), 4), dtype=np.int64)
        found = int(_csv_cells(*args, hard))
        if found > hard.shape[0]:  # many hard cells: again, with room for all of them
            hard = np.empty((found, 4), dtype=np.int64)
            found = int(_csv_cells(*args, hard))
        if found < 0:
            return None
        hard = hard[:found]
        hard[:, 2] += r0
        return hard

    parsed = _map_pieces(parse, len(pieces))
    if any(hard is None for hard in parsed):
        return None
    with np.errstate(over="ignore"):
        for begin, stop, i, j in np.concatenate(parsed).tolist():
            value = np.float32(float(raw[begin:stop]))
            if j == target_index:
                y[i] = value
            else:
                x[i, j - (j > target_index)] = value
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        return None
    return ParsedDataset(
        x=x,
        y=y,
        feature_names=[n for k, n in enumerate(names) if k != target_index],
        target_name=names[target_index],
    )


@numba.njit("int64(Array(uint8, 1, 'C', readonly=True), int64, int64)", cache=True, nogil=True)
def _count_lines(buf, start, stop):  # pragma: no cover - compiled
    """Lines in buf[start:stop], the last one having no line end: 1 + the number of b"\\n"."""
    count = 1
    for pos in range(start, stop):
        count += buf[pos] == 10
    return count


def _csv_pieces(raw: bytes, body: int, end: int) -> list[tuple[int, int]]:
    """[start, stop) byte ranges of whole rows covering raw[body:end], cut at line ends: about
    `_PIECE_BYTES` each, at most `_THREADS` of them. No range holds its final line end."""
    count = max(1, min(_THREADS, (end - body) // _PIECE_BYTES))
    pieces = []
    start = body
    for k in range(1, count):
        cut = raw.find(b"\n", max(start, body + k * (end - body) // count), end)
        if cut < 0:
            break
        pieces.append((start, cut))
        start = cut + 1
    pieces.append((start, end))
    return pieces


# --------------------------------------------------------------------------------------------
# JSON

_XY_KEYS = ("name", "x", "y")
_ROWS_KEYS = ("name", "columns", "rows", "target")


def parse_json_dataset(doc: object, settings: Settings) -> ParsedDataset:
    """Parse a JSON dataset document (already decoded) in one of its two forms.

    - ``{"name": ..., "x": [[1.0, 2.0], ...], "y": [3.0, ...]}``: features named ``x0`` …
      ``x{d-1}``, target named ``y``; every row of ``x`` must have as many values as ``x[0]``
      (at least one), and ``y`` one value per row.
    - ``{"name": ..., "columns": ["a", "b", "price"], "rows": [[...], ...], "target": "price"}``:
      ``target`` is a column name (a string is always a name), or an integer index (negative ones
      count from the end); missing or null means the last column. Column names must be non-empty
      unique strings.

    ``name`` is allowed in both forms and ignored here (the caller reads it). Any other key is a
    400 naming it. Values must be JSON numbers: booleans, strings (even "1.5") and null are
    rejected, and so are NaN, ±Infinity and values outside the float32 range. Needs at least 2
    rows. The cell limit (rows × (features + 1)) is checked before any value is converted.
    """
    if not isinstance(doc, dict):
        raise _fail(
            'A JSON dataset must be an object: {"x": [[...], ...], "y": [...]} or '
            '{"columns": [...], "rows": [[...], ...], "target": ...}.',
            "body",
            f"must be a JSON object, not {_json_kind(doc)}",
        )
    xy = "x" in doc or "y" in doc
    tabular = "columns" in doc or "rows" in doc
    if xy and tabular:
        raise _fail(
            'A JSON dataset is either {"x", "y"} or {"columns", "rows", "target"}, not both.',
            "body",
            "mixes the keys of both forms (x/y and columns/rows)",
        )
    if not xy and not tabular:
        raise _fail(
            'A JSON dataset needs either "x" and "y", or "columns" and "rows".',
            "body",
            'has neither "x" and "y" nor "columns" and "rows"',
        )
    allowed, required, form = (
        (_XY_KEYS, ("x", "y"), '{"x", "y"}')
        if xy
        else (_ROWS_KEYS, ("columns", "rows"), '{"columns", "rows"}')
    )
    errors = _Errors()
    for key in doc:
        if key not in allowed:
            errors.add(
                {"field": str(key), "message": f"unknown key; the {form} form takes: {', '.join(allowed)}"}
            )
    for key in required:
        if key not in doc:
            errors.add({"field": key, "message": "required"})
    errors.raise_if_any("dataset")
    if xy:
        return _parse_xy(doc, settings)
    return _parse_rows(doc, settings)


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__


def _not_a_number(value: object) -> str:
    if value is None:
        return "not a number: null"
    if isinstance(value, bool):
        return f"not a number: {'true' if value else 'false'}"
    if isinstance(value, str):
        return f"not a number: {_show(value)}"
    return f"not a number: {_json_kind(value)}"


def _is_list(value: object) -> bool:
    return isinstance(value, list | tuple)


def _json_matrix(
    value: object,
    field: str,
    width: int | None,
    width_source: str,
    settings: Settings,
    cells_per_row: Callable[[int], int],
    errors: _Errors,
) -> tuple[np.ndarray | None, int | None]:
    """A list of rows as float32 (rows, width), or None after adding errors; and the row count.

    ``width`` None means "as many values as the first row" (the ``x`` form). Raises at once for
    the limits (413 cells, 400 features), which are checked before any value is converted.
    """
    if not _is_list(value):
        errors.add(
            {"field": field, "message": f"must be a list of rows (lists of numbers), not {_json_kind(value)}"}
        )
        return None, None
    assert isinstance(value, list | tuple)
    nrows = len(value)
    if nrows < 2:
        errors.add(
            {"field": field, "message": f"has {nrows} row{'' if nrows == 1 else 's'}; need at least 2"}
        )
        return None, nrows
    if width is None:
        first = value[0]
        if _is_list(first) and len(first) == 0:
            errors.add({"field": f"{field}[0]", "message": "is empty; every row needs at least one feature"})
        if not _is_list(first) or len(first) == 0:
            _scan_json_rows(value, field, None, width_source, errors)
            return None, nrows
        width = len(first)
        _check_features(width, settings, field)
    _check_cells(nrows, cells_per_row(width), settings)
    if set(map(type, value)) <= {list, tuple} and set(map(len, value)) == {width}:
        values = _json_numbers(value, field, (nrows, width), errors)
    else:
        values = None
        _scan_json_rows(value, field, width, width_source, errors)
    return values, nrows


def _scan_json_rows(
    value: Sequence[Any], field: str, width: int | None, width_source: str, errors: _Errors
) -> None:
    """Report, in order, every row that is not a list, has the wrong length or holds a bad value."""
    for i, row in enumerate(value):
        path = f"{field}[{i}]"
        if not _is_list(row):
            errors.add({"field": path, "message": f"must be a list of numbers, not {_json_kind(row)}"})
        elif width is not None and len(row) != width:
            errors.add(
                {
                    "field": path,
                    "message": f"has {len(row)} value"
                    f"{'' if len(row) == 1 else 's'}, expected {width} ({width_source})",
                }
            )
        else:
            _scan_json_values(row, path, errors)


def _scan_json_values(values: Sequence[Any], path: str, errors: _Errors) -> None:
    for j, v in enumerate(values):
        message = _json_value_problem(v)
        if message is not None:
            errors.add({"field": f"{path}[{j}]", "message": message})


def _json_numbers(
    value: Sequence[Any], field: str, shape: tuple[int, ...], errors: _Errors
) -> np.ndarray | None:
    """A well-shaped list (of rows) of values as float32, or None after adding errors."""
    flat: Any = itertools.chain.from_iterable(value) if len(shape) == 2 else value
    if set(map(type, flat)) <= {float, int}:
        try:
            values = np.array(value, dtype=np.float64).reshape(shape)
        except OverflowError:  # an integer beyond the float64 range: the scan below names it
            values = None
        if values is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                values32 = values.astype(np.float32)
            bad = ~np.isfinite(values32)
            if not bad.any():
                return values32
            errors.add_cells(
                bad,
                lambda index: {
                    "field": field + "".join(f"[{k}]" for k in index),
                    "message": _nonfinite_message(float(values[index]), None),
                },
            )
            return None
    if len(shape) == 2:
        _scan_json_rows(value, field, shape[1], "", errors)
    else:
        _scan_json_values(value, field, errors)
    return None


def _json_value_problem(v: object) -> str | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return _not_a_number(v)
    try:
        f = float(v)
    except OverflowError:
        assert isinstance(v, int)
        digits = int(v.bit_length() * math.log10(2)) + 1
        return f"out of range: an integer of about {digits} digits overflows to infinity"
    if not -_F32_LIMIT < f < _F32_LIMIT:
        return _nonfinite_message(f, None)
    return None


def _parse_xy(doc: dict[str, Any], settings: Settings) -> ParsedDataset:
    x, y = doc["x"], doc["y"]
    errors = _Errors()
    xs, nrows = _json_matrix(
        x, "x", None, "the number of values in x[0]", settings, lambda width: width + 1, errors
    )
    ys = None
    if not _is_list(y):
        errors.add({"field": "y", "message": f"must be a list of numbers, not {_json_kind(y)}"})
    elif nrows is not None and len(y) != nrows:
        errors.add(
            {
                "field": "y",
                "message": f"has {len(y)} value{'' if len(y) == 1 else 's'} "
                f"but x has {nrows} row{'' if nrows == 1 else 's'}",
            }
        )
        _scan_json_values(y, "y", errors)
    elif nrows is None:
        _scan_json_values(y, "y", errors)
    else:
        ys = _json_numbers(y, "y", (nrows,), errors)
    errors.raise_if_any("dataset")
    assert xs is not None and ys is not None
    return ParsedDataset(
        x=np.ascontiguousarray(xs),
        y=np.ascontiguousarray(ys),
        feature_names=[f"x{j}" for j in range(xs.shape[1])],
        target_name="y",
    )


def _parse_rows(doc: dict[str, Any], settings: Settings) -> ParsedDataset:
    columns, rows = doc["columns"], doc["rows"]
    errors = _Errors()
    names: list[str] | None = None
    if not _is_list(columns):
        errors.add(
            {"field": "columns", "message": f"must be a list of column names, not {_json_kind(columns)}"}
        )
    elif len(columns) < 2:
        errors.add(
            {
                "field": "columns",
                "message": f"has {len(columns)} name"
                f"{'' if len(columns) == 1 else 's'}; need at least 2 (one or more features "
                "and the target)",
            }
        )
    else:
        names = _check_json_names(columns, errors)
        _check_features(len(columns) - 1, settings, "columns")
    target = _resolve_json_target(doc.get("target"), names, errors)
    width = len(columns) if _is_list(columns) and len(columns) >= 2 else None
    if width is not None:
        values, _ = _json_matrix(rows, "rows", width, "the number of columns", settings, lambda w: w, errors)
    else:
        values = None
        if not _is_list(rows):
            errors.add(
                {
                    "field": "rows",
                    "message": f"must be a list of rows (lists of numbers), not {_json_kind(rows)}",
                }
            )
    errors.raise_if_any("dataset")
    assert values is not None and names is not None and target is not None
    return _split(values, target, names)


def _check_json_names(columns: Sequence[Any], errors: _Errors) -> list[str] | None:
    before = errors.total
    seen: dict[str, int] = {}
    for j, name in enumerate(columns):
        field = f"columns[{j}]"
        if not isinstance(name, str):
            errors.add({"field": field, "message": f"must be a string, not {_json_kind(name)}"})
        elif not name.strip():
            errors.add({"field": field, "message": "empty column name"})
        elif name in seen:
            errors.add(
                {"field": field, "message": f"duplicate column name {name!r} (also columns[{seen[name]}])"}
            )
        else:
            seen[name] = j
    return None if errors.total > before else list(columns)


def _resolve_json_target(target: object, names: list[str] | None, errors: _Errors) -> int | None:
    if names is None:
        return None
    ncols = len(names)
    if target is None:
        return ncols - 1
    if isinstance(target, str):
        if target in names:
            return names.index(target)
        hint = " (to pick a column by position, send an integer)" if _INDEX.fullmatch(target.strip()) else ""
        errors.add(
            {
                "field": "target",
                "message": f"no column named {target!r}; columns are: {_list_names(names)}{hint}",
            }
        )
        return None
    if isinstance(target, float) and target.is_integer():  # JSON's 2.0 is the integer 2
        target = int(target)
    if isinstance(target, int) and not isinstance(target, bool):
        if -ncols <= target < ncols:
            return target % ncols
        errors.add(
            {
                "field": "target",
                "message": f"column index {target} is out of range: there are {ncols} "
                f"columns (0 to {ncols - 1}, or -{ncols} to -1 from the end)",
            }
        )
        return None
    errors.add(
        {
            "field": "target",
            "message": "must be a column name (string) or a 0-based "
            f"column index (integer), not {_json_kind(target)}",
        }
    )
    return None


# --------------------------------------------------------------------------------------------
# Statistics


def describe(ds: ParsedDataset) -> dict[str, Any]:
    """Column statistics in float64 (population standard deviation), as plain Python floats.

    ``{"x_mean": [...], "x_std": [...], "y_mean", "y_std", "y_min", "y_max"}``. Two compiled passes
    (sums, then squared deviations from the mean) over row pieces on the shared pool: no float64
    copy of ``x`` is made.
    """
    x_mean, x_std = _mean_std(ds.x)
    y_mean, y_std = _mean_std(ds.y.reshape(-1, 1))
    return {
        "x_mean": [float(v) for v in x_mean],
        "x_std": [float(v) for v in x_std],
        "y_mean": float(y_mean[0]),
        "y_std": float(y_std[0]),
        "y_min": float(ds.y.min()),
        "y_max": float(ds.y.max()),
    }


def _mean_std(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and population std of a 2-D float32 array, computed in float64."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    rows, cols = a.shape
    step = max(1, _PIECE_CELLS // max(cols, 1))
    count = -(-rows // step)
    chunks = [a[k * step : (k + 1) * step] for k in range(count)]

    def sums(k: int) -> np.ndarray:
        out = np.zeros(cols, dtype=np.float64)
        _column_sums(chunks[k], out)
        return out

    mean = np.sum(_map_pieces(sums, count), axis=0) / rows

    def squares(k: int) -> np.ndarray:
        out = np.zeros(cols, dtype=np.float64)
        _column_squares(chunks[k], mean, out)
        return out

    return mean, np.sqrt(np.sum(_map_pieces(squares, count), axis=0) / rows)


@numba.njit("void(float32[:, ::1], float64[::1])", cache=True, nogil=True)
def _column_sums(a, out):  # pragma: no cover - compiled
    """out[j] += Σᵢ a[i, j] in float64."""
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[j] += a[i, j]


@numba.njit("void(float32[:, ::1], float64[::1], float64[::1])", cache=True, nogil=True)
def _column_squares(a, mean, out):  # pragma: no cover - compiled
    """out[j] += Σᵢ (a[i, j] − mean[j])² in float64."""
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            d = a[i, j] - mean[j]
            out[j] += d * d
