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

The modules:

    common.py      the parsed dataset, fault collection, limit checks, the thread pool
    csv_source.py  decoding and the lines of a CSV upload
    csv_header.py  its header and target column
    csv_parse.py   `parse_csv` and the general path
    csv_fast.py    the compiled path
    json_parse.py  `parse_json_dataset`
    stats.py       `describe`
"""

from .common import FLOAT32_MAX, MAX_ERRORS, ParsedDataset
from .csv_parse import CSV_PATTERN, parse_csv
from .json_parse import parse_json_dataset
from .stats import describe

__all__ = [
    "CSV_PATTERN",
    "FLOAT32_MAX",
    "MAX_ERRORS",
    "ParsedDataset",
    "describe",
    "parse_csv",
    "parse_json_dataset",
]
