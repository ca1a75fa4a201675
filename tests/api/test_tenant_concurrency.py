"""DESCENT_TENANT_CONCURRENCY through the real app on a real Redis: a tenant with that many
requests in flight in a process gets a 429 at once, another tenant is served, and the place is
given back when the request ends. "In flight" is an /events stream its client holds open."""

from __future__ import annotations

from tests.support.api import problem, upload
from tests.support.data import WORKED
from tests.support.streams import OpenStream
from tests.support.tenants import Tenants


def test_a_tenant_at_its_in_flight_cap_is_429_while_another_is_served(settings):
    tenants = Tenants(settings, tenant_concurrency=1, sse_seconds=30.0)
    alice, bob = tenants.client(0), tenants.client(1)
    dataset_id = upload(alice, WORKED)
    job = alice.post("/v1/jobs", json={"dataset_id": dataset_id, "optimizer": {"type": "gd"}}).get_json()
    stream = OpenStream(tenants.client(0), f"/v1/jobs/{job['id']}/events")  # alice's one request
    assert stream.status == 200
    for path in (f"/v1/jobs/{job['id']}", "/v1/datasets"):  # the fast poll path is refused too
        refused = alice.get(path)
        err = problem(refused, 429)
        assert err["type"].endswith("concurrency-limited") and err["limit"] == "DESCENT_TENANT_CONCURRENCY"
        assert refused.headers["Retry-After"] == "1" and err["retry_after"] == 1
    assert alice.get("/healthz").status_code == 200  # health and metrics are never limited
    assert bob.get("/v1/datasets").status_code == 200  # another tenant's place is its own
    use = tenants.usage()
    assert use[tenants.names[0]]["requests_limited_total:concurrency"] == 2
    assert use[tenants.names[1]]["requests_limited_total:concurrency"] == 0
    stream.close()  # its client went away: alice's place is free again
    assert alice.get(f"/v1/jobs/{job['id']}").status_code == 200
    assert alice.get("/v1/datasets").status_code == 200


def test_answered_and_refused_requests_give_their_place_back(settings):
    tenants = Tenants(settings, tenant_concurrency=1, rate_limit=0.001, rate_burst=3)
    alice = tenants.client(0)  # one request at a time, never two in flight
    statuses = [alice.get(path).status_code for path in ("/v1/datasets", "/v1/datasets/nope", "/v1/datasets")]
    assert statuses == [200, 404, 200]
    for _ in range(3):  # over the rate: each refusal a rate-limited 429, never concurrency-limited
        assert problem(alice.get("/v1/datasets"), 429)["type"].endswith("rate-limited")
    use = tenants.usage()[tenants.names[0]]
    assert use["requests_limited_total:concurrency"] == 0 and use["requests_limited_total:rate"] == 3
