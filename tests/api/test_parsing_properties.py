"""service.parsing's properties: any valid document round-trips, the parser imports only what it
may, and the compiled CSV path gives the general path's datasets.

Pure unit tests: no Redis, no app.
"""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service import parsing
from service.parsing import (
    ParsedDataset,
    csv_fast,
    csv_parse,
    parse_csv,
    parse_json_dataset,
)
from service.problems import Problem
from tests.support.parsing import (
    DEFAULTS,
    F32_MAX,
    F32_OVERFLOW,
    assert_dataset,
    check_describe,
    only,
    rejected,
)

# --------------------------------------------------------------------------------------------
# Property tests

_finite = st.floats(min_value=-F32_MAX, max_value=F32_MAX, allow_nan=False, allow_infinity=False)
_matrix = st.integers(2, 6).flatmap(
    lambda cols: st.lists(st.lists(_finite, min_size=cols, max_size=cols), min_size=2, max_size=8)
)
# Header names: any text a spreadsheet might hold, except what the format itself cannot carry
# (a lone \r is turned into a line end, a leading BOM is dropped).
_name = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\r\ufeff\x00"),
    min_size=1,
    max_size=8,
).filter(lambda s: s.strip() != "")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _write(header: list[str] | None, rows: list[list[str]], newline: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    if header is not None:
        writer.writerow(header)
    for row in rows:
        out.write(",".join(row) + newline)
    return out.getvalue()


@st.composite
def _csv_case(draw: st.DrawFn) -> tuple[str, list[str] | None, np.ndarray]:
    matrix = draw(_matrix)
    cols = len(matrix[0])
    header = None
    if draw(st.booleans()):
        header = draw(st.lists(_name, min_size=cols, max_size=cols, unique_by=lambda s: s.strip()))
        if all(_is_number(h) for h in header):  # then it would be (and must be) data
            header[0] = "name"
            if len({h.strip() for h in header}) < cols:
                header = None
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = _write(header, [[repr(v) for v in row] for row in matrix], newline)
    text += draw(st.sampled_from(["", newline, newline * 3, "  " + newline]))
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text, header, np.array(matrix, dtype=np.float64).astype(np.float32)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_csv_case(), as_bytes=st.booleans())
def test_property_finite_matrices_round_trip_through_csv(
    case: tuple[str, list[str] | None, np.ndarray], as_bytes: bool
) -> None:
    text, header, expected = case
    ds = parse_csv(text.encode() if as_bytes else text, None, DEFAULTS)
    np.testing.assert_array_equal(ds.x, expected[:, :-1])
    np.testing.assert_array_equal(ds.y, expected[:, -1])
    names = [h.strip() for h in header] if header else [f"col{j}" for j in range(expected.shape[1])]
    assert ds.feature_names == names[:-1] and ds.target_name == names[-1]


_garbage = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "abc",
            "nan",
            "-inf",
            "Infinity",
            "1e999",
            "-1e39",
            "1.2.3",
            "--1",
            "0x1A",
            "1;5",
            "e5",
            "١٢x",
            "\t",
            "true",
        ]
    ),
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters=',"\n\r'), max_size=6),
).filter(lambda s: not (_is_number(s) and abs(float(s)) < F32_OVERFLOW))


