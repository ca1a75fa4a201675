"""DESCENT_TENANT_CONCURRENCY in the stack as compose runs it (gunicorn, one API process): while one
of tenant A's requests holds a server thread, A's next request is a 429 problem+json with
Retry-After: 1 at once, and tenant B is served. A's request in flight is an upload whose client
holds its body open (tests/support/uploads.py), so "in flight" is the test's fact; when A's probe
reaches the door first, the upload is the one refused and another is held in its place."""

from __future__ import annotations

import requests

from tests.support.stack import Stack
from tests.support.tenants import usage
from tests.support.uploads import held_while_refused

ENV = {"DESCENT_API_KEYS": "a:key-a,b:key-b", "DESCENT_TENANT_CONCURRENCY": "1"}
HELD_BODY = ("x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(1000))).encode()


def _get(base: str, key: str) -> requests.Response:
    return requests.get(base + "/v1/datasets", headers={"Authorization": f"Bearer {key}"}, timeout=30)


def _probe(base: str) -> requests.Response:
    """A's GET: a 429 while the held upload is in flight, a 200 while it is not (yet)."""
    response = _get(base, "key-a")
    assert response.status_code in (200, 429), response.text
    return response


def test_a_tenant_holding_its_one_thread_is_429_while_another_is_served():
    with Stack(0, ENV) as stack:
        held, refused = held_while_refused(stack.base, HELD_BODY, lambda: _probe(stack.base), 429, key="key-a")
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert refused.headers["Retry-After"] == "1"
        problem = refused.json()
        assert problem["status"] == 429 and problem["type"].endswith("concurrency-limited")
        assert problem["limit"] == "DESCENT_TENANT_CONCURRENCY"
        assert _get(stack.base, "key-b").status_code == 200  # B is served beside A's held request
        metrics = requests.get(stack.base + "/metrics", timeout=10).text
        assert usage(metrics, ("a", "b"))["a"]["requests_limited_total:concurrency"] >= 1
        assert held.finish() == 201  # nothing of the held upload is lost
        assert _get(stack.base, "key-a").status_code == 200  # its place is free again
