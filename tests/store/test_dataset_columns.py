"""A dataset's columns in Redis (descent/store/datasets.py): written in two round trips, the first
column with the expiry, and read back column for column as they were stored when larger than one
reply (READ_BYTES): columns grouped into replies, a column larger than a reply alone, text columns
(no values) skipped, the kinds' types kept."""

from __future__ import annotations

import uuid

import numpy as np

from descent.store import Store, keys
from descent.store.datasets import READ_BYTES, UNPUBLISHED_SECONDS, _batches
from descent.table import Column, Table
from tests.support.counting import Counting


def stored(store, tenant: str, data: Table) -> str:
    dataset_id = "ds_" + uuid.uuid4().hex
    store.datasets.put_table(tenant, {"id": dataset_id, "rows": data.rows, "created_score": 1.0}, data)
    return dataset_id


def assert_same(back: Table | None, data: Table) -> None:
    assert back is not None and back.target == data.target and back.rows == data.rows
    assert [(c.name, c.kind, c.labels) for c in back.columns] == [(c.name, c.kind, c.labels) for c in data.columns]
    for ours, theirs in zip(back.columns, data.columns, strict=True):
        if theirs.values is None:
            assert ours.values is None
        else:
            assert ours.values.dtype == np.asarray(theirs.values).dtype
            np.testing.assert_array_equal(ours.values, theirs.values)


def test_columns_over_several_replies_read_back_as_stored(store, tenant):
    rows = READ_BYTES // 10  # float32 and int32 columns 0.4 of a reply each, datetimes 0.8
    rng = np.random.default_rng(5)
    x = rng.standard_normal(rows).astype(np.float32)
    x[::97] = np.nan
    data = Table(
        (
            Column("x", "number", x),
            Column("colour", "category", rng.integers(-1, 3, rows).astype(np.int32), ("blue", "green", "red")),
            Column("note", "text", None),
            Column("when", "datetime", rng.integers(0, 2**31, rows).astype(np.float64), has_time=True),
            Column("z", "number", rng.standard_normal(rows).astype(np.float32)),
            Column("y", "number", rng.standard_normal(rows).astype(np.float32)),
        ),
        "y",
        rows,
    )
    sizes = [(f"c{k}", c.values.nbytes) for k, c in enumerate(data.columns) if c.values is not None]
    assert len(_batches(sizes, READ_BYTES)) == 3  # [x, colour], [when], [z, y]
    dataset_id = stored(store, tenant, data)
    counting = Store(Counting(connection_pool=store.redis.connection_pool))
    assert_same(counting.datasets.table(dataset_id), data)
    assert counting.redis.sent == ["HMGET"] * 4  # the description, then three replies of columns


def test_a_column_larger_than_a_reply_reads_alone(store, tenant):
    rows = READ_BYTES // 4 + 1
    first, target = np.arange(rows, dtype=np.float32), np.ones(rows, dtype=np.float32)
    data = Table((Column("a", "number", first), Column("y", "number", target)), "y", rows)
    assert _batches([("c0", first.nbytes), ("c1", target.nbytes)], READ_BYTES) == [["c0"], ["c1"]]
    assert_same(store.datasets.table(stored(store, tenant, data)), data)


def test_batches_keep_the_order_and_never_exceed_the_limit_but_for_one_large_name():
    assert _batches([], 10) == []
    assert _batches([("a", 4), ("b", 6), ("c", 1), ("d", 11), ("e", 3)], 10) == [["a", "b"], ["c"], ["d"], ["e"]]


def test_columns_are_written_in_two_round_trips_the_first_with_the_expiry(store, tenant):
    rows = 1000
    rng = np.random.default_rng(6)
    data = Table(
        (
            Column("x", "number", rng.standard_normal(rows).astype(np.float32)),
            Column("note", "text", None),
            Column("colour", "category", rng.integers(-1, 2, rows).astype(np.int32), ("blue", "red")),
            Column("when", "datetime", rng.integers(0, 2**31, rows).astype(np.float64)),
            Column("y", "number", rng.standard_normal(rows).astype(np.float32)),
        ),
        "y",
        rows,
    )
    dataset_id = "ds_" + uuid.uuid4().hex
    counting = Store(Counting(connection_pool=store.redis.connection_pool))
    counting.datasets.put_columns(dataset_id, data)
    assert counting.redis.sent == []  # nothing one by one
    assert counting.redis.pipelines == [["HSET", "EXPIRE"], ["HSET"] * 3]  # the text column has no values
    assert 0 < store.redis.ttl(keys.dataset(dataset_id)) <= UNPUBLISHED_SECONDS
    assert store.datasets.table(dataset_id) is None  # not published yet
    store.datasets.publish(tenant, {"id": dataset_id, "rows": rows, "created_score": 1.0}, data)
    assert_same(store.datasets.table(dataset_id), data)


def test_a_single_column_is_written_in_one_round_trip(store):
    data = Table((Column("y", "number", np.arange(5, dtype=np.float32)),), "y", 5)
    counting = Store(Counting(connection_pool=store.redis.connection_pool))
    counting.datasets.put_columns("ds_" + uuid.uuid4().hex, data)
    assert counting.redis.pipelines == [["HSET", "EXPIRE"]]
