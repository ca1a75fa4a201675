"""The commands docker-compose.yml runs, started natively, driven over real HTTP.

No Docker engine runs on our machines, so this is how the deployment is tested: the redis, api and
worker commands are read from docker-compose.yml itself and started as processes, with the proxy's
template rendered from its compose environment and served by Debian's nginx in front, as compose
publishes it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support.processes import ROOT, WORKER_DEADLINE, free_port, wait_for
from tests.support.stack import compose_command, compose_service, compose_stack


@pytest.fixture(scope="module")
def stack():
    """redis-server, gunicorn and a worker, each started with its compose command; nginx in front."""
    with compose_stack({"DESCENT_MAX_REQUEST_BYTES": "1000000"}, proxy=True) as running:
        yield running


def test_upload_train_poll_over_http(stack):
    base = stack.base  # the proxy
    r = requests.post(
        f"{base}/v1/datasets", data="x,y\n1,2\n2,4\n3,6\n", headers={"Content-Type": "text/csv"}
    )
    assert r.status_code == 201, r.text
    ds = r.json()["id"]
    r = requests.post(
        f"{base}/v1/jobs",
        json={
            "dataset_id": ds,
            "model": {"type": "linear", "bias": False},
            "standardize": False,
            "tolerance": 0,
            "optimizer": {"type": "gd", "lr": 0.01},
        },
    )
    assert r.status_code == 202, r.text
    job_url = base + r.headers["Location"]

    def finished():
        job = requests.get(job_url).json()
        return job if job["status"] in ("succeeded", "failed", "cancelled") else None

    job = wait_for(finished, WORKER_DEADLINE, interval=0.02, what="the job to finish")
    assert job["status"] == "succeeded", job
    assert abs(job["result"]["params"]["weights"][0] - 2) < 1e-3
    history = requests.get(job_url + "/history").json()
    assert history["complete"] and history["train"]["step"][-1] == 100
    assert requests.get(f"{base}/openapi.json").json()["openapi"].startswith("3.")
    docs = requests.get(f"{base}/docs")
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    assert requests.get(f"{base}/docs/swagger-ui-bundle.js").status_code == 200
    missing = requests.get(f"{base}/v1/jobs/nope")
    assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("through", ["proxy", "api"])
def test_chunked_upload_over_the_limit_is_413(stack, through):
    """nginx refuses it with the API's own limit; gunicorn reached directly refuses it too."""
    base = stack.base if through == "proxy" else stack.api_base

    def chunks():
        for _ in range(40):
            yield b"1,2\n" * 10_000  # 40 KB a chunk, 1.6 MB in all: over the 1 MB limit

    r = requests.post(f"{base}/v1/datasets", data=chunks(), headers={"Content-Type": "text/csv"})
    assert r.status_code == 413 and r.headers["Content-Type"] == "application/problem+json"
    assert "DESCENT_MAX_REQUEST_BYTES = 1000000" in r.json()["detail"]


def test_redis_refuses_clients_without_the_password(stack):
    import redis

    url = compose_service("worker")["environment"]["REDIS_URL"]
    password = url.split("@")[0].rsplit(":", 1)[1]
    assert password
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(port=stack.redis_port).ping()
    assert redis.Redis(port=stack.redis_port, password=password).ping()


def test_the_api_command_applies_its_settings_from_any_directory(tmp_path):
    """The api service's command, started outside the repository, listens where DESCENT_BIND says
    with DESCENT_API_PROCESSES processes and JSON logs (a bare gunicorn there used its defaults)."""
    port = free_port()
    command = compose_command("api")
    if command[0] == "python":
        command[0] = sys.executable
    env = {
        **os.environ,
        "DESCENT_BIND": f"127.0.0.1:{port}",
        "DESCENT_API_PROCESSES": "3",
        "PYTHONPATH": str(ROOT),
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path / "api.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:

        def answers() -> bool:
            assert proc.poll() is None, log.read_text()
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_for(answers, 60, interval=0.1, what=f"the API on port {port}")
        wait_for(lambda: len(children(proc.pid)) == 3, 30, interval=0.1, what="3 gunicorn processes")
        lines = [json.loads(line) for line in log.read_text().splitlines()]  # every line is JSON
        assert any(line["logger"] == "gunicorn.error" for line in lines)
    finally:
        proc.terminate()
        proc.wait(30)


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found
