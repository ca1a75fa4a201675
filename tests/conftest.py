"""Shared fixtures: a throwaway redis-server, the real app, and real workers.

Nothing here touches the machine's shared Redis: each test session starts its own server on a free
port (or uses REDIS_URL when the caller sets it on purpose).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01, what: str = "") -> Any:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
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

    def start(self) -> RedisServer:
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir]
        cmd += ["--save", "", "--appendonly", "no", *self.extra]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.exceptions.ConnectionError:
                return False

        wait_for(up, 10, what="redis-server to answer")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    server = RedisServer().start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def queue_name() -> str:
    """A queue of this test session's own, so no other worker takes its jobs."""
    return "descent-test-" + uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def settings(redis_url: str, queue_name: str):
    from descent.settings import Settings

    # The whole session is one open tenant: room for every job its tests leave queued or running.
    return Settings(redis_url=redis_url, queue_name=queue_name, flush_seconds=0.05, max_open_jobs=100_000)


@pytest.fixture(scope="session")
def app(settings):
    from service import create_app

    return create_app({"SETTINGS": settings, "TESTING": True})


@pytest.fixture()
def client(app):
    return app.test_client()


def worker_env(settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        REDIS_URL=settings.redis_url,
        DESCENT_QUEUE_NAME=settings.queue_name,
        DESCENT_FLUSH_SECONDS=str(settings.flush_seconds),
        DESCENT_TORCH_THREADS="1",
        PYTHONPATH=str(ROOT),
    )
    return env


WORKER_LOGS = Path(tempfile.mkdtemp(prefix="descent-worker-logs-"))
"""Every test worker's output, so a failing test's report can show what its workers said."""


class Worker:
    """`python -m worker` as a subprocess: the command docker-compose.yml runs."""

    started: ClassVar[list[Worker]] = []
    """Every worker of this session, in start order (see pytest_runtest_makereport)."""

    def __init__(self, settings, *args: str, env: dict[str, str] | None = None) -> None:
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


@pytest.fixture(scope="session")
def worker(settings) -> Iterator[Worker]:
    """One live worker for the whole session, consuming the session's queue."""
    w = Worker(settings)
    try:
        yield w
    finally:
        w.stop()


def wait_beating(client: redis.Redis, count: int) -> None:
    """Until `count` workers have beaten: each has warmed up and takes jobs (a cold start alone can
    take many seconds on a loaded machine)."""
    from descent.store import keys

    wait_for(lambda: client.zcard(keys.workers()) == count, 120, interval=0.05, what=f"{count} workers' beats")


def wait_job(
    client, job_id: str, statuses=("succeeded", "failed", "cancelled"), timeout: float = 60.0
) -> dict:
    """Poll GET /v1/jobs/{id} until the job reaches one of `statuses`."""

    def check():
        job = client.get(f"/v1/jobs/{job_id}").get_json()
        return job if job["status"] in statuses else None

    return wait_for(check, timeout, interval=0.02, what=f"job {job_id} to reach {statuses}")


_FIRST_WORKER = pytest.StashKey[int]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item) -> None:
    item.stash[_FIRST_WORKER] = len(Worker.started)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report ends with the last lines of every worker that lived during it."""
    report = yield
    if report.failed:
        for index, w in enumerate(Worker.started):
            if w.proc.poll() is None or index >= item.stash.get(_FIRST_WORKER, 0):
                state = "running" if w.proc.poll() is None else f"exit {w.proc.returncode}"
                report.sections.append((f"worker {w.proc.pid} ({state}): {w.log.name}", w.tail()))
    return report


def pytest_sessionfinish(session, exitstatus) -> None:
    shutil.rmtree(WORKER_LOGS, ignore_errors=True)
