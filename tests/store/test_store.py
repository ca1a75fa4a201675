"""The store against a real Redis: state machine, history paging, dataset arrays."""

from __future__ import annotations

import json
import uuid

import numpy as np

from descent.store import keys
from descent.store.datasets import UNPUBLISHED_SECONDS
from descent.store.records import TRAIN_FORMATS, TRAIN_POINT, encode_dev, encode_train
from tests.support.store_records import make_dataset, make_job
from tests.support.tables import category, datetime, number, table, text


def test_dataset_columns_round_trip_as_float32(store, tenant):
    dataset_id = make_dataset(store, tenant, rows=5, features=3)
    back = store.datasets.table(dataset_id)
    x = np.column_stack([c.values for c in back.features])
    y = back.column(back.target).values
    assert x.dtype == y.dtype == np.float32 and x.shape == (5, 3)
    np.testing.assert_array_equal(x, np.arange(15, dtype=np.float32).reshape(5, 3))
    np.testing.assert_array_equal(y, np.arange(5, dtype=np.float32))
    assert store.datasets.get("someone-else", dataset_id) is None


def test_each_kind_of_column_round_trips_typed(store, tenant):
    dataset_id = "ds_" + uuid.uuid4().hex
    stored = table(
        number("Age", [22.5, None, 3.0]),
        category("Sex", ["male", None, "female"]),
        category("Flag", [True, False, None]),
        datetime("When", ["2020-01-01T10:00:00", None, "2021-01-01"]),
        text("Name"),
        category("Survived", ["no", "yes", "yes"]),
        target="Survived",
    )
    store.datasets.put_table(tenant, {"id": dataset_id, "rows": 3, "created_score": 1.0}, stored)
    back = store.datasets.table(dataset_id)
    assert back is not None and (back.target, back.rows) == ("Survived", 3)
    for ours, theirs in zip(stored.columns, back.columns, strict=True):
        assert (ours.name, ours.kind, ours.labels, ours.has_time) == (theirs.name, theirs.kind, theirs.labels, theirs.has_time)
        if ours.values is None:
            assert theirs.values is None
        else:
            assert theirs.values.dtype == ours.values.dtype
            np.testing.assert_array_equal(theirs.values, ours.values)
    assert isinstance(back.column("Flag").labels[0], bool)


def test_a_dataset_stored_before_columns_had_kinds_still_reads(store, tenant):
    """The previous format: float32 `x` and `y` fields next to the description."""
    dataset_id = "ds_" + uuid.uuid4().hex
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    meta = {"id": dataset_id, "rows": 3, "features": 2, "feature_names": ["a", "b"], "target_name": "t"}
    store.redis.hset(
        keys.dataset(dataset_id),
        mapping={"tenant": tenant, "meta": json.dumps(meta), "x": x.tobytes(), "y": np.ones(3, "<f4").tobytes()},
    )
    back = store.datasets.table(dataset_id)
    assert back is not None and [c.name for c in back.columns] == ["a", "b", "t"] and back.target == "t"
    np.testing.assert_array_equal(back.column("b").values, [1, 3, 5])
    np.testing.assert_array_equal(np.column_stack([c.values for c in back.features]), x)
    np.testing.assert_array_equal(back.column("t").values, [1, 1, 1])


def test_a_number_column_keeps_its_missing_cells_as_nan(store, tenant):
    dataset_id = "ds_" + uuid.uuid4().hex
    stored = table(number("a", [1.0, None]), number("y", [1.0, 2.0]), target="y")
    store.datasets.put_table(tenant, {"id": dataset_id, "rows": 2, "created_score": 1.0}, stored)
    np.testing.assert_array_equal(store.datasets.table(dataset_id).column("a").values, [1.0, np.nan])


