"""The compiled fast path for plain numeric CSV uploads (module docstring of `service.parsing`,
"Speed"): one numba pass over the bytes per piece, converting cells straight into float32, that
steps aside (returns None) for anything unusual.
"""

from __future__ import annotations

import numba
import numpy as np

from descent.settings import Settings

from .common import _BOM, _THREADS, ParsedDataset, _Errors, _map_pieces
from .csv_header import _check_header, _is_header, _resolve_csv_target

_PIECE_BYTES = 1 << 22
"""A CSV body is parsed in pieces of about this many bytes (at most `_THREADS` pieces), each on its
own thread: the compiled kernels release the GIL, so a large upload uses every core."""


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
            # 19 digits can pass int64's largest value (the mantissa wraps negative): not exact
            if significant <= 19 and 0 <= mantissa <= 9007199254740992 and -22 <= exponent <= 22:
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
