"""API keys and tenants: 401 without a valid key, 404 for everything of another tenant."""

from __future__ import annotations

from dataclasses import replace

import pytest

from service import create_app
from service.auth import parse_keys
from tests.support.api import As, problem, wait_job
from tests.support.data import WORKED

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture(scope="module")
def keyed_app(settings):
    return create_app({"SETTINGS": replace(settings, api_keys="alice:key-a, bob:key-b")})


def test_missing_or_wrong_key_is_401(keyed_app):
    for who in (As(keyed_app, None), As(keyed_app, "nope"), As(keyed_app, "key-a2")):
        r = who.get("/v1/datasets")
        problem(r, 401)
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = keyed_app.test_client().get("/v1/jobs", headers={"Authorization": "Basic a2V5LWE="})
    problem(r, 401)
    assert keyed_app.test_client().get("/healthz").status_code == 200
    assert keyed_app.test_client().get("/openapi.json").status_code == 200


def test_keys_must_be_well_formed():
    assert parse_keys("a:1, b:2") == [("a", b"1"), ("b", b"2")]
    for bad in ("a", "a:", ":k", "a b:k"):
        with pytest.raises(ValueError):
            parse_keys(bad)


def test_another_tenants_resources_are_404_everywhere(keyed_app):
    alice, bob = As(keyed_app, "key-a"), As(keyed_app, "key-b")
    ds = alice.post("/v1/datasets", data=WORKED, content_type="text/csv").get_json()["id"]
    job = alice.post(
        "/v1/jobs",
        json={
            "dataset_id": ds,
            "model": {"bias": False},
            "optimizer": {"type": "exhaustive", "grid": {"w": {"min": 0, "max": 4, "steps": 5}}},
        },
    ).get_json()
    done = wait_job(alice.client, job["id"]) if False else None
    import time

    from tests.support.processes import WORKER_DEADLINE, wait_for

    wait_for(lambda: alice.get(f"/v1/jobs/{job['id']}").get_json()["status"] == "succeeded", WORKER_DEADLINE)
    sweep = alice.post(
        "/v1/sweeps", json={"dataset_id": ds, "base": {"optimizer": {"type": "gd"}}, "grid": {"seed": [1]}}
    ).get_json()
    assert done is None and time
    jid, sid = job["id"], sweep["id"]
    for method, path, body in [
        ("get", f"/v1/datasets/{ds}", None),
        ("delete", f"/v1/datasets/{ds}", None),
        ("post", "/v1/jobs", {"dataset_id": ds, "optimizer": {"type": "gd"}}),
        ("get", f"/v1/jobs/{jid}", None),
        ("get", f"/v1/jobs/{jid}/history", None),
        ("get", f"/v1/jobs/{jid}/surface", None),
        ("post", f"/v1/jobs/{jid}/cancel", None),
        ("post", f"/v1/jobs/{jid}/predict", {"x": [[1.0]]}),
        ("get", f"/v1/jobs/{jid}/model", None),
        ("delete", f"/v1/jobs/{jid}", None),
        ("get", f"/v1/sweeps/{sid}", None),
        ("post", f"/v1/sweeps/{sid}/cancel", None),
        (
            "post",
            "/v1/sweeps",
            {"dataset_id": ds, "base": {"optimizer": {"type": "gd"}}, "grid": {"seed": [1]}},
        ),
    ]:
        kwargs = {"json": body} if body is not None else {}
        problem(getattr(bob, method)(path, **kwargs), 404)
    assert bob.get("/v1/datasets").get_json()["datasets"] == []
    for query in ("", f"?dataset_id={ds}", f"?sweep_id={sid}"):
        assert bob.get(f"/v1/jobs{query}").get_json()["jobs"] == []
    # Alice still sees all of it.
    assert alice.get(f"/v1/jobs/{jid}/surface").status_code == 200
    assert alice.get(f"/v1/jobs?sweep_id={sid}").get_json()["jobs"]


def test_idempotency_key_returns_the_first_answer(keyed_app):
    alice, bob = As(keyed_app, "key-a"), As(keyed_app, "key-b")
    first = alice.post(
        "/v1/datasets", data=WORKED, content_type="text/csv", headers={"Idempotency-Key": "k1"}
    )
    again = alice.post(
        "/v1/datasets", data=WORKED, content_type="text/csv", headers={"Idempotency-Key": "k1"}
    )
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert len(alice.get("/v1/datasets").get_json()["datasets"]) >= 1
    other = bob.post("/v1/datasets", data=WORKED, content_type="text/csv", headers={"Idempotency-Key": "k1"})
    assert other.get_json()["id"] != first.get_json()["id"]
    problem(
        alice.post(
            "/v1/datasets", data="x,y\n1,1\n2,2\n", content_type="text/csv", headers={"Idempotency-Key": "k1"}
        ),
        409,
    )
    ds = first.get_json()["id"]
    body = {"dataset_id": ds, "optimizer": {"type": "gd"}}
    j1 = alice.post("/v1/jobs", json=body, headers={"Idempotency-Key": "job-1"}).get_json()
    j2 = alice.post("/v1/jobs", json=body, headers={"Idempotency-Key": "job-1"}).get_json()
    assert j1["id"] == j2["id"]
    assert len(alice.get(f"/v1/jobs?dataset_id={ds}").get_json()["jobs"]) == 1
    # A rejected request does not use the key up.
    assert (
        alice.post("/v1/jobs", json={"dataset_id": ds}, headers={"Idempotency-Key": "job-2"}).status_code
        == 400
    )
    assert (
        alice.post("/v1/jobs", json=body | {"epochs": 3}, headers={"Idempotency-Key": "job-2"}).status_code
        == 202
    )


def test_open_jobs_limit_names_the_limit(settings):
    app = create_app(
        {
            "SETTINGS": replace(
                settings, queue_name=settings.queue_name + "-none", max_open_jobs=2, api_keys="carol:key-c"
            )
        }
    )
    carol = As(app, "key-c")
    ds = carol.post("/v1/datasets", data=WORKED, content_type="text/csv").get_json()["id"]
    body = {"dataset_id": ds, "optimizer": {"type": "gd"}}
    assert carol.post("/v1/jobs", json=body).status_code == 202
    second = carol.post("/v1/jobs", json=body).get_json()
    refused = carol.post("/v1/jobs", json=body)
    err = problem(refused, 429)
    assert "DESCENT_MAX_OPEN_JOBS = 2" in err["detail"] and err["limit"] == "DESCENT_MAX_OPEN_JOBS"
    assert int(refused.headers["Retry-After"]) >= 1 and err["retry_after"] == int(refused.headers["Retry-After"])
    sweep = {"dataset_id": ds, "base": {"optimizer": {"type": "gd"}}, "grid": {"seed": [1]}}
    problem(carol.post("/v1/sweeps", json=sweep), 429)  # one more child is over the cap too
    problem(carol.post("/v1/sweeps", json={**sweep, "grid": {"seed": [1, 2, 3]}}), 400)  # never fits
    carol.post(f"/v1/jobs/{second['id']}/cancel")
    assert carol.post("/v1/jobs", json=body).status_code == 202