def test_columns_written_before_their_description_stay_invisible_and_expire_soon(store, tenant):
    """The API writes the columns while it describes them (put_columns), then publishes: until then
    nothing reads or lists the dataset, and an upload that died between the two expires soon."""
    dataset_id = "ds_" + uuid.uuid4().hex
    stored = table(number("a", [1.0, None]), category("y", ["no", "yes"]), target="y")
    store.datasets.put_columns(dataset_id, stored)
    assert store.datasets.get(tenant, dataset_id) is None
    assert store.datasets.table(dataset_id) is None
    assert dataset_id not in [d["id"] for d in store.datasets.list(tenant, 100, None)[0]]
    assert 0 < store.redis.ttl(keys.dataset(dataset_id)) <= UNPUBLISHED_SECONDS
    store.datasets.publish(tenant, {"id": dataset_id, "rows": 2, "created_score": 1.0}, stored)
    assert store.datasets.get(tenant, dataset_id) == {"id": dataset_id, "rows": 2}
    assert [d["id"] for d in store.datasets.list(tenant, 100, None)[0]] == [dataset_id]
    assert store.redis.ttl(keys.dataset(dataset_id)) > UNPUBLISHED_SECONDS
    np.testing.assert_array_equal(store.datasets.table(dataset_id).column("y").values, [0, 1])


def test_job_on_another_tenants_dataset_is_refused(store, tenant):
    dataset_id = make_dataset(store, tenant)
    assert store.jobs.create("intruder", "job_x" + uuid.uuid4().hex, {"dataset_id": dataset_id}) is None


def test_state_machine(store, tenant):
    dataset_id = make_dataset(store, tenant)
    job_id = make_job(store, tenant, dataset_id)
    assert store.datasets.delete(tenant, dataset_id) == "in_use"
    assert store.jobs.transition(job_id, ("queued",), "running", count_attempt=True)
    assert not store.jobs.transition(job_id, ("queued",), "running")
    assert store.jobs.cancel(tenant, job_id) == "requested"
    assert store.jobs.flush(job_id, b"", b"", None, None).cancel is True
    assert store.jobs.transition(job_id, ("running",), "cancelled")
    assert store.jobs.cancel(tenant, job_id) == "ended"
    job = store.jobs.get(tenant, job_id)
    assert job["status"] == "cancelled" and job["attempt"] == 1 and job["finished_at"]
    assert store.datasets.delete(tenant, dataset_id) == "deleted"


def test_cancel_of_a_queued_job_beats_a_late_start(store, tenant):
    job_id = make_job(store, tenant, make_dataset(store, tenant))
    assert store.jobs.cancel(tenant, job_id) == "cancelled"
    assert not store.jobs.transition(job_id, ("queued",), "running")
    assert store.jobs.cancel("intruder", job_id) == "missing"


