"""The worker's reporter: it never lets a reader skip an epoch's dev point, and it honours a test's hold
only where test hooks are on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
import redis as redis_lib

from descent.store import Store
from worker.engine import Signal
from worker.heartbeat import WORKER_NAME
from worker.reporter import RedisReporter


@pytest.fixture()
def store(settings) -> Iterator[Store]:
    """The session's store; every job a test started here ends with it (no worker takes it over)."""
    store = Store(redis_lib.Redis.from_url(settings.redis_url))
    yield store
    for job_id, dataset_id in STARTED:
        store.holds.release(dataset_id)
        store.jobs.transition(job_id, ("running",), "cancelled", worker=WORKER_NAME)
    STARTED.clear()


STARTED: list[tuple[str, str]] = []


def running_job(store: Store, hold_at: int | None = None) -> tuple[str, dict]:
    """A running job of this process on a new two-row dataset (held at `hold_at`); its id and config.

    No worker runs it: the test plays the worker, through a RedisReporter of its own."""
    dataset_id, job_id = "ds_" + uuid.uuid4().hex, "job_" + uuid.uuid4().hex
    store.datasets.put(
        "t",
        {"id": dataset_id, "rows": 2, "features": 1, "created_score": 1.0},
        np.zeros((2, 1), np.float32),
        np.zeros(2, np.float32),
    )
    if hold_at is not None:
        store.holds.hold(dataset_id, hold_at)
    config = {"dataset_id": dataset_id, "epochs": 2, "split": {"dev": 0.5}, "optimizer": {"type": "sgd"}}
    assert store.jobs.create("t", job_id, config) is not None
    assert store.jobs.start(job_id, WORKER_NAME, 60_000)
    STARTED.append((job_id, dataset_id))
    return job_id, config


def one_by_one(reporter: RedisReporter) -> None:
    reporter.train_point(1, 0, 1.0, 1.0, 0.01)
    reporter.train_point(2, 0, 0.5, 0.8, 0.01)


def as_arrays(reporter: RedisReporter) -> None:
    """As the compiled paths report: a block of points, built in the history's (compact) format."""
    reporter.train_points(np.array([1, 2]), 0, np.array([1.0, 0.5]), np.array([1.0, 0.8]), 0.01)


@pytest.mark.parametrize("report", [one_by_one, as_arrays])
def test_an_epochs_last_train_point_waits_for_its_dev_point(settings, store, report):
    job_id, config = running_job(store)
    reporter = RedisReporter(store, job_id, config, settings)
    reporter.plan(epochs=2, steps_per_epoch=2, log_every=1, total_steps=4, lr=0.01)
    report(reporter)
    reporter.flush()
    page = store.history.read(job_id, 0, 100)
    assert page["train"]["step"] == [1]  # step 2 ends epoch 1: it waits for epoch 1's dev point
    reporter.dev_point(2, 1, 0.7)
    reporter.flush()
    page = store.history.read(job_id, page["next"], 100)
    assert page["train"]["step"] == [2] and page["dev"]["step"] == [2]
    assert page["train"]["loss"] == [0.5] and page["train"]["smoothed"] == [0.8]


def test_a_held_job_checkpoints_then_waits_until_released_or_cancelled(settings, store):
    hooks = replace(settings, test_hooks=True)
    job_id, config = running_job(store, hold_at=2)
    reporter = RedisReporter(store, job_id, config, hooks)
    reporter.plan(epochs=2, steps_per_epoch=2, log_every=1, total_steps=4, lr=0.01)
    reporter.train_point(1, 0, 1.0, 1.0, 0.01)
    assert reporter.tick() == Signal.CONTINUE
    reporter.train_point(2, 0, 0.5, 0.8, 0.01)
    assert reporter.tick() == Signal.CHECKPOINT  # reached: a checkpoint first, then the wait
    store.holds.release(config["dataset_id"])
    assert reporter.tick() == Signal.CONTINUE  # released: it goes on, and holds no more
    reporter.train_point(3, 1, 0.4, 0.7, 0.01)
    assert reporter.tick() == Signal.CONTINUE

    job_id, config = running_job(store, hold_at=1)
    reporter = RedisReporter(store, job_id, config, hooks)
    reporter.plan(epochs=2, steps_per_epoch=2, log_every=1, total_steps=4, lr=0.01)
    reporter.train_point(1, 0, 1.0, 1.0, 0.01)
    assert reporter.tick() == Signal.CHECKPOINT
    assert store.jobs.cancel("t", job_id) == "requested"
    assert reporter.tick() == Signal.CANCEL  # a held job answers a cancel as usual
    assert store.history.read(job_id, 0, 100)["train"]["step"] == [1]  # and wrote its points


def test_a_deployment_ignores_holds(settings, store):
    assert not settings.test_hooks  # the default
    job_id, config = running_job(store, hold_at=1)
    reporter = RedisReporter(store, job_id, config, settings)
    reporter.plan(epochs=2, steps_per_epoch=2, log_every=1, total_steps=4, lr=0.01)
    for step in range(1, 5):
        reporter.train_point(step, (step - 1) // 2, 1.0, 1.0, 0.01)
        assert reporter.tick() == Signal.CONTINUE
