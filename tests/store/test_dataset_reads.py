"""A dataset larger than one reply (descent/store/datasets.py, READ_BYTES) reads back column for
column as it was stored: columns grouped into replies, a column larger than a reply alone, text
columns (no values) skipped, the kinds' types kept."""

from __future__ import annotations

import uuid

import numpy as np

from descent.store import Store
from descent.store.datasets import READ_BYTES, _batches
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
