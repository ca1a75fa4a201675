"""Large flushes (descent/store/jobs.py STAGE_BYTES and more) go through a staged key beside the
flush script: they must leave exactly what the plain path leaves — same history, same answers,
idempotent resends, nothing written for a worker that lost the job, no staged key left behind."""

from __future__ import annotations

import uuid
from collections.abc import Callable

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


def commands_of(store: Store, write: Callable[[], object]) -> list[list[bytes]]:
    """The commands Redis ran for `write` (scripts' own calls included), their first arguments
    (Redis's slow log, every command logged while it runs)."""
    redis = store.redis
    before = redis.config_get("slowlog-*")
    redis.config_set("slowlog-max-len", 1000)
    redis.config_set("slowlog-log-slower-than", 0)
    try:
        redis.slowlog_reset()
        write()
        logged = redis.slowlog_get(1000)
    finally:
        redis.config_set("slowlog-log-slower-than", before["slowlog-log-slower-than"])
        redis.config_set("slowlog-max-len", before["slowlog-max-len"])
    return [entry["command"].split(b" ")[:2] for entry in reversed(logged)]


def test_a_staged_flush_onto_a_short_history_is_renamed_into_place(store) -> None:
    """A job's early first flush leaves a few points; its last brings the rest, staged with room
    for them: the history and the answer are the plain path's, and no megabytes pass through Lua
    (the few points are read, the staged key renamed; neither it is read nor the history appended to)."""
    job_id, plain = running_job(store), running_job(store)
    few, rest = points(1, 16), points(17, STAGE_BYTES // TRAIN_POINT.itemsize + 100)
    for target in (job_id, plain):
        store.jobs.flush(target, few, b"", None, None, worker="w1", written=(0, 0))
    for at in range(0, len(rest), STAGE_BYTES // 2):
        store.jobs.flush(plain, rest[at : at + STAGE_BYTES // 2], b"", None, None, worker="w1", written=(len(few) + at, 0))
    answers = []
    ran = commands_of(
        store,
        lambda: answers.append(store.jobs.flush(job_id, rest, b"", None, None, worker="w1", written=(len(few), 0))),
    )
    staged, train = keys.job_train_staged(job_id).encode(), keys.job_train_history(job_id).encode()
    assert [b"GET", train] in ran and [b"RENAME", staged] in ran  # the few points copied, the rest renamed
    assert [b"GET", staged] not in ran and [b"APPEND", train] not in ran  # no megabytes through Lua
    answer = answers[0]
    assert history(store, job_id) == history(store, plain) == few + rest
    assert answer.written == (len(few + rest), 0) and answer.lost == (0, 0) and answer.mine
    assert store.redis.ttl(keys.job_train_history(job_id)) == -1
    assert not store.redis.exists(keys.job_train_staged(job_id))


def test_a_staged_flush_with_room_sent_again_is_stored_once(store) -> None:
    """The answer of a flush with room was lost and it is sent again: the history is now longer
    than the room, so the points are appended past what is there, once."""
    job_id = running_job(store)
    few, rest = points(1, 4), points(5, STAGE_BYTES // TRAIN_POINT.itemsize + 1)
    store.jobs.flush(job_id, few, b"", None, None, worker="w1", written=(0, 0))
    first = store.jobs.flush(job_id, rest, b"", None, None, worker="w1", written=(len(few), 0))
    again = store.jobs.flush(job_id, rest, b"", None, None, worker="w1", written=(len(few), 0))
    assert first.written == again.written == (len(few + rest), 0)
    assert again.lost == (0, 0)
    assert history(store, job_id) == few + rest


def test_a_staged_flush_with_room_reports_a_gap(store) -> None:
    """Redis lost acknowledged points (a crash): the history is shorter than the room the writer
    left, so the new points are appended to what is there and the gap reported, as the plain
    path does."""
    job_id, plain = running_job(store), running_job(store)
    kept = points(1, 2)
    rest = points(5, STAGE_BYTES // TRAIN_POINT.itemsize + 1)
    lost_at = 4 * TRAIN_POINT.itemsize
    for target in (job_id, plain):
        store.jobs.flush(target, kept, b"", None, None, worker="w1", written=(0, 0))
    answer = store.jobs.flush(job_id, rest, b"", None, None, worker="w1", written=(lost_at, 0))
    for at in range(0, len(rest), STAGE_BYTES // 2):
        last = store.jobs.flush(plain, rest[at : at + STAGE_BYTES // 2], b"", None, None, worker="w1", written=(lost_at + at, 0))
        if at == 0:
            plain_gap = last.lost
    assert answer.lost == plain_gap == (lost_at - len(kept), 0)
    assert history(store, job_id) == history(store, plain) == kept + rest
