"""A CSV upload as lines: decoding, the first record, and the sources that hand out the data lines
(plain text split at line ends, or the `csv` module when the upload has quotes).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from descent.settings import Settings
from service.problems import Problem

from .common import _BOM, _check_cells, _fail


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
