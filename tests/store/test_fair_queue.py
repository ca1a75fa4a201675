"""The queue family against a real Redis: tenants' queues taken in turn, through the same calls the
API (`enqueue_training`) and a worker (`FairQueue.dequeue_any`, RQ's dequeue) make."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
import redis as redis_lib
from rq.job import Job
from rq.serializers import JSONSerializer

from descent.queue import enqueue_training, queue_depth, rotation, tenant_queue_name, training_queue
from tests.support.counting import Counting
from worker.dequeue import FairQueue


@pytest.fixture()
def family(redis_url) -> tuple[redis_lib.Redis, str]:
    """A Redis client and a queue family no other test uses."""
    return redis_lib.Redis.from_url(redis_url), "fair-" + uuid.uuid4().hex[:8]


def take(redis: redis_lib.Redis, name: str, timeout: int | None = None) -> tuple[str, str] | None:
    """What a worker on the family `name` takes next: (queue, descent job id), None when all are empty."""
    taken = FairQueue.dequeue_any(
        [FairQueue(name, connection=redis, serializer=JSONSerializer)],
        timeout,
        connection=redis,
        serializer=JSONSerializer,
    )
    if taken is None:
        return None
    job, queue = taken
    return queue.name, job.args[0]


def enqueue(redis: redis_lib.Redis, name: str, tenant: str, *job_ids: str) -> None:
    for job_id in job_ids:
        enqueue_training(redis, name, tenant, job_id, 60)


def drain(redis: redis_lib.Redis, name: str) -> list[str]:
    out: list[str] = []
    while (taken := take(redis, name)) is not None:
        out.append(taken[1])
    return out


def test_tenants_take_turns_and_a_returning_tenant_keeps_its_place(family):
    redis, name = family
    enqueue(redis, name, "a", "a0", "a1", "a2", "a3")
    enqueue(redis, name, "b", "b0")
    assert queue_depth(redis, name) == 5
    assert take(redis, name) == (tenant_queue_name(name, "a"), "a0")
    assert [take(redis, name)[1] for _ in range(2)] == ["b0", "a1"]  # b's queue is empty now
    enqueue(redis, name, "b", "b1")  # b was served before a's last turn: b goes first again
    enqueue(redis, name, "c", "c0")  # c was never served: it goes before both
    assert drain(redis, name) == ["c0", "b1", "a2", "a3"]
    assert queue_depth(redis, name) == 0
    assert take(redis, name) is None  # burst mode: nothing waits, no blocking


def test_entries_on_the_shared_queue_take_turns_and_vanished_records_are_skipped(family):
    redis, name = family
    enqueue(redis, name, "a", "a0", "a1", "gone", "a2")
    redis.delete(Job.key_for("gone"))  # RQ's record expired; its entry is still queued
    # An entry RQ put on the family's shared queue itself (before per-tenant queues, or by hand).
    training_queue(redis, name).enqueue("worker.tasks.train", "old", job_id="old")
    assert queue_depth(redis, name) == 5
    assert drain(redis, name) == ["old", "a0", "a1", "a2"]


def test_entries_pushed_around_the_rotation_rejoin_it(family):
    redis, name = family
    enqueue(redis, name, "a", "a0")
    assert drain(redis, name) == ["a0"]
    # `rq requeue` and the like push onto the tenant's queue without telling the rotation.
    training_queue(redis, tenant_queue_name(name, "a")).enqueue("worker.tasks.train", "a1", job_id="a1")
    assert take(redis, name) is None
    assert rotation(redis, name).rejoin() == [tenant_queue_name(name, "a")]
    assert drain(redis, name) == ["a1"]


def test_an_idle_worker_wakes_when_a_job_is_queued(family):
    redis, name = family
    taken: list[Any] = []
    waiting = threading.Thread(target=lambda: taken.append(take(redis, name, timeout=120)))
    waiting.start()
    enqueue(redis, name, "a", "a0")  # before or after the worker blocks: either way it gets it
    waiting.join(130)
    assert taken == [(tenant_queue_name(name, "a"), "a0")]


def test_a_take_reads_rqs_record_of_the_job_in_the_same_round_trip(family, redis_url):
    """The take script returns the fields of RQ's record with the entry: the job RQ gets is the one
    `Job.fetch` would give, without its HGETALL."""
    redis, name = family
    enqueue(redis, name, "a", "a0")
    counting = Counting.from_url(redis_url)
    counting.sent.clear()
    taken = FairQueue.dequeue_any(
        [FairQueue(name, connection=counting, serializer=JSONSerializer)],
        None,
        connection=counting,
        serializer=JSONSerializer,
    )
    assert taken is not None
    job, _ = taken
    assert "HGETALL" not in counting.sent
    fetched = Job.fetch(job.id, connection=redis, serializer=JSONSerializer)
    assert job.to_dict() == fetched.to_dict()
    assert (job.func_name, list(job.args), job.origin) == ("worker.tasks.train", ["a0"], tenant_queue_name(name, "a"))
