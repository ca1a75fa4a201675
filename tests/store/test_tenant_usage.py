"""The per-tenant storage ledger and rate limiter against a real Redis (descent/store/tenants.py)."""

from __future__ import annotations

import uuid

import pytest
import redis as redis_lib

from descent.store import JobStatus, Store, keys
from descent.store.datasets import column_bytes
from descent.store.records import encode_train
from tests.support.processes import wait_for
from tests.support.tables import number, table


@pytest.fixture()
def redis(redis_url) -> redis_lib.Redis:
    return redis_lib.Redis.from_url(redis_url)


@pytest.fixture()
def store(redis) -> Store:
    return Store(redis)


@pytest.fixture()
def tenant() -> str:
    return "t-" + uuid.uuid4().hex


def payload(redis: redis_lib.Redis, *names: str) -> int:
    """What the ledger must count for these keys: a hash's fields and values, a string's bytes."""
    total = 0
    for name in names:
        kind = redis.type(name)
        if kind == b"hash":
            total += sum(len(f) + len(v) for f, v in redis.hgetall(name).items())
        elif kind == b"string":
            total += redis.strlen(name)
    return total


def upload(store: Store, tenant: str, rows: int, quota: int = 0) -> tuple[str, bool]:
    """A dataset of `rows` × 2 number columns, written the way the API does (reserve first)."""
    dataset_id = "ds_" + uuid.uuid4().hex
    data = table(number("x", list(range(rows))), number("y", list(range(rows))), target="y")
    if not store.tenants.reserve_dataset(tenant, dataset_id, column_bytes(data), quota).ok:
        return dataset_id, False
    store.datasets.put_table(tenant, {"id": dataset_id, "rows": rows, "created_score": 1.0}, data)
    return dataset_id, True


def test_an_upload_is_counted_exactly_and_freed_by_its_delete(store, redis, tenant):
    assert store.tenants.stored(tenant) == 0
    first, ok = upload(store, tenant, 1000)
    assert ok and store.tenants.stored(tenant) == payload(redis, keys.dataset(first)) > 8000
    second, _ = upload(store, tenant, 10)
    both = payload(redis, keys.dataset(first), keys.dataset(second))
    assert store.tenants.stored(tenant) == both
    assert store.tenants.stored("someone-else-" + tenant) == 0
    store.datasets.delete(tenant, first)
    assert store.tenants.stored(tenant) == payload(redis, keys.dataset(second))
    store.datasets.delete(tenant, second)
    assert store.tenants.stored(tenant) == 0


def test_a_reservation_over_the_quota_is_refused_and_counted(store, tenant):
    upload(store, tenant, 1000)
    stored = store.tenants.stored(tenant)
    refused = store.tenants.reserve_dataset(tenant, "ds_x", 8000, quota=stored + 7999)
    assert refused == (False, stored)
    assert store.tenants.reserve_dataset(tenant, "ds_y", 8000, quota=stored + 8000) == (True, stored)
    assert store.tenants.refusals(tenant) == {"rate": 0, "concurrency": 0, "open_jobs": 0, "storage": 1}
    # ds_y was reserved but never written: counted for its grace period, then it leaves the ledger
    assert store.tenants.stored(tenant) == stored + 8000


def test_an_open_jobs_history_and_checkpoint_count_as_they_grow(store, redis, tenant):
    dataset_id, _ = upload(store, tenant, 10)
    job_id = "job_" + uuid.uuid4().hex
    assert store.jobs.create(tenant, job_id, {"dataset_id": dataset_id, "epochs": 3}) is not None
    parts = [keys.dataset(dataset_id), keys.job(job_id)]
    assert store.tenants.stored(tenant) == payload(redis, *parts)
    assert store.jobs.start(job_id, "w1", 10_000)
    points = encode_train([(step, 0, 1.0, 1.0, 0.1) for step in range(1, 101)])
    store.jobs.flush(job_id, points, b"", None, None, checkpoint=b"c" * 5000, worker="w1")
    grown = payload(redis, *parts, keys.job_train_history(job_id), keys.job_checkpoint(job_id))
    assert store.tenants.stored(tenant) == grown > payload(redis, *parts) + 5000
    store.jobs.transition(job_id, (JobStatus.RUNNING,), JobStatus.SUCCEEDED)  # the checkpoint goes
    ended = payload(redis, *parts, keys.job_train_history(job_id))
    assert store.tenants.stored(tenant) == ended
    assert store.jobs.delete(tenant, job_id).value == "deleted"
    assert store.tenants.stored(tenant) == payload(redis, keys.dataset(dataset_id))


def test_a_job_that_was_never_created_leaves_the_ledger(store, tenant):
    assert store.jobs.create(tenant, "job_" + uuid.uuid4().hex, {"dataset_id": "ds_missing"}) is None
    assert store.tenants.stored(tenant) == 0


def test_expired_resources_leave_the_ledger(redis, tenant):
    short = Store(redis, retention_seconds=1)
    dataset_id, _ = upload(short, tenant, 100)
    assert short.tenants.stored(tenant) > 0
    wait_for(lambda: short.tenants.stored(tenant) == 0, 30, interval=0.1, what="the dataset to expire")
    assert not redis.exists(keys.dataset(dataset_id))


def test_the_rate_limiter_lets_a_burst_through_then_paces(store, tenant):
    assert [store.tenants.take(tenant, 0.001, 3) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = store.tenants.take(tenant, 0.001, 3)
    assert 900 < wait <= 1000  # one request per 1000 s: the next token is that far away
    assert store.tenants.take("other-" + tenant, 0.001, 3) == 0.0
    assert store.tenants.refusals(tenant)["rate"] == 1
