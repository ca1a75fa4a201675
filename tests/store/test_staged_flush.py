"""Large flushes (descent/store/jobs.py STAGE_BYTES and more) go through a staged key beside the
flush script: they must leave exactly what the plain path leaves — same history, same answers,
idempotent resends, nothing written for a worker that lost the job, no staged key left behind."""

from __future__ import annotations

import uuid

import numpy as np

from descent.store import Store, keys
from descent.store.progress import STAGE_BYTES
from descent.store.records import TRAIN_POINT, train_point_arrays


def running_job(store: Store) -> str:
    tenant, dataset_id, job_id = "t-" + uuid.uuid4().hex, "ds_" + uuid.uuid4().hex, "job_" + uuid.uuid4().hex
    x = np.arange(8, dtype=np.float32).reshape(4, 2)
    store.datasets.put(tenant, {"id": dataset_id, "rows": 4, "features": 2, "created_score": 1.0}, x, x[:, 0])
    assert store.jobs.create(tenant, job_id, {"dataset_id": dataset_id, "epochs": 3}) is not None
    assert store.jobs.start(job_id, "w1", 10_000)
    store.jobs.plan(job_id, log_every=1, steps_per_epoch=10**6, config={"dataset_id": dataset_id})
    return job_id


def points(first: int, count: int) -> bytes:
    steps = np.arange(first, first + count)
    return train_point_arrays(steps, 0, steps * 0.5, steps * 0.25, 0.1).tobytes()


def history(store: Store, job_id: str) -> bytes:
    return store.redis.get(keys.job_train_history(job_id)) or b""


def test_a_staged_flush_leaves_what_a_plain_one_leaves(store) -> None:
    count = STAGE_BYTES // TRAIN_POINT.itemsize + 10  # over the threshold
    big, small, bigger = points(1, count), points(count + 1, 3), points(count + 4, count)
    staged, plain = running_job(store), running_job(store)
    answers = []
    written = 0
    for part in (big, small, bigger):
        answers.append(store.jobs.flush(staged, part, b"", None, None, worker="w1", written=(written, 0)))
        for at in range(0, len(part), STAGE_BYTES // 2):  # the same points, each flush under the threshold
            piece = part[at : at + STAGE_BYTES // 2]
            store.jobs.flush(plain, piece, b"", None, None, worker="w1", written=(written + at, 0))
        written += len(part)
    assert history(store, staged) == history(store, plain) == big + small + bigger
    assert [a.written for a in answers] == [
        (len(big), 0),
        (len(big + small), 0),
        (len(big + small + bigger), 0),
    ]
    assert all(a.lost == (0, 0) and a.mine for a in answers)
    assert not store.redis.exists(keys.job_train_staged(staged))


def test_a_staged_flush_sent_again_is_stored_once(store) -> None:
    job_id = running_job(store)
    big = points(1, STAGE_BYTES // TRAIN_POINT.itemsize + 1)
    first = store.jobs.flush(job_id, big, b"", None, None, worker="w1", written=(0, 0))
    again = store.jobs.flush(job_id, big, b"", None, None, worker="w1", written=(0, 0))  # answer lost
    assert first.written == again.written == (len(big), 0)
    assert history(store, job_id) == big


def test_a_staged_flush_reports_a_gap_as_the_plain_one_does(store) -> None:
    job_id = running_job(store)
    big = points(5, STAGE_BYTES // TRAIN_POINT.itemsize + 1)
    lost = store.jobs.flush(job_id, big, b"", None, None, worker="w1", written=(4 * TRAIN_POINT.itemsize, 0))
    assert lost.lost == (4 * TRAIN_POINT.itemsize, 0)
    assert history(store, job_id) == big
    assert store.redis.ttl(keys.job_train_history(job_id)) == -1  # the staged key's expiry is not kept


def test_a_worker_that_lost_the_job_writes_no_staged_points(store) -> None:
    job_id = running_job(store)
    big = points(1, STAGE_BYTES // TRAIN_POINT.itemsize + 1)
    answer = store.jobs.flush(job_id, big, b"", None, None, worker="another", written=(0, 0))
    assert not answer.mine
    assert history(store, job_id) == b""
    assert not store.redis.exists(keys.job_train_staged(job_id))
