"""An upload's body read from gunicorn's socket straight into its destination (service/socket_body.py),
and a large CSV read while it arrives (service/arriving_body.py): the dataset is the one the
in-process reader makes of the same bytes, a request behind it on the same connection is read where
it starts, and a body cut short stores nothing."""

from __future__ import annotations

from urllib.parse import urlsplit

import numpy as np
import pytest
import requests

from descent.settings import Settings
from service.tables import ReadOptions, describe, read_upload
from service.tables.csv_reader import PIECE_BYTES
from service.upload_body import SPOOL_FROM
from tests.support.proxy import responses, send_raw
from tests.support.stack import Stack


@pytest.fixture(scope="module")
def stack():
    with Stack(workers=0) as s:
        yield s


def csv_of(rows: int, seed: int) -> bytes:
    """Numbers, a category with missing cells, a number target: `rows` rows."""
    rng = np.random.default_rng(seed)
    colours = np.array(["red", "green", "blue", ""])[rng.integers(0, 4, rows)]
    lines = [f"{a:.6g},{b:.6g},{c},{a - b:.6g}" for a, b, c in zip(rng.standard_normal(rows), rng.standard_normal(rows), colours, strict=True)]
    return ("x1,x2,colour,y\n" + "\n".join(lines) + "\n").encode()


def expected_columns(data: bytes) -> list[dict]:
    return describe(read_upload(data, "csv", ReadOptions(), Settings()))["columns"]


def post(data: bytes) -> bytes:
    """The head of a CSV upload of `data`."""
    return (
        f"POST /v1/datasets HTTP/1.1\r\nHost: test\r\nContent-Type: text/csv\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    ).encode()


@pytest.mark.parametrize("rows", [2_000, 120_000, 300_000])
def test_an_upload_read_from_the_socket_is_the_dataset_of_its_bytes(stack, rows):
    """Kept in memory; spooled, read in one go; spooled, read in pieces as they arrive."""
    data = csv_of(rows, seed=rows)
    assert (len(data) > SPOOL_FROM) == (rows > 100_000)
    assert (len(data) > PIECE_BYTES) == (rows > 200_000)
    with requests.Session() as session:  # one keep-alive connection for both requests
        r = session.post(f"{stack.base}/v1/datasets", data=data, headers={"Content-Type": "text/csv"})
        assert r.status_code == 201, r.text
        assert r.json()["rows"] == rows and r.json()["columns"] == expected_columns(data)
        again = session.get(f"{stack.base}/v1/datasets/{r.json()['id']}")
        assert again.status_code == 200 and again.json()["columns"] == r.json()["columns"]


@pytest.mark.parametrize("rows", [20, 120_000])
def test_a_request_pipelined_behind_an_upload_is_answered(stack, rows):
    """A small upload and the request behind it arrive in one read (gunicorn holds both); a large
    one's body is still arriving when the app reads it."""
    data = csv_of(rows, seed=1)
    upload = post(data) + data
    probe = b"GET /v1/datasets?limit=1 HTTP/1.1\r\nHost: test\r\n\r\n"
    first, second = responses(urlsplit(stack.base).port, upload + probe, 2)
    assert first.status == 201, first.body[:500]
    assert second.status == 200
    created = first.json()["id"]
    assert [d["id"] for d in second.json()["datasets"]] == [created]  # the newest first


def test_a_body_cut_short_is_a_400_and_stores_nothing(stack):
    before = requests.get(f"{stack.base}/v1/datasets").json()["datasets"]
    data = csv_of(120_000, seed=2)
    status, headers, body = send_raw(urlsplit(stack.base).port, post(data) + data[: len(data) // 2], half_close=True)
    assert status == 400 and headers["content-type"] == "application/problem+json", body
    assert requests.get(f"{stack.base}/v1/datasets").json()["datasets"] == before
    assert requests.get(f"{stack.base}/healthz").status_code == 200


def test_a_quoted_field_in_a_late_piece_is_read_with_its_line_break(stack):
    """The first pieces are read before the quote arrives: the file is then read whole."""
    lines = csv_of(300_000, seed=3).decode().splitlines(keepends=True)
    lines[-10] = lines[-10].replace("red", '"r\ned"').replace("green", '"r\ned"').replace("blue", '"r\ned"')
    data = "".join(lines).encode()
    r = requests.post(f"{stack.base}/v1/datasets", data=data, headers={"Content-Type": "text/csv"})
    assert r.status_code == 201, r.text
    assert r.json()["columns"] == expected_columns(data) and r.json()["rows"] == 300_000


def test_a_ragged_row_in_a_late_piece_is_named_by_its_line(stack):
    lines = csv_of(300_000, seed=4).decode().splitlines(keepends=True)
    lines[290_000] = "1,2,red,3,4\n"
    r = requests.post(f"{stack.base}/v1/datasets", data="".join(lines).encode(), headers={"Content-Type": "text/csv"})
    assert r.status_code == 400 and "line 290001: has 5 values, expected 4" in r.json()["errors"][0]["message"]


def test_a_body_sent_in_parts_split_mid_line_is_read_whole(stack):
    data = csv_of(300_000, seed=5)
    cut = len(data) // 3 + 7  # inside a line, before the second piece's boundary
    (answer,) = responses(urlsplit(stack.base).port, [post(data) + data[:cut], data[cut:]], 1)
    assert answer.status == 201 and answer.json()["columns"] == expected_columns(data)
