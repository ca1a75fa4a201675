"""The fast poll path answers exactly as the Flask views do, byte for byte, or hands the request on."""

from __future__ import annotations

from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.test import Client, EnvironBuilder

from service import create_app
from service.fast_polls import FastPolls
from tests.support.api import wait_job
from tests.support.data import WORKED

pytestmark = pytest.mark.usefixtures("worker")



@pytest.fixture(scope="module")
def keyed_app(settings):
    return create_app({"SETTINGS": replace(settings, api_keys="alice:key-a, bob:key-b")})


@pytest.fixture(scope="module")
def finished_job(keyed_app) -> str:
    client = keyed_app.test_client()
    alice = {"Authorization": "Bearer key-a"}
    ds = client.post("/v1/datasets", data=WORKED, content_type="text/csv", headers=alice).get_json()["id"]
    body = {"dataset_id": ds, "optimizer": {"type": "gd", "lr": 0.01}, "epochs": 100, "split": {"dev": 0.0}}
    job_id = client.post("/v1/jobs", json=body, headers=alice).get_json()["id"]
    done = wait_job(_As(client, alice), job_id)
    assert done["status"] == "succeeded"
    return job_id


class _As:
    def __init__(self, client, headers) -> None:
        self.client, self.headers = client, headers

    def get(self, path):
        return self.client.get(path, headers=self.headers)


def _both(app, path: str, key: str | None):
    """The response through the middleware (what gunicorn calls) and through Flask alone."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    middleware = app.wsgi_app.inner  # behind service/door.py's Door
    assert isinstance(middleware, FastPolls)
    return Client(middleware).get(path, headers=headers), Client(middleware.inner).get(path, headers=headers)


def _answered_fast(app, path: str, key: str | None) -> bool:
    builder = EnvironBuilder(path=path, headers={"Authorization": f"Bearer {key}"} if key else {})
    environ = builder.get_environ()
    return app.wsgi_app.inner._answer(environ["PATH_INFO"][len("/v1/jobs/") :], environ) is not None


def _same(fast, flask) -> None:
    assert fast.status == flask.status
    assert fast.get_data() == flask.get_data()
    for name in ("Content-Type", "Content-Length", "WWW-Authenticate"):
        assert fast.headers.get(name) == flask.headers.get(name), name


@pytest.mark.parametrize(
    "tail",
    [
        "",
        "/history",
        "/history?after=0",
        "/history?after=37",
        "/history?after=37&limit=5",
        "/history?limit=1",
        "/history?after=99&limit=10000",
        "/history?after=100",
        "/history?limit=3&after=1000000",
    ],
)
def test_a_successful_poll_is_answered_fast_and_exactly_as_flask_answers_it(keyed_app, finished_job, tail):
    path = f"/v1/jobs/{finished_job}{tail}"
    fast, flask = _both(keyed_app, path, "key-a")
    assert fast.status_code == 200
    _same(fast, flask)
    assert _answered_fast(keyed_app, path, "key-a")


@pytest.mark.parametrize(
    ("tail", "key", "status"),
    [
        ("", "key-b", 404),  # another tenant's job
        ("/history", "key-b", 404),
        ("", None, 401),
        ("/history?after=1", "nope", 401),
        ("/history?after=-1", "key-a", 400),
        ("/history?after=x", "key-a", 400),
        ("/history?after=1&after=2", "key-a", 200),  # Flask reads the first; the fast path hands it on
        ("/history?limit=0", "key-a", 400),
        ("/history?limit=10001", "key-a", 400),
        ("/history?after=99999999999999999999", "key-a", 400),
        ("/history?unknown=1", "key-a", 200),
        ("?verbose=1", "key-a", 200),
        ("/", "key-a", 404),
    ],
)
def test_anything_else_is_handed_to_flask(keyed_app, finished_job, tail, key, status):
    path = f"/v1/jobs/{finished_job}{tail}"
    fast, flask = _both(keyed_app, path, key)
    assert fast.status_code == status
    _same(fast, flask)
    assert not _answered_fast(keyed_app, path, key)


@pytest.mark.parametrize("path", ["/v1/jobs/job_" + "0" * 32, "/v1/jobs/job_" + "0" * 32 + "/history"])
def test_an_unknown_job_is_flasks_404(keyed_app, path):
    fast, flask = _both(keyed_app, path, "key-a")
    assert fast.status_code == 404
    _same(fast, flask)


def test_fast_polls_are_counted_in_the_latency_metric(client):
    ds = client.post("/v1/datasets", data=WORKED, content_type="text/csv").get_json()["id"]
    job_id = client.post(
        "/v1/jobs", json={"dataset_id": ds, "optimizer": {"type": "gd"}, "epochs": 3}
    ).get_json()["id"]
    wait_job(client, job_id)

    def count(route: str) -> float:
        text = client.get("/metrics").get_data(as_text=True)
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "descent_http_request_duration_seconds_count" and sample.labels == {
                    "method": "GET",
                    "route": route,
                    "status": "200",
                }:
                    return sample.value
        return 0.0

    before = count("/v1/jobs/<job_id>/history"), count("/v1/jobs/<job_id>")
    assert client.get(f"/v1/jobs/{job_id}/history?after=1").status_code == 200
    assert client.get(f"/v1/jobs/{job_id}").status_code == 200
    after = count("/v1/jobs/<job_id>/history"), count("/v1/jobs/<job_id>")
    assert after == (before[0] + 1, before[1] + 1)
