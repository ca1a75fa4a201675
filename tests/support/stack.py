"""docker-compose.yml's services started natively: how the deployment is tested without Docker.

`Stack` reads the redis, api and worker commands from docker-compose.yml itself (with compose's
`${VAR:-default}` substitution), starts them as processes on free loopback ports, waits until the
API answers (and, if asked, until workers beat), and stops them in order: workers first (each hands
its job back through Redis), then the API, then Redis. The e2e and browser tests use it through
`compose_stack()`; bench/ uses `Stack` to measure descent as it runs in production. With
`proxy=True` the compose proxy (nginx, tests/support/proxy.py) stands in front of the API, and
`base` is the proxy's address (`api_base` is gunicorn's own).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from typing import IO, Any

import redis
import requests
import yaml

from .processes import ROOT, free_port, wait_for, wait_redis
from .proxy import Proxy


def interpolate(text: str) -> str:
    """Compose's `${VAR:-default}` substitution, from this process's environment."""
    return re.sub(
        r"\$\{(\w+)(?::-([^}]*))?\}", lambda m: os.environ.get(m.group(1)) or (m.group(2) or ""), text
    )


def compose_service(service: str) -> dict[str, Any]:
    spec = yaml.safe_load(interpolate((ROOT / "docker-compose.yml").read_text()))
    return spec["services"][service]


def compose_command(service: str) -> list[str]:
    return [str(part) for part in compose_service(service)["command"]]


class Stack:
    """redis-server, the API and `workers` workers, each started with its compose command.

    `env`: variables for the API and the workers on top of this process's environment (the stack
    sets REDIS_URL, DESCENT_BIND and one API process); `redis_args`: more redis-server options.
    Each process's output goes to a log file in the stack's directory (`log(name)`). `proxy`: nginx
    in front, as compose runs it; clients then talk to `base`, the proxy.
    """

    def __init__(
        self,
        workers: int = 1,
        env: dict[str, str] | None = None,
        redis_args: tuple[str, ...] = (),
        proxy: bool = False,
    ):
        self.dir = tempfile.mkdtemp(prefix="descent-stack-")
        self.redis_port, api_port = free_port(), free_port()
        self.api_base = self.base = f"http://127.0.0.1:{api_port}"
        compose_url = compose_service("worker")["environment"]["REDIS_URL"]
        self.redis_url = compose_url.replace("@redis:6379", f"@127.0.0.1:{self.redis_port}")
        own = {
            "REDIS_URL": self.redis_url,
            "DESCENT_BIND": f"127.0.0.1:{api_port}",
            "DESCENT_API_PROCESSES": "1",
            "PROMETHEUS_MULTIPROC_DIR": os.path.join(self.dir, "metrics"),
            "PYTHONPATH": str(ROOT),
            **(env or {}),
        }
        self.fixed = set(own)
        """Variables the stack sets, over what docker-compose.yml gives a service."""
        self.env = {**os.environ, **own}
        self.env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + self.env.get("PATH", "")
        self.redis: subprocess.Popen[bytes] | None = None
        self.api: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.proxy: Proxy | None = None
        self._logs: list[IO[bytes]] = []
        try:
            self.redis = self._start("redis", "redis", ["--dir", self.dir, *redis_args])
            wait_redis(self.client(), 30)
            self.api = self._start("api", "api")
            for _ in range(workers):
                self.add_worker()
            wait_for(self._api_up, 60, interval=0.05, what="the API")
            if proxy:
                self.proxy = self.start_proxy(f"127.0.0.1:{api_port}")
                self.base = self.proxy.base
        except BaseException:
            self.stop()
            raise

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, socket_connect_timeout=0.2)

    def _start(self, name: str, service: str, args: list[str] | None = None) -> subprocess.Popen[bytes]:
        """Start a service's compose command (plus `args`) with its compose environment (the
        stack's own REDIS_URL, DESCENT_BIND and `env` win); redis on the stack's port."""
        command = compose_command(service) + (args or [])
        if service == "redis":
            command += ["--port", str(self.redis_port), "--bind", "127.0.0.1"]
        if command[0] == "python":
            command = [sys.executable, *command[1:]]
        env = self.service_env(service)
        log = open(self.log(name), "wb")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def service_env(self, service: str) -> dict[str, str]:
        """A service's environment: this process's, then its compose environment, then the stack's own."""
        # a variable without a value is compose's "take it from the host": this process's, here
        own = {k: str(v) for k, v in (compose_service(service).get("environment") or {}).items() if v is not None}
        return {**self.env, **{k: v for k, v in own.items() if k not in self.fixed}}

    def start_proxy(self, upstream: str) -> Proxy:
        """nginx with compose's proxy environment, in front of `upstream`: the body limit and the
        request rate are the ones the stack's API reads (the variables both services take)."""
        from descent.settings import Settings

        api = Settings.from_env(self.service_env("api"))
        own = {
            "DESCENT_MAX_REQUEST_BYTES": str(api.max_request_bytes),
            "DESCENT_RATE_LIMIT": str(api.rate_limit),
            "DESCENT_RATE_BURST": str(api.rate_burst),
        }
        return Proxy(upstream, {**self.service_env("proxy"), **own})

    def log(self, name: str) -> str:
        """The path of a process's log: redis, api, worker0, worker1, …"""
        return os.path.join(self.dir, f"{name}.log")

    def _api_up(self) -> bool:
        try:
            return requests.get(self.api_base + "/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def add_worker(self) -> None:
        self.workers.append(self._start(f"worker{len(self.workers)}", "worker"))

    def wait_workers(self, count: int, timeout: float = 180) -> None:
        """Until `count` workers beat (each has warmed up and takes jobs)."""
        from descent.store import keys

        client = self.client()
        wait_for(lambda: client.zcard(keys.workers()) >= count, timeout, interval=0.05, what=f"{count} workers")

    def pids(self) -> dict[str, list[int]]:
        """The API's request-handling processes (gunicorn's children) and the workers."""
        import psutil

        api = [c.pid for c in psutil.Process(self.api.pid).children()] if self.api else []
        return {"api": api, "workers": [w.pid for w in self.workers]}

    def stop(self) -> None:
        """The proxy, the workers (each hands its job back through Redis), the API, then Redis."""
        if self.proxy is not None:
            self.proxy.stop()
        procs = [p for p in [*reversed(self.workers), self.api, self.redis] if p is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for log in self._logs:
            log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is not None:
            self._print_tails()
        self.stop()

    def _print_tails(self, size: int = 4000) -> None:
        """The end of each process's log on stderr (pytest shows it with the failure): stop()
        removes the stack's directory."""
        for log in self._logs:
            log.flush()
            with open(log.name, "rb") as file:
                file.seek(max(0, os.path.getsize(log.name) - size))
                tail = file.read().decode(errors="replace")
            print(f"--- {os.path.basename(log.name)} (last {size} bytes) ---\n{tail}", file=sys.stderr)


@contextlib.contextmanager
def compose_stack(
    env_overrides: dict[str, str] | None = None,
    redis_args: tuple[str, ...] = (),
    wait_for_worker: bool = False,
    proxy: bool = False,
) -> Iterator[Stack]:
    """A Stack of one worker for a test, with holds honoured (DESCENT_TEST_HOOKS=1)."""
    with Stack(1, {"DESCENT_TEST_HOOKS": "1", **(env_overrides or {})}, redis_args, proxy=proxy) as stack:
        if wait_for_worker:
            stack.wait_workers(1)
        yield stack
