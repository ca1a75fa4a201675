"""Every answer the API gives is one /openapi.json documents: status, headers and body schema.

schemathesis (test_schemathesis.py) checks this for whatever it can reach, but no worker trains
its jobs there. Here a real worker does, so the resources of every state are checked too:
succeeded jobs of each kind with their results, histories, surfaces, models and predictions,
failed and cancelled jobs, finished sweeps, and the problems of each kind of error.
"""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from descent.store.paging import CURSOR_PATTERN
from tests.support.api import submit, upload, wait_job
from tests.support.data import WORKED
from tests.support.holds import Hold, wait_held
from tests.support.processes import WORKER_DEADLINE, wait_for
from tests.support.tenants import Tenants

pytestmark = pytest.mark.usefixtures("worker")


class Document:
    """The OpenAPI document, and a check of one response against it."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def operation(self, method: str, path: str) -> dict[str, Any]:
        for template, item in self.doc["paths"].items():
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
            if method in item and re.match(pattern, path.split("?")[0]):
                return item[method]
        raise AssertionError(f"{method.upper()} {path} is not in the document")

    def validate(self, schema: dict[str, Any], value: Any, where: str) -> None:
        validator = Draft202012Validator(
            {**schema, "components": self.doc["components"]}, format_checker=FormatChecker()
        )
        problems = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        assert not problems, f"{where}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}" for e in problems[:5]
        )

    def check(self, method: str, path: str, response) -> Any:
        """The response's JSON (or None), after checking it conforms to the document."""
        operation = self.operation(method, path)
        where = f"{method.upper()} {path} → {response.status_code}"
        documented = operation["responses"]
        spec = documented.get(str(response.status_code)) or documented.get("default")
        assert spec is not None, f"{where}: status not documented"
        for name, header in spec.get("headers", {}).items():
            if header.get("required"):
                assert name in response.headers, f"{where}: no {name} header"
        content = spec.get("content")
        if not content:
            assert not response.get_data(), f"{where}: a body where none is documented"
            return None
        assert response.mimetype in content, f"{where}: {response.mimetype} is not documented"
        if not response.mimetype.endswith("json"):
            return None
        body = response.get_json()
        self.validate(content[response.mimetype]["schema"], body, where)
        return body


@pytest.fixture(scope="module")
def api(app) -> Document:
    return Document(app.test_client().get("/openapi.json").get_json())


class Client:
    """The test client, checking every answer against the document."""

    def __init__(self, client, api: Document) -> None:
        self.client, self.api = client, api

    def __getattr__(self, method: str):
        call = getattr(self.client, method)

        def send(path: str, **kwargs: Any):
            response = call(path, **kwargs)
            self.api.check(method, path, response)
            return response

        return send


@pytest.fixture()
def c(client, api) -> Client:
    return Client(client, api)


def finished(c: Client, job_id: str, timeout: float = 120) -> dict:
    wait_job(c.client, job_id, timeout=timeout)
    return c.get(f"/v1/jobs/{job_id}").get_json()


def test_datasets_of_every_form_and_their_errors(c):
    csv = c.post("/v1/datasets?name=course", data=WORKED, content_type="text/csv")
    assert csv.status_code == 201
    xy = c.post(
        "/v1/datasets", json={"name": "xy", "x": [[1.0, 0.0], [2.0, 1.0], [3.0, 0.0]], "y": [0, 1, 0]}
    )
    rows = c.post("/v1/datasets", json={"columns": ["a", "b"], "rows": [[1, 2], [3, 4]], "target": 0})
    form = c.post("/v1/datasets", data={"file": (io.BytesIO(WORKED.encode()), "w.csv")})
    field = c.post(
        "/v1/datasets", data={"file": WORKED, "name": "from a field"}, content_type="multipart/form-data"
    )
    mixed = c.post(  # every kind of column, missing cells, a text column: the resource's whole shape
        "/v1/datasets",
        json={
            "columns": ["who", "sex", "adult", "age", "when", "y"],
            "rows": [
                [
                    f"p{k}",
                    ["f", "m", None][k % 3],
                    k % 2 == 0,
                    None if k % 4 else k,
                    f"2020-01-{k + 1:02d}",
                    k % 2,
                ]
                for k in range(25)
            ],
        },
    )
    assert mixed.status_code == 201 and [col["kind"] for col in mixed.get_json()["columns"]] == [
        "text",
        "category",
        "category",
        "number",
        "datetime",
        "number",
    ]
    assert {r.status_code for r in (xy, rows, form, field)} == {201}
    assert field.get_json()["name"] == "from a field"
    ds = csv.get_json()["id"]
    c.get(f"/v1/datasets/{ds}")
    assert c.get("/v1/datasets?limit=2").get_json()["next_cursor"]
    for bad in ("x,y\n1,2\n3\n", "x,y\n1,inf\n2,3\n", "", "a,a\n1,2\n3,4\n"):
        assert c.post("/v1/datasets", data=bad, content_type="text/csv").status_code == 400
    assert c.post("/v1/datasets", json={"x": [[1], [2, 3]], "y": [1, 2]}).status_code == 400
    assert c.post("/v1/datasets", data="x", content_type="application/xml").status_code == 415
    assert c.post("/v1/datasets?name=" + "n" * 201, data=WORKED, content_type="text/csv").status_code == 400
    assert c.get("/v1/datasets?cursor=nope").status_code == 400
    assert c.delete(f"/v1/datasets/{rows.get_json()['id']}").status_code == 204
    assert c.get(f"/v1/datasets/{rows.get_json()['id']}").status_code == 404


