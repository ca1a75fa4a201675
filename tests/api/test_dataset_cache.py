"""A worker's dataset cache (worker/dataset_cache.py): the same numbers as the plain path, and never
a deleted or replaced dataset. Jobs run through the worker's task against the real Redis."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import numpy as np
import redis as redis_lib

from descent.store import Store, keys
from descent.table import Table
from tests.support.counting import Counting
from tests.support.engine import config as engine_config
from tests.support.tables import category, number, table
from worker.dataset_cache import DatasetCache
from worker.tasks import run

CONFIG = {
    "optimizer": {"type": "minibatch", "lr": 0.05, "batch_size": 8},
    "epochs": 3,
    "tolerance": 0,
    "split": {"dev": 0.25, "test": 0.25},
    "features": {"missing_indicator": True},
    "seed": 3,
}


def dataset(seed: int, rows: int = 64) -> Table:
    """Numbers with missing cells and a category: preprocessing (imputation, one-hot, the split)
    has work to do."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(rows)
    y = 3 * x + rng.standard_normal(rows)
    colours = rng.choice(["red", "green", "blue"], rows)
    x_cells = [None if k % 7 == 0 else float(v) for k, v in enumerate(x)]
    return table(number("x", x_cells), category("colour", list(colours)), number("y", list(y)), target="y")


def publish(store: Store, tenant: str, dataset_id: str, data: Table) -> None:
    meta = {"id": dataset_id, "rows": data.rows, "created_score": 1.0}
    store.datasets.put_table(tenant, meta, data)


def job(store: Store, tenant: str, dataset_id: str, change: dict[str, Any] | None = None) -> str:
    job_id = "job_" + uuid.uuid4().hex
    assert store.jobs.create(tenant, job_id, {**CONFIG, **(change or {}), "dataset_id": dataset_id}) is not None
    return job_id


def trained(store: Store, tenant: str, job_id: str, settings) -> dict[str, Any]:
    """The job's result and metrics, without the seconds it took."""
    assert run(store, job_id, settings) == "succeeded"
    done = store.jobs.get(tenant, job_id)
    assert done is not None
    result = {k: v for k, v in done["result"].items() if k != "seconds"}
    return {"result": result, "metrics": done["metrics"], "config": done["config"]["features"]}


def setup(settings) -> tuple[Store, str, str, Any, Any]:
    store = Store(redis_lib.Redis.from_url(settings.redis_url))
    tenant, dataset_id = "t-" + uuid.uuid4().hex, "ds_" + uuid.uuid4().hex
    cached = dataclasses.replace(settings, dataset_cache_mb=64)
    plain = dataclasses.replace(settings, dataset_cache_mb=0)
    return store, tenant, dataset_id, cached, plain


def test_a_cached_dataset_trains_to_the_plain_paths_numbers(settings) -> None:
    store, tenant, dataset_id, cached, plain = setup(settings)
    publish(store, tenant, dataset_id, dataset(1))

    reference = trained(store, tenant, job(store, tenant, dataset_id), plain)
    first = trained(store, tenant, job(store, tenant, dataset_id), cached)  # read, prepared, kept
    again = trained(store, tenant, job(store, tenant, dataset_id), cached)  # from the cache
    assert first == reference and again == reference

    other_seed = {"seed": 4}  # another split: its own preprocessing, not the first one's
    assert trained(store, tenant, job(store, tenant, dataset_id, other_seed), cached) == trained(
        store, tenant, job(store, tenant, dataset_id, other_seed), plain
    )


def test_a_deleted_dataset_is_not_served_from_the_cache(settings) -> None:
    store, tenant, dataset_id, cached, _ = setup(settings)
    publish(store, tenant, dataset_id, dataset(1))
    first, second = job(store, tenant, dataset_id), job(store, tenant, dataset_id)
    trained(store, tenant, first, cached)

    store.redis.delete(keys.dataset(dataset_id))  # as its retention ending does
    assert run(store, second, cached) == "failed"
    done = store.jobs.get(tenant, second)
    assert done is not None and done["error"]["message"] == "the job's dataset no longer exists"


def test_a_dataset_published_again_under_its_id_is_read_again(settings) -> None:
    store, tenant, dataset_id, cached, plain = setup(settings)
    publish(store, tenant, dataset_id, dataset(1))
    before = trained(store, tenant, job(store, tenant, dataset_id), cached)

    publish(store, tenant, dataset_id, dataset(2))  # other values, the same description
    after = trained(store, tenant, job(store, tenant, dataset_id), cached)
    assert after != before
    assert after == trained(store, tenant, job(store, tenant, dataset_id), plain)


def test_a_read_from_redis_first_drops_the_entries_of_datasets_gone_or_replaced(settings) -> None:
    """What a deleted or replaced dataset held in the cache is let go when the next dataset is read,
    not when least-recently-used order reaches it; a dataset still stored as it was stays."""
    store, tenant, _, _, _ = setup(settings)
    kept, deleted, replaced, new = ("ds_" + uuid.uuid4().hex for _ in range(4))
    for seed, dataset_id in enumerate((kept, deleted, replaced, new)):
        publish(store, tenant, dataset_id, dataset(seed))
    spec = engine_config({"type": "sgd", "lr": 0.01})
    cache = DatasetCache(64 << 20)
    for dataset_id in (kept, deleted, replaced):
        assert cache.prepared(store, dataset_id, spec) is not None
    assert {key[1] for key in cache.entries} == {kept, deleted, replaced}

    store.redis.delete(keys.dataset(deleted))
    publish(store, tenant, replaced, dataset(9))
    assert cache.prepared(store, new, spec) is not None

    assert {key[1] for key in cache.entries} == {kept, new}
    assert cache.bytes == sum(size for _, size in cache.entries.values())


def test_a_first_read_asks_the_version_once_and_keeps_what_it_read(settings) -> None:
    """The columns' read says which version they are (DatasetStore.read_table): a dataset's first
    use asks its version, reads its description and columns, and asks nothing after."""
    store, tenant, dataset_id, _, _ = setup(settings)
    publish(store, tenant, dataset_id, dataset(1))
    counting = Store(Counting(connection_pool=store.redis.connection_pool))
    spec = engine_config({"type": "sgd", "lr": 0.01})
    cache = DatasetCache(64 << 20)
    assert cache.prepared(counting, dataset_id, spec) is not None
    assert counting.redis.sent == ["HMGET"] * 3  # the version; the description; the columns
    assert {key[0] for key in cache.entries} == {"table", "prepared"}

    table, version = store.datasets.read_table(dataset_id)
    assert table is not None and version == store.datasets.version(dataset_id)


def test_a_dataset_published_again_after_its_version_was_asked_is_used_once_not_kept(settings) -> None:
    store, tenant, dataset_id, _, _ = setup(settings)
    publish(store, tenant, dataset_id, dataset(1))
    asked = store.datasets.version(dataset_id)
    publish(store, tenant, dataset_id, dataset(2))
    cache = DatasetCache(64 << 20)
    table, current = cache._table(store, dataset_id, asked)
    assert table is not None and not current  # the columns read are the new version's
    assert store.datasets.read_table(dataset_id)[1] != asked
    assert cache.entries == {}