@settings(max_examples=150, deadline=None)
@given(
    matrix=_matrix,
    header=st.booleans(),
    garbage=_garbage,
    data=st.data(),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_property_one_garbage_cell_is_reported_exactly_where_it_is(
    matrix: list[list[float]], header: bool, garbage: str, data: st.DataObject, newline: str
) -> None:
    cells = [[repr(v) for v in row] for row in matrix]
    # Without a header, garbage in the first row would make it a header: mutate a later row.
    i = data.draw(st.integers(0 if header else 1, len(cells) - 1), label="row")
    j = data.draw(st.integers(0, len(cells[0]) - 1), label="column")
    cells[i][j] = garbage
    names = [f"f{k}" for k in range(len(cells[0]))] if header else None
    text = _write(names, cells, newline)
    error = only(rejected(parse_csv, text, None, DEFAULTS))
    line = i + 1 + (1 if header else 0)
    column = names[j] if names else f"col{j}"
    assert (error["field"], error["row"], error["column"], error["column_number"]) == (
        "csv",
        line,
        column,
        j + 1,
    )
    assert error["message"].startswith(f"line {line}, column {j + 1} ({column!r}): ")


@st.composite
def _json_case(draw: st.DrawFn) -> tuple[dict[str, Any], np.ndarray, np.ndarray, list[str], str]:
    matrix = draw(_matrix)
    numbers = st.one_of(_finite, st.integers(-(2**60), 2**60))
    matrix = [[draw(numbers) if draw(st.booleans()) else v for v in row] for row in matrix]
    values = np.array(matrix, dtype=np.float64).astype(np.float32)
    cols = values.shape[1]
    if draw(st.booleans()):
        doc: dict[str, Any] = {"x": [row[:-1] for row in matrix], "y": [row[-1] for row in matrix]}
        if draw(st.booleans()):
            doc["name"] = draw(st.text(max_size=5))
        return doc, values[:, :-1], values[:, -1], [f"x{k}" for k in range(cols - 1)], "y"
    names = draw(
        st.lists(st.text(min_size=1, max_size=5).filter(str.strip), min_size=cols, max_size=cols, unique=True)
    )
    doc = {"columns": names, "rows": matrix}
    t = draw(st.integers(-cols, cols - 1))
    how = draw(st.sampled_from(["name", "index", "none", "absent"]))
    if how == "name":
        doc["target"] = names[t]
    elif how == "index":
        doc["target"] = t
    elif how == "none":
        doc["target"] = None
    if how in ("none", "absent"):
        t = cols - 1
    t %= cols
    keep = [k for k in range(cols) if k != t]
    return doc, values[:, keep], values[:, t], [names[k] for k in keep], names[t]


@settings(max_examples=150, deadline=None)
@given(case=_json_case())
def test_property_valid_json_documents_round_trip(
    case: tuple[dict[str, Any], np.ndarray, np.ndarray, list[str], str],
) -> None:
    doc, x, y, features, target = case
    ds = parse_json_dataset(doc, DEFAULTS)
    assert_dataset(ds, x, y, features, target)
    check_describe(ds)


# --------------------------------------------------------------------------------------------
# Purity


def test_the_parser_imports_only_numpy_numba_the_standard_library_and_its_siblings() -> None:
    imported: set[str] = set()
    for module in Path(parsing.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:  # not the package's own modules
                imported.add((node.module or "").split(".")[0])
    assert not imported & {"torch", "flask", "redis", "pandas", "rq"}
    assert imported - {
        "__future__",
        "concurrent",
        "csv",
        "itertools",
        "math",
        "re",
        "collections",
        "dataclasses",
        "typing",
        "os",
        "tempfile",
    } == {"numpy", "numba", "descent", "service"}


# --------------------------------------------------------------------------------------------
# The compiled fast path gives the general path's datasets


def _general(data: bytes, target: str | None = None) -> ParsedDataset:
    """parse_csv with the fast path switched off."""
    saved = csv_parse._fast_csv
    csv_parse._fast_csv = lambda *args: None
    try:
        return parse_csv(data, target, DEFAULTS)
    finally:
        csv_parse._fast_csv = saved


def _same(a: ParsedDataset, b: ParsedDataset) -> None:
    assert a.feature_names == b.feature_names and a.target_name == b.target_name
    assert a.x.dtype == b.x.dtype == np.float32 and a.y.dtype == b.y.dtype == np.float32
    assert a.x.flags.c_contiguous and a.y.flags.c_contiguous
    np.testing.assert_array_equal(a.x.view(np.uint32), b.x.view(np.uint32))  # bit for bit (−0.0 too)
    np.testing.assert_array_equal(a.y.view(np.uint32), b.y.view(np.uint32))


NUMBER_CELLS = [
    "0",
    "-0",
    "+0.0",
    "1",
    "-1",
    "1.",
    ".5",
    "-.5",
    "007",
    "0.000001",
    "123456789012345678",
    "1234567890123456789012345",
    "0.1",
    "0.30000000000000004",
    "9007199254740993",
    "2.5e-3",
    "1e22",
    "1e23",
    "1E-22",
    "1e-23",
    "4.9e-324",
    "1e-45",
    "3.4028234e38",
    "  2.5",
    "2.5\t",
    " -3e+2 ",
    "123.456e-10",
    "1e+0",
    "0e999",
    "99999999999999999999e-20",
]


@pytest.mark.parametrize("header", [True, False])
def test_the_fast_path_reads_every_kind_of_number_as_float_does(header: bool) -> None:
    cells = NUMBER_CELLS
    rows = [
        ",".join([cells[i], cells[(i + 7) % len(cells)], cells[(i + 3) % len(cells)]])
        for i in range(len(cells))
    ]
    text = ("a,b,c\n" if header else "") + "\n".join(rows) + "\n\n  \n"
    fast = csv_fast._fast_csv(text.encode(), None, DEFAULTS)
    assert fast is not None
    _same(fast, _general(text.encode()))
    expected = np.array([[float(c) for c in r.split(",")] for r in rows], dtype=np.float64).astype(np.float32)
    np.testing.assert_array_equal(fast.y, expected[:, -1])


@given(
    values=st.lists(
        st.lists(
            st.one_of(
                st.floats(allow_nan=False, allow_infinity=False, width=64, min_value=-1e30, max_value=1e30),
                st.integers(-(10**20), 10**20),
                st.decimals(
                    allow_nan=False, allow_infinity=False, places=6, min_value=-(10**9), max_value=10**9
                ),
            ),
            min_size=3,
            max_size=3,
        ),
        min_size=2,
        max_size=30,
    ),
    form=st.sampled_from(["{}", "{!r}", "{:e}", "{:.3g}", " {} "]),
)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_property_the_fast_path_equals_the_general_path(values: list[list[Any]], form: str) -> None:
    def show(v: Any) -> str:
        try:
            return form.format(v)
        except (TypeError, ValueError):
            return str(v)

    text = "x0,x1,y\n" + "\n".join(",".join(show(v) for v in row) for row in values) + "\n"
    data = text.encode()
    try:
        general = _general(data, "x1")
    except Problem:
        assert csv_fast._fast_csv(data, "x1", DEFAULTS) is None
        return
    fast = csv_fast._fast_csv(data, "x1", DEFAULTS)
    if fast is not None:  # it may step aside (a value it leaves to the general path's checks)
        _same(fast, general)
    _same(parse_csv(data, "x1", DEFAULTS), general)


@pytest.mark.parametrize(
    "data",
    [
        b'a,b\n"1",2\n3,4\n',  # a quote
        b"a,b\r\n1,2\r\n3,4\r\n",  # CRLF
        b"a,b\n1,2\n\n3,4\n",  # a blank row inside
        b"a,b\n1,2,3\n3,4\n",  # ragged
        b"a,b\n1,x\n3,4\n",  # not a number
        b"a,b\n1,1_000\n3,4\n",  # float() reads it, the fast path does not
        b"a,b\n1,1e39\n3,4\n",  # overflows float32
        b"a,b\n1,nan\n3,4\n",
        b"a,a\n1,2\n3,4\n",  # duplicate names
        b"a,b\n1,2\n",  # one row
        "\u00e9,b\n1,2\n3,4\n".encode(),  # a non-ASCII name
        b"a,b\n1,2\n3,4\xc2\xa0\n",  # non-ASCII trailing space
    ],
)
def test_the_fast_path_steps_aside_for_anything_unusual(data: bytes) -> None:
    assert csv_fast._fast_csv(data, None, DEFAULTS) is None


def test_a_plain_upload_takes_the_fast_path() -> None:
    rng = np.random.default_rng(0)
    table = rng.standard_normal((500, 4)) * 10.0 ** rng.integers(-8, 8, (500, 4))
    buf = io.StringIO()
    np.savetxt(buf, table, fmt="%.9g", delimiter=",", header="a,b,c,d", comments="")
    data = buf.getvalue().encode()
    fast = csv_fast._fast_csv(data, "b", DEFAULTS)
    assert fast is not None
    _same(fast, _general(data, "b"))
    cells = [[float(v) for v in line.split(",")] for line in data.decode().splitlines()[1:]]
    np.testing.assert_array_equal(fast.y, np.array(cells)[:, 1].astype(np.float32))


@pytest.mark.parametrize("piece_bytes", [1, 37, 1 << 22])
def test_an_upload_parsed_in_pieces_equals_one_pass(
    piece_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # hard cells (outside Clinger's case) in every piece, and rows of different lengths
    rng = np.random.default_rng(1)
    table = rng.standard_normal((300, 3)) * 10.0 ** rng.integers(-30, 30, (300, 3))
    buf = io.StringIO()
    np.savetxt(buf, table, fmt="%.17g", delimiter=",", header="a,b,c", comments="")
    data = buf.getvalue().encode()
    one = csv_fast._fast_csv(data, "b", DEFAULTS)
    monkeypatch.setattr(csv_fast, "_PIECE_BYTES", piece_bytes)
    monkeypatch.setattr(csv_fast, "_THREADS", 4)
    pieces = csv_fast._csv_pieces(data, data.index(b"\n") + 1, len(data.rstrip()))
    assert len(pieces) == (1 if piece_bytes > len(data) else 4)
    several = csv_fast._fast_csv(data, "b", DEFAULTS)
    assert one is not None and several is not None
    _same(several, one)
    _same(several, _general(data, "b"))


@pytest.mark.parametrize("bad_row", [0, 150, 299])
def test_a_fault_in_any_piece_leaves_the_upload_to_the_general_path(
    bad_row: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_fast, "_PIECE_BYTES", 1)
    monkeypatch.setattr(csv_fast, "_THREADS", 4)
    rows = [f"{i},{2 * i}" for i in range(300)]
    rows[bad_row] = f"{bad_row},oops"
    data = ("x,y\n" + "\n".join(rows) + "\n").encode()
    assert csv_fast._fast_csv(data, None, DEFAULTS) is None
    with pytest.raises(Problem) as caught:
        parse_csv(data, None, DEFAULTS)
    assert caught.value.body()["errors"][0]["row"] == bad_row + 2


@pytest.mark.parametrize(
    "cell", ["9223372036854775808", "-9223372036854775808", "9999999999999999999", "9.99e18"]
)
def test_a_mantissa_past_int64_keeps_its_value_on_the_fast_path(cell: str) -> None:
    """19 significant digits can exceed int64 in the compiled pass; such a cell is not Clinger's exact
    case and must come out as float() reads it (it came out with the wrong sign)."""
    data = f"x,y\n0,1\n{cell},2\n".encode()
    fast = csv_fast._fast_csv(data, None, DEFAULTS)
    assert fast is not None and fast.x[1, 0] == np.float32(float(cell))
    assert parse_csv(data, None, DEFAULTS).x[1, 0] == np.float32(float(cell))
