"""Per-tenant limits through the real app on a real Redis (API.md "Fair tenancy"): the storage quota
(403), the request rate (429 with Retry-After) and the open-jobs cap (429), shared by every app
instance on the same Redis, and each tenant's use on /metrics."""

from __future__ import annotations

from tests.support.api import problem, upload
from tests.support.data import WORKED
from tests.support.processes import wait_for
from tests.support.tenants import Tenants

ROWS = "x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(1000))
"""1,000 rows of two number columns: 8,000 bytes of float32 columns."""
COLUMN_BYTES = 8000
QUOTA = 20_000
"""Room for two such uploads (their columns and descriptions), not three."""


def test_an_upload_past_the_quota_is_403_naming_it_and_a_delete_frees_room(settings):
    tenants = Tenants(settings, tenant_storage_bytes=QUOTA)
    alice, bob = tenants.client(0), tenants.client(1)
    first = upload(alice, ROWS)
    upload(alice, ROWS)
    stored = tenants.usage()[tenants.names[0]]["stored_bytes"]
    assert 2 * COLUMN_BYTES < stored <= QUOTA and stored + COLUMN_BYTES > QUOTA

    refused = alice.post("/v1/datasets", data=ROWS, content_type="text/csv")
    err = problem(refused, 403)
    assert err["type"].endswith("quota-exceeded") and err["limit"] == "DESCENT_TENANT_STORAGE_BYTES"
    assert (err["quota_bytes"], err["stored_bytes"], err["requested_bytes"]) == (QUOTA, stored, COLUMN_BYTES)
    assert f"DESCENT_TENANT_STORAGE_BYTES = {QUOTA}" in err["detail"] and str(int(stored)) in err["detail"]
    assert len(alice.get("/v1/datasets").get_json()["datasets"]) == 2  # nothing of it was kept
    upload(bob, ROWS)  # another tenant's quota is its own

    assert alice.delete(f"/v1/datasets/{first}").status_code == 204
    upload(alice, ROWS)
    use = tenants.usage()[tenants.names[0]]
    assert use["stored_bytes"] == stored and use["requests_limited_total:storage"] == 1
    assert use["storage_quota_bytes"] == QUOTA


def test_a_tenant_at_its_quota_gets_403_for_uploads_jobs_and_sweeps_on_every_instance(settings):
    tenants = Tenants(settings)  # no quota on this instance
    dataset_id = upload(tenants.client(0), ROWS)
    stored = int(tenants.usage()[tenants.names[0]]["stored_bytes"])
    job = {"dataset_id": dataset_id, "optimizer": {"type": "gd"}}
    sweep = {"dataset_id": dataset_id, "base": {"optimizer": {"type": "gd"}}, "grid": {"seed": [1, 2]}}
    for instance in (tenants.add(tenant_storage_bytes=stored), tenants.add(tenant_storage_bytes=stored)):
        full = tenants.client(0, instance)
        for refused in (
            full.post("/v1/datasets", data=WORKED, content_type="text/csv"),
            full.post("/v1/jobs", json=job),
            full.post("/v1/sweeps", json=sweep),
        ):
            err = problem(refused, 403)
            assert (err["quota_bytes"], err["stored_bytes"], err["requested_bytes"]) == (stored, stored, 0)
        upload(tenants.client(1, instance), WORKED)
    assert tenants.usage()[tenants.names[0]]["requests_limited_total:storage"] == 6


def test_over_the_rate_is_429_with_retry_after_on_every_route_but_health_and_metrics(settings):
    tenants = Tenants(settings, rate_limit=0.001, rate_burst=4)  # 4 at once, then one per 1000 s
    alice, bob = tenants.client(0), tenants.client(1)
    dataset_id = upload(alice, WORKED)
    job = alice.post("/v1/jobs", json={"dataset_id": dataset_id, "optimizer": {"type": "gd"}}).get_json()
    assert alice.get(f"/v1/jobs/{job['id']}").status_code == 200  # the fast poll path takes a token
    assert alice.get(f"/v1/jobs/{job['id']}/history").status_code == 200  # the 4th
    for path in (f"/v1/jobs/{job['id']}", f"/v1/jobs/{job['id']}/history?after=0", "/v1/datasets"):
        refused = alice.get(path)
        err = problem(refused, 429)
        assert err["type"].endswith("rate-limited") and err["limit"] == "DESCENT_RATE_LIMIT"
        assert 1 <= int(refused.headers["Retry-After"]) == err["retry_after"] <= 1000
    for path in ("/healthz", "/metrics", "/openapi.json"):
        assert alice.get(path).status_code == 200
    assert bob.get("/v1/datasets").status_code == 200  # another tenant's rate is its own
    use = tenants.usage()
    assert use[tenants.names[0]]["requests_limited_total:rate"] == 3
    assert use[tenants.names[0]]["open_jobs"] == 1 and use[tenants.names[1]]["requests_limited_total:rate"] == 0


def test_a_limited_tenant_recovers_after_retry_after(settings):
    tenants = Tenants(settings, rate_limit=20.0, rate_burst=1)
    alice = tenants.client(0)
    refused = wait_for(
        lambda: (r := alice.get("/v1/datasets")).status_code == 429 and r, 60, interval=0, what="a 429"
    )
    assert refused.headers["Retry-After"] == "1"
    wait_for(lambda: alice.get("/v1/datasets").status_code == 200, 60, what="the rate to let a request through")


def test_app_instances_on_one_redis_share_the_rate(settings):
    tenants = Tenants(settings, instances=2, rate_limit=0.001, rate_burst=4)
    first, second = tenants.client(0, 0), tenants.client(0, 1)
    assert [c.get("/v1/datasets").status_code for c in (first, second, first, second)] == [200] * 4
    problem(first.get("/v1/datasets"), 429)
    problem(second.get("/v1/datasets"), 429)
    assert tenants.usage(1)[tenants.names[0]]["requests_limited_total:rate"] == 2


def test_the_open_jobs_cap_is_429_on_every_instance(settings):
    tenants = Tenants(settings, instances=2, max_open_jobs=2)
    dataset_id = upload(tenants.client(0, 0), WORKED)
    body = {"dataset_id": dataset_id, "optimizer": {"type": "gd"}}
    assert tenants.client(0, 0).post("/v1/jobs", json=body).status_code == 202
    assert tenants.client(0, 1).post("/v1/jobs", json=body).status_code == 202
    for instance in (0, 1):
        refused = tenants.client(0, instance).post("/v1/jobs", json=body)
        err = problem(refused, 429)
        assert err["limit"] == "DESCENT_MAX_OPEN_JOBS" and int(refused.headers["Retry-After"]) >= 1
    use = tenants.usage()[tenants.names[0]]
    assert use["open_jobs"] == 2 and use["requests_limited_total:open_jobs"] == 2
