"""An upload's body read from gunicorn's socket straight into its destination (service/socket_body.py):
the dataset is the one the in-process reader makes of the same bytes, a request behind it on the same
connection is read where it starts, and a body cut short stores nothing."""

from __future__ import annotations

from urllib.parse import urlsplit

import numpy as np
import pytest
import requests

from descent.settings import Settings
from service.tables import ReadOptions, describe, read_upload
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


@pytest.mark.parametrize("rows", [2_000, 120_000])
def test_an_upload_read_from_the_socket_is_the_dataset_of_its_bytes(stack, rows):
    data = csv_of(rows, seed=rows)
    assert (len(data) > SPOOL_FROM) == (rows > 100_000)  # kept in memory, and spooled to a file
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
    upload = (
        f"POST /v1/datasets HTTP/1.1\r\nHost: test\r\nContent-Type: text/csv\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    ).encode() + data
    probe = b"GET /v1/datasets?limit=1 HTTP/1.1\r\nHost: test\r\n\r\n"
    first, second = responses(urlsplit(stack.base).port, upload + probe, 2)
    assert first.status == 201, first.body[:500]
    assert second.status == 200
    created = first.json()["id"]
    assert [d["id"] for d in second.json()["datasets"]] == [created]  # the newest first


def test_a_body_cut_short_is_a_400_and_stores_nothing(stack):
    before = requests.get(f"{stack.base}/v1/datasets").json()["datasets"]
    data = csv_of(120_000, seed=2)
    head = (
        f"POST /v1/datasets HTTP/1.1\r\nHost: test\r\nContent-Type: text/csv\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    ).encode()
    status, headers, body = send_raw(urlsplit(stack.base).port, head + data[: len(data) // 2], half_close=True)
    assert status == 400 and headers["content-type"] == "application/problem+json", body
    assert requests.get(f"{stack.base}/v1/datasets").json()["datasets"] == before
    assert requests.get(f"{stack.base}/healthz").status_code == 200
