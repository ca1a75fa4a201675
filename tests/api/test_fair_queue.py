"""Fair tenancy (API.md): one tenant's queued jobs do not hold another tenant's job back by more
than the jobs already running; workers take tenants' jobs in turn.

A real app with two tenants, and a real worker of its own on a queue family of its own. The pace is
the test's: tenant A's first job is held at a step (`tests/support/holds.py`) until everything is
queued, so the order in which the rest start is decided by the queue alone, never by how fast a job
trains. The verdict is the order of the jobs' `started_at`, never a duration.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from service import create_app
from tests.support.api import submit, upload, wait_job
from tests.support.data import WORKED
from tests.support.holds import Hold, wait_held
from tests.support.processes import Worker
from tests.support.tenants import As, start_order

JOB = {"model": {"bias": False}, "optimizer": {"type": "gd", "lr": 0.01}, "epochs": 3, "tolerance": 0}
"""A job of a few steps: what it trains does not matter here, only when it starts."""


@pytest.fixture(scope="module")
def fair(settings) -> Iterator[tuple[Any, Any]]:
    """Tenants A and B of an app whose queue family has one worker of its own."""
    own = replace(settings, queue_name=settings.queue_name + "-fair", api_keys="a:key-a,b:key-b")
    app = create_app({"SETTINGS": own, "TESTING": True})
    worker = Worker(own)
    try:
        yield As(app, "key-a"), As(app, "key-b")
    finally:
        worker.stop()


def run_backlog(settings, a: Any, b: Any, a_jobs: int, b_jobs: int) -> dict[str, dict[str, Any]]:
    """A queues `a_jobs` jobs, the first held running; then B queues `b_jobs`; then the hold goes.
    Every job, by name (a0…, b0…), once all have ended."""
    a_data, b_data = upload(a, WORKED), upload(b, WORKED)
    ids: dict[str, tuple[Any, str]] = {}
    with Hold(settings.redis_url, a_data, step=1):
        for n in range(a_jobs):
            ids[f"a{n}"] = (a, submit(a, dataset_id=a_data, **JOB)["id"])
        wait_held(a, ids["a0"][1], 1)  # A's first job runs; the other A jobs wait behind it
        for n in range(b_jobs):
            ids[f"b{n}"] = (b, submit(b, dataset_id=b_data, **JOB)["id"])
    jobs = {name: wait_job(client, job_id) for name, (client, job_id) in ids.items()}
    assert {job["status"] for job in jobs.values()} == {"succeeded"}
    return jobs


def test_a_tenants_job_starts_next_behind_another_tenants_twenty(settings, fair):
    a, b = fair
    order = start_order(run_backlog(settings, a, b, a_jobs=20, b_jobs=1))
    # B's job waited for the one A job that was running, and for none of the 19 queued before it.
    assert order[:2] == ["a0", "b0"], order
    assert order[2:] == [f"a{n}" for n in range(1, 20)]  # each tenant's own jobs stay in order


def test_tenants_with_backlogs_take_turns(settings, fair):
    a, b = fair
    order = start_order(run_backlog(settings, a, b, a_jobs=6, b_jobs=6))
    assert order == [name for n in range(6) for name in (f"a{n}", f"b{n}")], order
