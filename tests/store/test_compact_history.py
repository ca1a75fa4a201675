"""Compact train records (format 3: loss and smoothed only) read back with the steps, epochs and
rate the history's plan implies, page by page; a job keeps the format an earlier attempt chose."""

from __future__ import annotations

import json

from descent.store import Store, keys
from descent.store.records import COMPACT_FORMAT, TRAIN_FORMAT, TRAIN_FORMATS, encode_dev, encode_train
from tests.support.store_records import make_dataset, make_job

CONFIG = {"dataset_id": "x", "optimizer": {"type": "sgd", "lr": 0.25}}


def _running(store: Store, tenant: str) -> str:
    job_id = make_job(store, tenant, make_dataset(store, tenant))
    store.jobs.transition(job_id, ("queued",), "running")
    return job_id


def test_compact_pages_are_exact_with_windows_and_a_short_last_one(store, tenant):
    """log_every = 3 over 5 epochs of 4 steps: points at 3, 6, …, 18 and the partial 20, written in
    two flushes (the second with the job's progress at step 20), read as format 2 would give them."""
    job_id = _running(store, tenant)
    assert store.jobs.plan(job_id, 3, 4, CONFIG, COMPACT_FORMAT) == COMPACT_FORMAT
    steps = [*range(3, 19, 3), 20]
    train = [(s, (s - 1) // 4, float(s), float(s) / 2, 0.25) for s in steps]
    dev = [(4 * e, e, 100.0 + e) for e in range(1, 6)]
    store.jobs.flush(job_id, encode_train(train[:3], COMPACT_FORMAT), encode_dev(dev[:2]), {"step": 9}, None)
    assert store.history.read(job_id, 0, 100)["train"]["step"] == [3, 6, 9]
    store.jobs.flush(job_id, encode_train(train[3:], COMPACT_FORMAT), encode_dev(dev[2:]), {"step": 20}, None)
    assert store.redis.strlen(keys.job_train_history(job_id)) == len(steps) * TRAIN_FORMATS[COMPACT_FORMAT].itemsize
    for after in range(0, 21):
        for limit in (1, 2, 5, 100):
            page = store.history.read(job_id, after, limit)
            expected = [t for t in train if t[0] > after][:limit]
            assert page["train"] == {
                "step": [t[0] for t in expected],
                "epoch": [t[1] for t in expected],
                "loss": [t[2] for t in expected],
                "smoothed": [t[3] for t in expected],
                "lr": [t[4] for t in expected],
            }
            nxt = expected[-1][0] if expected else after
            assert page["next"] == nxt
            assert page["dev"]["step"] == [d[0] for d in dev if after < d[0] <= nxt]
    store.jobs.truncate_history(job_id, 4, 2)  # cut back to a checkpoint: counts compact records
    assert store.history.read(job_id, 0, 100)["train"]["step"] == [3, 6, 9, 12]
    store.jobs.transition(job_id, ("running",), "succeeded")
    assert store.history.read(job_id, 12, 10)["complete"] is True


def test_a_job_keeps_the_format_of_its_earlier_attempt(store, tenant):
    """An attempt of an older version wrote format 2: the resumed attempt's plan says so, and its
    points go on in format 2."""
    job_id = _running(store, tenant)
    store.redis.hset(keys.job(job_id), mapping={"train_format": TRAIN_FORMAT, "config": json.dumps(CONFIG)})
    assert store.jobs.plan(job_id, 1, 4, CONFIG, COMPACT_FORMAT) == TRAIN_FORMAT
    store.jobs.flush(job_id, encode_train([(1, 0, 1.0, 1.0, 0.25)]), b"", {"step": 1}, None)
    assert store.history.read(job_id, 0, 10)["train"]["step"] == [1]
