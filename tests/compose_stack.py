"""docker-compose.yml's services started natively: the way the deployment is tested without Docker.

`compose_stack()` reads the redis, api and worker commands from docker-compose.yml itself (with
compose's `${VAR:-default}` substitution), starts them as processes on free ports, waits until
gunicorn answers (and, if asked, until a worker is live), and stops them in order afterwards.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import redis
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


@contextlib.contextmanager
def compose_stack(
    env_overrides: dict[str, str] | None = None,
    redis_args: tuple[str, ...] = (),
    wait_for_worker: bool = False,
) -> Iterator[SimpleNamespace]:
    """Yields `base` (the API's URL), `redis_port` and `env` (what the processes got)."""
    redis_port, api_port = free_port(), free_port()
    data_dir = tempfile.mkdtemp(prefix="descent-stack-")
    env = dict(os.environ)
    compose_url = compose_service("worker")["environment"]["REDIS_URL"]
    env.update(
        REDIS_URL=compose_url.replace("@redis:6379", f"@127.0.0.1:{redis_port}"),
        DESCENT_BIND=f"127.0.0.1:{api_port}",
        DESCENT_API_PROCESSES="1",
        PYTHONPATH=str(ROOT),
        **(env_overrides or {}),
    )
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
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
        subprocess.Popen([*redis_cmd, *redis_args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ]
    try:
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
        if wait_for_worker:
            wait_for(
                lambda: requests.get(base + "/readyz", timeout=2).json()["workers"] >= 1,
                60,
                interval=0.1,
                what="a live worker (/readyz)",
            )
        yield SimpleNamespace(base=base, redis_port=redis_port, env=env)
    finally:
        for proc in reversed(procs):  # worker first: it hands its job back through Redis
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
