"""Fixtures: a throwaway redis-server, the real app, and a real worker (helpers: tests/support).

Nothing here touches the machine's shared Redis: each test session starts its own server on a free
port (or uses REDIS_URL when the caller sets it on purpose).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import settings as hypothesis_settings

from tests.support.processes import WORKER_LOGS, RedisServer, Worker

# CI runs the property tests on the same examples every time (a verdict must not depend on which
# random examples a run drew); a developer's runs draw new ones and keep failures in .hypothesis/.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
    hypothesis_settings.load_profile("ci")


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


@pytest.fixture(scope="session")
def worker(settings) -> Iterator[Worker]:
    """One live worker for the whole session, consuming the session's queue."""
    w = Worker(settings)
    try:
        yield w
    finally:
        w.stop()


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
