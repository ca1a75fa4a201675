"""Processes the tests start: a throwaway redis-server and `python -m worker`, on free ports.

Nothing here touches the machine's shared Redis. Workers run with DESCENT_TEST_HOOKS=1, so a test
can hold a job at a step (`tests.support.holds`); their output goes to a log file that a failing
test's report shows (tests/conftest.py).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import redis

ROOT = Path(__file__).resolve().parent.parent.parent
"""The repository."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


WORKER_DEADLINE = 180.0
"""How long a test waits for anything that includes a worker's work or its cold start. A bound on a
hang, not a verdict on speed: test workers are niced (DESCENT_WORKER_NICE), so on a machine whose
cores are busy a start-up that takes 2 s alone can take a minute."""


def wait_for(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01, what: str = "") -> Any:
    """Poll `check` until it returns something truthy, and return that; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")
        time.sleep(interval)


class RedisServer:
    """A redis-server subprocess on a free port in a temporary directory."""

    def __init__(self, *extra: str) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="descent-redis-")
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, wait: bool = True) -> RedisServer:
        """Start the server (again, after a kill: same port and directory, so an AOF is replayed)."""
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir]
        cmd += ["--save", "", "--appendonly", "no", *self.extra]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if wait:
            wait_redis(redis.Redis(port=self.port, socket_connect_timeout=0.2))
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown, no last save; what was not yet in the AOF is lost."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None

    def stop(self, keep_data: bool = False) -> None:
        """SIGTERM and wait; `keep_data`: keep the directory, to start the same server again."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None
        if not keep_data:
            shutil.rmtree(self.dir, ignore_errors=True)


def wait_redis(client: redis.Redis, timeout: float = 10.0) -> None:
    """Until the server behind `client` answers a ping."""

    def up() -> bool:
        try:
            return bool(client.ping())
        except redis.exceptions.ConnectionError:
            return False

    wait_for(up, timeout, interval=0.02, what="redis-server to answer")


def worker_env(settings: Any) -> dict[str, str]:
    """The environment of a test worker: the test's Redis and queue, one thread, holds honoured."""
    env = dict(os.environ)
    env.update(
        REDIS_URL=settings.redis_url,
        DESCENT_QUEUE_NAME=settings.queue_name,
        DESCENT_FLUSH_SECONDS=str(settings.flush_seconds),
        DESCENT_TORCH_THREADS="1",
        DESCENT_TEST_HOOKS="1",
        PYTHONPATH=str(ROOT),
    )
    return env


WORKER_LOGS = Path(tempfile.mkdtemp(prefix="descent-worker-logs-"))
"""Every test worker's output, so a failing test's report can show what its workers said."""


class Worker:
    """`python -m worker` as a subprocess: the command docker-compose.yml runs."""

    started: ClassVar[list[Worker]] = []
    """Every worker of this session, in start order (tests/conftest.py shows their logs on failure)."""

    def __init__(self, settings: Any, *args: str, env: dict[str, str] | None = None) -> None:
        self.log = WORKER_LOGS / f"worker-{len(Worker.started)}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "worker", *args],
                cwd=ROOT,
                env={**worker_env(settings), **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        Worker.started.append(self)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_beating(client: redis.Redis, count: int) -> None:
    """Until `count` workers have beaten: each has warmed up and takes jobs (a cold start alone can
    take many seconds on a loaded machine)."""
    from descent.store import keys

    wait_for(lambda: client.zcard(keys.workers()) == count, WORKER_DEADLINE, interval=0.05, what=f"{count} workers' beats")


def cli(url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`descent ARGS…` against the server at `url`, as a user runs it (a process of its own)."""
    environ = {**os.environ, "DESCENT_URL": url, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "descent.cli", *args], env=environ, capture_output=True, text=True, timeout=120
    )
