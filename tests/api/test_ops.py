"""Health, OpenAPI, docs, the error handler, and the layering rules."""

from __future__ import annotations

import subprocess
import sys

from openapi_spec_validator import validate

from service import create_app
from tests.support.api import problem
from tests.support.processes import ROOT


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_openapi_is_valid_and_built_from_the_request_schemas(client):
    doc = client.get("/openapi.json").get_json()
    validate(doc)
    job = doc["components"]["schemas"]["JobRequest"]
    assert set(job["required"]) == {"dataset_id", "optimizer"}
    assert job["additionalProperties"] is False
    optimizer = doc["components"]["schemas"]["Optimizer"]
    assert "exhaustive" in str(optimizer["properties"]["type"])
    for path in ("/v1/datasets", "/v1/jobs", "/v1/jobs/{job_id}/history", "/v1/jobs/{job_id}/cancel"):
        assert path in doc["paths"]


def test_docs_page_is_served_without_a_cdn(client):
    page = client.get("/docs").get_data(as_text=True)
    assert "http://" not in page and "https://" not in page
    assert client.get("/docs/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/docs.js").status_code == 200


def test_unexpected_errors_are_500_problems_without_traceback(settings):
    app = create_app({"SETTINGS": settings})

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    r = app.test_client().get("/boom")
    body = problem(r, 500)
    assert "secret" not in r.get_data(as_text=True) and "Traceback" not in r.get_data(as_text=True)
    assert body["title"] == "Internal server error"


def test_redis_down_is_503(settings):
    from dataclasses import replace

    from tests.support.processes import free_port

    app = create_app({"SETTINGS": replace(settings, redis_url=f"redis://127.0.0.1:{free_port()}/0")})
    r = app.test_client().get("/v1/datasets")
    problem(r, 503)
    assert r.headers["Retry-After"]


def test_importing_the_service_does_not_load_torch():
    code = "import service, sys; service.create_app; print(sorted(m for m in ('torch', 'worker') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
