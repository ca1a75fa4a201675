"""Every error a client can get is problem+json, whoever answers it (issue 14, point 6): nginx for
what it refuses before the API sees it (size limits, malformed HTTP, an API that is down), gunicorn
for what it refuses itself when reached directly, the app for a body that turns out malformed."""

from __future__ import annotations

import json

import pytest
import requests

from tests.support.proxy import Proxy, dead_upstream, send_raw
from tests.support.stack import Stack

LIMIT = 100_000
"""DESCENT_MAX_REQUEST_BYTES of this module's stack: the API's limit, and so the proxy's."""

MALFORMED_CHUNK = (
    b"POST /v1/datasets HTTP/1.1\r\nHost: test\r\nContent-Type: text/csv\r\n"
    b"Transfer-Encoding: chunked\r\n\r\nzz\r\nx,y\n\r\n0\r\n\r\n"
)
"""A chunked upload whose first chunk size is not hexadecimal."""


@pytest.fixture(scope="module")
def stack():
    with Stack(workers=0, env={"DESCENT_MAX_REQUEST_BYTES": str(LIMIT), "DESCENT_SSE_SECONDS": "600"}, proxy=True) as s:
        yield s


def problem_of(status: int, headers: dict[str, str], body: bytes, expected: int | tuple[int, ...]) -> dict:
    expected = expected if isinstance(expected, tuple) else (expected,)
    assert status in expected, (status, body)
    assert headers["content-type"] == "application/problem+json", (headers, body)
    doc = json.loads(body)
    assert doc["status"] == status and doc["title"] and doc["detail"]
    assert doc["type"].startswith("urn:descent:problem:")
    return doc


def problem(r: requests.Response, expected: int | tuple[int, ...]) -> dict:
    return problem_of(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content, expected)


def test_a_body_over_the_limit_is_413_naming_the_limit(stack):
    csv = b"x,y\n" + b"1,2\n" * (LIMIT // 4)
    r = requests.post(f"{stack.base}/v1/datasets", data=csv, headers={"Content-Type": "text/csv"})
    doc = problem(r, 413)
    assert f"DESCENT_MAX_REQUEST_BYTES = {LIMIT}" in doc["detail"]
    assert r.headers["Server"].startswith("nginx")  # refused before gunicorn saw a byte of it

    def chunks():
        for _ in range(LIMIT // 4000 + 1):
            yield b"1,2\n" * 1000

    r = requests.post(f"{stack.base}/v1/datasets", data=chunks(), headers={"Content-Type": "text/csv"})
    assert f"DESCENT_MAX_REQUEST_BYTES = {LIMIT}" in problem(r, 413)["detail"]


def test_a_body_within_the_limit_goes_through(stack):
    csv = b"x,y\n" + b"1,2\n2,4\n" * (LIMIT // 20)
    r = requests.post(f"{stack.base}/v1/datasets", data=csv, headers={"Content-Type": "text/csv"})
    assert r.status_code == 201, r.text


def test_a_long_url_is_414_and_a_long_header_431(stack):
    problem(requests.get(f"{stack.base}/v1/jobs/{'x' * 9000}"), 414)
    problem(requests.get(f"{stack.base}/healthz", headers={"X-Long": "y" * 9000}), (431, 400))
    problem(requests.get(f"{stack.base}/healthz", headers={f"X-Many-{i}": "y" * 200 for i in range(200)}), (431, 400))


def test_what_the_proxy_lets_through_gunicorn_takes(stack):
    """gunicorn's limits are wider than nginx's: a URL or header just under the proxy's limit
    reaches the app (a 404 of the app, a 200), never gunicorn's own refusal."""
    r = requests.get(f"{stack.base}/v1/jobs/{'x' * 8000}")
    assert r.status_code == 404 and "No job with id" in problem(r, 404)["detail"]
    r = requests.get(f"{stack.base}/healthz", headers={"X-Long": "y" * 8000})
    assert r.status_code == 200, r.text


def test_a_malformed_chunk_is_400_through_the_proxy_and_directly(stack):
    problem_of(*send_raw(stack.proxy.port, MALFORMED_CHUNK), 400)
    api_port = int(stack.api_base.rsplit(":", 1)[1])
    doc = problem_of(*send_raw(api_port, MALFORMED_CHUNK), 400)
    assert "chunk" in doc["detail"]
    with open(stack.log("api")) as log:
        lines = [json.loads(line) for line in log if line.startswith("{")]
    assert not [line for line in lines if line["level"] == "ERROR"], "a client's malformed body is no server error"


def test_gunicorn_reached_directly_refuses_in_problem_json(stack):
    """Without the proxy in front, gunicorn's own answers to oversized requests have the contract's shape."""
    problem(requests.get(f"{stack.api_base}/v1/jobs/{'x' * 9000}"), 414)
    problem(requests.get(f"{stack.api_base}/healthz", headers={"X-Long": "y" * 20000}), 431)


def test_an_unsupported_transfer_coding_is_problem_json(stack):
    data = b"POST /v1/datasets HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip\r\n\r\n"
    problem_of(*send_raw(stack.proxy.port, data), (400, 501))


def test_a_proxy_path_nobody_serves_is_problem_json(stack):
    problem(requests.get(f"{stack.base}/_problem/400"), 404)


def test_an_api_that_is_down_is_502_with_retry_after():
    with Proxy(dead_upstream(), {"DESCENT_MAX_REQUEST_BYTES": str(LIMIT)}) as proxy:
        for method in ("GET", "POST"):
            r = requests.request(method, f"{proxy.base}/v1/jobs", json={})
            problem(r, (502, 503))
            assert int(r.headers["Retry-After"]) > 0


def test_events_stream_through_the_proxy_as_they_come(stack):
    """The job stays queued (no worker) and its stream lasts 600 s: a proxy that buffered it would
    hold back the first event until then, past the read timeout."""
    csv = "x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(20))
    dataset = requests.post(f"{stack.base}/v1/datasets", data=csv, headers={"Content-Type": "text/csv"}).json()
    job = requests.post(f"{stack.base}/v1/jobs", json={"dataset_id": dataset["id"], "optimizer": {"type": "gd"}}).json()
    with requests.get(f"{stack.base}/v1/jobs/{job['id']}/events", stream=True, timeout=(5, 60)) as r:
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/event-stream")
        lines = r.iter_lines(decode_unicode=True)
        assert next(line for line in lines if line.startswith("event:")) == "event: progress"
        data = next(line for line in lines if line.startswith("data:"))
        assert json.loads(data.removeprefix("data:"))["status"] == "queued"
        assert requests.post(f"{stack.base}/v1/jobs/{job['id']}/cancel").status_code == 202
        assert next(line for line in lines if line.startswith("event: end"))  # the stream ends: no thread held


def test_trace_which_nginx_refuses_is_the_apis_405_with_allow(stack):
    r = requests.request("TRACE", f"{stack.base}/v1/jobs", data=b"x,y\n1,2\n")
    problem(r, 405)
    assert set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
