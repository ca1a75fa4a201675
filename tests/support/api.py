"""The calls tests make against descent's API, written once.

Each helper takes a `client` with Flask's test-client interface (`get`, `post`, `delete` with `json`,
`data`, `content_type`, `headers`; responses with `status_code`, `mimetype`, `get_json()`):
the app's own test client, or `HttpClient` for a server reached over real HTTP.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from .processes import WORKER_DEADLINE, wait_for

ENDED = ("succeeded", "failed", "cancelled")
"""The statuses a job ends in."""


class As:
    """A Flask test client of `app` that sends one tenant's key (none: no Authorization header)."""

    def __init__(self, app: Any, key: str | None) -> None:
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def __getattr__(self, method: str) -> Any:
        call = getattr(self.client, method)
        return lambda *a, **kw: call(*a, headers={**self.headers, **kw.pop("headers", {})}, **kw)


def problem(response: Any, status: int) -> dict[str, Any]:
    """The body of an application/problem+json answer with `status`, checked for its fields."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


def upload(client: Any, csv: str | bytes, query: str = "") -> str:
    """POST a CSV body (query string `query`, e.g. "name=x&target=y"); the new dataset's id."""
    path = "/v1/datasets" + (f"?{query}" if query else "")
    r = client.post(path, data=csv, content_type="text/csv")
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()["id"]


def submit(client: Any, **body: Any) -> dict[str, Any]:
    """POST /v1/jobs with `body`; the accepted job."""
    r = client.post("/v1/jobs", json=body)
    assert r.status_code == 202, r.get_data(as_text=True)
    return r.get_json()


def get_job(client: Any, job_id: str) -> dict[str, Any]:
    return client.get(f"/v1/jobs/{job_id}").get_json()


def wait_job(
    client: Any, job_id: str, statuses: tuple[str, ...] = ENDED, timeout: float = WORKER_DEADLINE
) -> dict[str, Any]:
    """Poll the job until it reaches one of `statuses`; the job."""

    def check() -> dict[str, Any] | None:
        job = get_job(client, job_id)
        return job if job["status"] in statuses else None

    return wait_for(check, timeout, interval=0.02, what=f"job {job_id} to reach {statuses}")


def wait_sweep(client: Any, sweep_id: str, timeout: float = WORKER_DEADLINE) -> dict[str, Any]:
    """Poll the sweep until it is done; the sweep."""

    def done() -> dict[str, Any] | None:
        sweep = client.get(f"/v1/sweeps/{sweep_id}").get_json()
        return sweep if sweep["status"] == "done" else None

    return wait_for(done, timeout, interval=0.05, what=f"sweep {sweep_id}")


def full_history(client: Any, job_id: str) -> dict[str, dict[str, list[Any]]]:
    """Every train and dev point of an ended job, paged with `next` until `complete`."""
    train: dict[str, list[Any]] = {"step": [], "epoch": [], "loss": [], "smoothed": [], "lr": []}
    dev: dict[str, list[Any]] = {"step": [], "epoch": [], "loss": []}
    after = 0
    while True:
        page = client.get(f"/v1/jobs/{job_id}/history?after={after}").get_json()
        for k in train:
            train[k] += page["train"][k]
        for k in dev:
            dev[k] += page["dev"][k]
        after = page["next"]
        if page["complete"]:
            return {"train": train, "dev": dev}


class HttpResponse:
    """A `requests` response with the parts of Flask's test response the helpers use."""

    def __init__(self, response: requests.Response) -> None:
        self.raw = response
        self.status_code = response.status_code
        self.headers = response.headers
        self.mimetype = response.headers.get("Content-Type", "").split(";")[0].strip()

    def get_json(self) -> Any:
        return self.raw.json()

    def get_data(self, as_text: bool = False) -> str | bytes:
        return self.raw.text if as_text else self.raw.content


class HttpClient:
    """Flask's test-client interface over real HTTP, for a server started as a process."""

    def __init__(self, base: str, key: str | None = None) -> None:
        self.base = base
        self.session = requests.Session()
        if key:
            self.session.headers["Authorization"] = f"Bearer {key}"

    def open(self, method: str, path: str, **kwargs: Any) -> HttpResponse:
        headers = dict(kwargs.pop("headers", None) or {})
        if "content_type" in kwargs:
            headers["Content-Type"] = kwargs.pop("content_type")
        response = self.session.request(method, self.base + path, headers=headers, timeout=60, **kwargs)
        return HttpResponse(response)

    def get(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.open("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.open("DELETE", path, **kwargs)


def safetensors_metadata(data: bytes) -> dict[str, str]:
    """A safetensors file's `__metadata__`, read from its header as the format lays it out (an
    8-byte little-endian length, then JSON): the library reads metadata from files only."""
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + size])["__metadata__"]
