"""The worker's reporter never lets a reader skip an epoch's dev point."""

from __future__ import annotations

import uuid

import numpy as np
import redis as redis_lib

from descent.store import Store
from worker.heartbeat import WORKER_NAME
from worker.reporter import RedisReporter


def test_an_epochs_last_train_point_waits_for_its_dev_point(settings):
    store = Store(redis_lib.Redis.from_url(settings.redis_url))
    dataset_id, job_id = "ds_" + uuid.uuid4().hex, "job_" + uuid.uuid4().hex
    store.datasets.put(
        "t",
        {"id": dataset_id, "rows": 2, "features": 1, "created_score": 1.0},
        np.zeros((2, 1), np.float32),
        np.zeros(2, np.float32),
    )
    config = {"dataset_id": dataset_id, "epochs": 2, "split": {"dev": 0.5}, "optimizer": {"type": "sgd"}}
    assert store.jobs.create("t", job_id, config) is not None
    assert store.jobs.start(job_id, WORKER_NAME, 10_000)
    reporter = RedisReporter(store, job_id, config, settings)
    reporter.plan(epochs=2, steps_per_epoch=2, log_every=1, total_steps=4, lr=0.01)
    reporter.train_point(1, 0, 1.0, 1.0)
    reporter.train_point(2, 0, 0.5, 0.8)
    reporter.flush()
    page = store.history.read(job_id, 0, 100)
    assert page["train"]["step"] == [1]  # step 2 ends epoch 1: it waits for epoch 1's dev point
    reporter.dev_point(2, 1, 0.7)
    reporter.flush()
    page = store.history.read(job_id, page["next"], 100)
    assert page["train"]["step"] == [2] and page["dev"]["step"] == [2]
