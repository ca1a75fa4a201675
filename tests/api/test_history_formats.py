"""A job with one rate writes compact train records (format 3); its history reads back exactly as
the same job's in format 2 (one written with a schedule that keeps the rate: exponential, γ = 1)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import redis

from descent.store import keys
from descent.store.records import COMPACT_FORMAT, TRAIN_FORMAT
from service import create_app
from tests.support.api import full_history, submit, upload, wait_job
from tests.support.data import noisy_cubic

pytestmark = pytest.mark.usefixtures("worker")


@pytest.mark.parametrize("optimizer", [{"type": "sgd", "lr": 0.01}, {"type": "minibatch", "lr": 0.05, "batch_size": 6}])
def test_compact_and_full_records_give_the_same_history(settings, optimizer):
    # 5 points at most: windows of several steps, the last one shorter, across epochs
    client = create_app({"SETTINGS": replace(settings, max_history_points=5), "TESTING": True}).test_client()
    ds = upload(client, noisy_cubic(rows=40))
    body = {"dataset_id": ds, "epochs": 7, "tolerance": 0, "split": {"dev": 0.2}}
    compact = wait_job(client, submit(client, **body, optimizer=optimizer)["id"])
    constant = {**optimizer, "schedule": {"type": "exponential", "gamma": 1.0}}
    full = wait_job(client, submit(client, **body, optimizer=constant)["id"])
    assert compact["status"] == full["status"] == "succeeded"
    formats = [redis.Redis.from_url(settings.redis_url).hget(keys.job(j["id"]), "train_format") for j in (compact, full)]
    assert formats == [str(COMPACT_FORMAT).encode(), str(TRAIN_FORMAT).encode()]
    ours, theirs = full_history(client, compact["id"]), full_history(client, full["id"])
    assert ours == theirs
    steps = ours["train"]["step"]
    assert len(steps) == 5 and steps[-1] == compact["result"]["steps"] and steps[-1] % (steps[0]) != 0