def test_succeeded_jobs_of_each_kind(c):
    ds = upload(c.client, WORKED)
    runs = {
        "gd": {"model": {"bias": False}, "optimizer": {"type": "gd", "lr": "auto"}, "epochs": 20},
        "adam_dev": {
            "optimizer": {"type": "adam"},
            "epochs": 5,
            "split": {"dev": 0.34},
            "early_stopping": {"patience": 2},
        },
        "exhaustive": {
            "model": {"bias": False},
            "optimizer": {"type": "exhaustive", "grid": {"w": {"min": 0, "max": 4, "steps": 41}}},
        },
        "mlp": {"model": {"type": "mlp", "hidden": [4]}, "optimizer": {"type": "minibatch"}, "epochs": 3},
    }
    jobs = {name: submit(c.client, dataset_id=ds, **body)["id"] for name, body in runs.items()}
    for name, job_id in jobs.items():
        job = finished(c, job_id)
        assert job["status"] == "succeeded", (name, job)
        c.get(f"/v1/jobs/{job_id}/history?after=0&limit=5")
        c.get(f"/v1/jobs/{job_id}/model")
        assert c.get(f"/v1/jobs/{job_id}/model?format=safetensors").status_code == 200
        assert c.get(f"/v1/jobs/{job_id}/model?format=onnx").status_code == 200
        assert c.post(f"/v1/jobs/{job_id}/predict", json={"x": [[4.0], [5.0]]}).status_code == 200
        assert c.post(f"/v1/jobs/{job_id}/predict", json={"x": [[4.0, 1.0]]}).status_code == 400
        assert c.post(f"/v1/jobs/{job_id}/cancel").status_code == 409
        surface = c.get(f"/v1/jobs/{job_id}/surface")
        assert surface.status_code == (200 if name == "exhaustive" else 404)
    assert c.get(f"/v1/jobs/{jobs['gd']}/model?format=pmml").status_code == 400
    assert c.delete(f"/v1/jobs/{jobs['mlp']}").status_code == 204


def test_classifiers_predict_probabilities(c):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 2))
    for loss, y in (("bce", (x[:, 0] > 0).astype(float)), ("cross_entropy", (x[:, 0] > 0) + (x[:, 1] > 0))):
        r = c.post("/v1/datasets", json={"x": x.tolist(), "y": np.asarray(y, dtype=float).tolist()})
        job = submit(c.client, dataset_id=r.get_json()["id"], loss=loss, optimizer={"type": "gd", "lr": 0.1})
        assert finished(c, job["id"])["status"] == "succeeded"
        body = c.post(f"/v1/jobs/{job['id']}/predict", json={"x": x[:3].tolist()}).get_json()
        assert len(body["probability"]) == 3


