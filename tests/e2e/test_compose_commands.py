"""The commands docker-compose.yml runs, started natively, driven over real HTTP.

No Docker engine runs on our machines, so this is how the deployment is tested: the redis, api and
worker commands are read from docker-compose.yml itself and started as processes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
import yaml

from tests.conftest import ROOT, free_port, wait_for


def interpolate(text: str) -> str:
    """Compose's `${VAR:-default}` substitution, from this process's environment."""
    return re.sub(
        r"\$\{(\w+)(?::-([^}]*))?\}", lambda m: os.environ.get(m.group(1)) or (m.group(2) or ""), text
    )


def compose_service(service: str) -> dict:
    spec = yaml.safe_load(interpolate((ROOT / "docker-compose.yml").read_text()))
    return spec["services"][service]


def compose_command(service: str) -> list[str]:
    return [str(part) for part in compose_service(service)["command"]]


@pytest.fixture(scope="module")
def stack():
    """redis-server, gunicorn and a worker, each started with its compose command."""
    redis_port, api_port = free_port(), free_port()
    data_dir = tempfile.mkdtemp(prefix="descent-e2e-")
    env = dict(os.environ)
    compose_url = compose_service("worker")["environment"]["REDIS_URL"]
    env.update(
        REDIS_URL=compose_url.replace("@redis:6379", f"@127.0.0.1:{redis_port}"),
        DESCENT_BIND=f"127.0.0.1:{api_port}",
        DESCENT_API_PROCESSES="1",
        DESCENT_MAX_REQUEST_BYTES="1000000",
        PYTHONPATH=str(ROOT),
    )
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    redis_cmd = [
        *compose_command("redis"),
        "--port",
        str(redis_port),
        "--bind",
        "127.0.0.1",
        "--dir",
        data_dir,
    ]
    procs = [
        subprocess.Popen(redis_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    try:
        import redis

        client = redis.Redis.from_url(env["REDIS_URL"], socket_connect_timeout=0.2)

        def redis_up() -> bool:
            try:
                return bool(client.ping())
            except redis.exceptions.ConnectionError:
                return False

        wait_for(redis_up, 10, what="redis")
        for service in ("api", "worker"):
            command = compose_command(service)
            if command[0] == "python":
                command[0] = sys.executable
            procs.append(
                subprocess.Popen(
                    command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            )
        base = f"http://127.0.0.1:{api_port}"

        def api_up() -> bool:
            try:
                return requests.get(base + "/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_for(api_up, 30, interval=0.05, what="gunicorn")
        yield SimpleNamespace(base=base, redis_port=redis_port)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_upload_train_poll_over_http(stack):
    base = stack.base
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

    job = wait_for(finished, 60, interval=0.02, what="the job to finish")
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


def test_chunked_upload_over_the_limit_is_413(stack):
    base = stack.base

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