def test_history_pages_are_exact_with_windows(store, tenant):
    """log_every = 3 over 5 epochs of 4 steps: points at 3, 6, …, 18 and the partial 20."""
    job_id = make_job(store, tenant, make_dataset(store, tenant))
    store.jobs.transition(job_id, ("queued",), "running")
    store.jobs.plan(job_id, log_every=3, steps_per_epoch=4, config={"dataset_id": "x"})
    steps = [*range(3, 19, 3), 20]
    train = [(s, (s - 1) // 4, float(s), float(s) / 2, 0.1 / (1 + (s - 1) // 4)) for s in steps]
    dev = [(4 * e, e, 100.0 + e) for e in range(1, 6)]
    store.jobs.flush(job_id, encode_train(train[:3]), encode_dev(dev[:2]), None, None)
    store.jobs.flush(job_id, encode_train(train[3:]), encode_dev(dev[2:]), None, None)
    for after in range(0, 21):
        for limit in (1, 2, 5, 100):
            page = store.history.read(job_id, after, limit)
            expected = [s for s in steps if s > after][:limit]
            assert page["train"]["step"] == expected
            assert page["train"]["lr"] == [t[4] for t in train if t[0] in expected]
            nxt = expected[-1] if expected else after
            assert page["next"] == nxt
            assert page["dev"]["step"] == [d[0] for d in dev if after < d[0] <= nxt]
            assert page["complete"] is False
    store.jobs.transition(job_id, ("running",), "succeeded")
    assert store.history.read(job_id, 18, 1)["complete"] is True
    assert store.history.read(job_id, 15, 1)["complete"] is False
    assert store.history.read(job_id, 20, 10)["complete"] is True


def test_a_history_written_before_points_had_a_rate_still_reads(store, tenant):
    """Format 1 records (no `lr`), in a job planned before `train_format` existed: every point gets
    the job's one rate from its config; cutting it back to a checkpoint counts its records' size."""
    job_id = make_job(store, tenant, make_dataset(store, tenant))
    store.jobs.transition(job_id, ("queued",), "running")
    config = {"dataset_id": "x", "optimizer": {"type": "sgd", "lr": 0.25}}
    store.redis.hset(
        keys.job(job_id), mapping={"log_every": 1, "steps_per_epoch": 2, "config": json.dumps(config)}
    )
    old = np.array([(s, (s - 1) // 2, float(s), float(s) / 2) for s in (1, 2, 3, 4)], dtype=TRAIN_FORMATS[1])
    assert TRAIN_FORMATS[1].itemsize < TRAIN_POINT.itemsize
    store.jobs.flush(job_id, old.tobytes(), b"", None, None)
    page = store.history.read(job_id, 1, 2)
    assert page["train"] == {
        "step": [2, 3],
        "epoch": [0, 1],
        "loss": [2.0, 3.0],
        "smoothed": [1.0, 1.5],
        "lr": [0.25, 0.25],
    }
    store.jobs.truncate_history(job_id, 3, 0)
    assert store.history.read(job_id, 0, 100)["train"]["step"] == [1, 2, 3]
    store.redis.hset(
        keys.job(job_id), "config", json.dumps({"dataset_id": "x", "optimizer": {"type": "gd", "lr": "auto"}})
    )
    assert store.history.read(job_id, 0, 100)["train"]["lr"] == [None, None, None]  # never planned: unknown


def test_a_flush_sent_again_is_not_appended_twice_and_a_lost_write_is_reported(store, tenant):
    """A worker whose answer was lost (Redis killed after applying its write) sends the same points
    again; with the lengths it knows, the points are stored once. Points Redis acknowledged and then
    lost in a crash show up as a gap, reported to the writer."""
    job_id = make_job(store, tenant, make_dataset(store, tenant))
    store.jobs.transition(job_id, ("queued",), "running")
    store.jobs.plan(job_id, log_every=1, steps_per_epoch=5, config={"dataset_id": "x"})
    first = encode_train([(s, 0, float(s), float(s), 0.1) for s in (1, 2, 3)])
    dev = encode_dev([(3, 1, 9.0)])
    done = store.jobs.flush(job_id, first, dev, None, None, written=(0, 0))
    assert done.written == (len(first), len(dev)) and done.lost == (0, 0)
    again = store.jobs.flush(job_id, first, dev, None, None, written=(0, 0))  # the answer was lost
    assert again.written == done.written
    more = encode_train([(s, 0, float(s), float(s), 0.1) for s in (4, 5)])
    store.jobs.flush(
        job_id,
        first[-TRAIN_POINT.itemsize :] + more,
        b"",
        None,
        None,
        written=(2 * TRAIN_POINT.itemsize, len(dev)),
    )
    assert store.history.read(job_id, 0, 100)["train"]["step"] == [1, 2, 3, 4, 5]
    assert store.history.read(job_id, 0, 100)["dev"]["step"] == [3]
    store.jobs.truncate_history(job_id, 4, 1)  # as if Redis lost point 5 in a crash
    later = encode_train([(6, 1, 6.0, 6.0, 0.05)])
    lost = store.jobs.flush(job_id, later, b"", None, None, written=(5 * TRAIN_POINT.itemsize, len(dev)))
    assert lost.lost == (TRAIN_POINT.itemsize, 0)
    assert store.history.read(job_id, 0, 100)["train"]["step"] == [1, 2, 3, 4, 6]