def test_failed_cancelled_and_listed_jobs(c, settings):
    ds = upload(c.client, WORKED)
    bad = submit(
        c.client, dataset_id=ds, model={"bias": False}, standardize=False, optimizer={"type": "gd", "lr": 1.0}
    )
    job = finished(c, bad["id"])
    assert job["status"] == "failed" and job["error"]["type"] == "diverged"
    with Hold(settings.redis_url, ds, step=10):
        long = submit(c.client, dataset_id=ds, optimizer={"type": "sgd", "lr": 1e-4}, epochs=100, tolerance=0)
        c.get(f"/v1/jobs/{wait_held(c.client, long['id'], 10)['id']}")  # a running job, as documented
        assert c.post(f"/v1/jobs/{long['id']}/cancel").status_code == 202
        assert finished(c, long["id"])["status"] == "cancelled"
    assert c.post(f"/v1/jobs/{bad['id']}/predict", json={"x": [[1.0]]}).status_code == 409
    assert c.get(f"/v1/jobs/{bad['id']}/model").status_code == 409
    page = c.get(f"/v1/jobs?dataset_id={ds}&limit=1").get_json()
    assert re.fullmatch(CURSOR_PATTERN.strip("^$"), page["next_cursor"])
    second = c.get(f"/v1/jobs?dataset_id={ds}&limit=1&cursor={page['next_cursor']}").get_json()
    assert second["jobs"][0]["id"] != page["jobs"][0]["id"]
    assert c.get("/v1/jobs?status=sleeping").status_code == 400
    assert c.get("/v1/jobs?cursor=1-job_nobody").get_json() == {"jobs": [], "next_cursor": None}
    assert (
        c.post("/v1/jobs", json={"dataset_id": ds, "optimizer": {"type": "gd"}, "epochs": 0}).status_code
        == 400
    )
    assert c.post("/v1/jobs", json={"dataset_id": "ds_nope", "optimizer": {"type": "gd"}}).status_code == 404
    assert c.post("/v1/jobs", data="{}", content_type="text/plain").status_code == 415
    assert c.get(f"/v1/jobs/{long['id']}/history?limit=0").status_code == 400
    assert c.delete(f"/v1/datasets/{ds}").status_code in (204, 409)


def test_sweeps_running_and_done(c):
    ds = upload(c.client, WORKED)
    r = c.post(
        "/v1/sweeps",
        json={"dataset_id": ds, "base": {"optimizer": {"type": "gd"}, "epochs": 5}, "grid": {"seed": [0, 1]}},
    )
    assert r.status_code == 202
    sweep_id = r.get_json()["id"]

    def done():
        return c.get(f"/v1/sweeps/{sweep_id}").get_json()["status"] == "done"

    wait_for(done, WORKER_DEADLINE, interval=0.05)
    assert c.post(f"/v1/sweeps/{sweep_id}/cancel").status_code == 409
    bad = c.post("/v1/sweeps", json={"dataset_id": ds, "base": {"epochs": 0}, "grid": {"seed": [1]}})
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["field"] == "base.epochs"


def test_idempotent_replays_and_conflicts(c):
    key = {"Idempotency-Key": "conformance-1"}
    first = c.post("/v1/datasets", data=WORKED, content_type="text/csv", headers=key)
    again = c.post("/v1/datasets", data=WORKED, content_type="text/csv", headers=key)
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    assert (
        c.post("/v1/datasets", data=WORKED + "4,8\n", content_type="text/csv", headers=key).status_code == 409
    )
    c.delete(f"/v1/datasets/{first.get_json()['id']}")
    gone = c.post("/v1/datasets", data=WORKED, content_type="text/csv", headers=key)
    assert gone.status_code == 409 and "no longer exists" in gone.get_json()["detail"]
    bad_key = c.post("/v1/datasets", data=WORKED, content_type="text/csv", headers={"Idempotency-Key": "é"})
    assert bad_key.status_code == 400


def test_the_per_tenant_limits_problems(api, settings):
    """403 quota-exceeded and the two 429s, with their extension members and Retry-After."""
    tenants = Tenants(settings, max_open_jobs=1, rate_limit=0.001, rate_burst=6)
    alice = Client(tenants.client(0), api)
    dataset_id = upload(alice.client, WORKED)  # 1 (of the burst of 6)
    stored = int(tenants.usage()[tenants.names[0]]["stored_bytes"])
    full = Client(tenants.client(0, tenants.add(tenant_storage_bytes=stored)), api)
    assert full.post("/v1/datasets", data=WORKED, content_type="text/csv").status_code == 403  # 2
    body = {"dataset_id": dataset_id, "optimizer": {"type": "gd"}}
    assert alice.post("/v1/jobs", json=body).status_code == 202  # 3
    assert alice.post("/v1/jobs", json=body).status_code == 429  # 4: open jobs
    for _ in range(2):  # 5, 6
        alice.get("/v1/datasets")
    assert alice.get("/v1/datasets").status_code == 429  # the rate
