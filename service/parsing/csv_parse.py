"""The general CSV path: a bulk conversion with `np.loadtxt`, and the per-cell scan that names every
fault when the bulk conversion fails (module docstring of `service.parsing`). `parse_csv` tries
the compiled path (`csv_fast`) first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from descent.settings import Settings

from .common import (
    _F32_LIMIT,
    ParsedDataset,
    _check_features,
    _Errors,
    _fail,
    _nonfinite_message,
    _show,
    _split,
)
from .csv_fast import _fast_csv
from .csv_header import _check_header, _is_header, _resolve_csv_target
from .csv_source import _decode, _first_record, _PlainSource, _QuotedSource, _Source


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
