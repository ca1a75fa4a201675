"""A job queued by the previous version still runs after an upgrade, and shows the documented config.

The job record is written as the previous version wrote it (its config JSON, byte for byte), then
the worker's task runs it against the real Redis.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import numpy as np
import pytest
import redis as redis_lib

from descent.spec import JobConfig
from descent.store import Store
from worker.tasks import run, stored_config

PREVIOUS = {
    "dataset_id": "ds_559b7f25e6073f62eeb2c85530b1c2b2",
    "model": {"type": "linear", "bias": False},
    "loss": "mse",
    "optimizer": {"type": "gd", "lr": 0.01},
    "epochs": 100,
    "tolerance": 0.0,
    "split": {"dev": 0.0, "test": 0.0},
    "early_stopping": None,
    "smoothing": 0.4,
    "standardize": False,
    "seed": 0,
    "max_runtime_seconds": 3600,
    "max_history_points": 100000,
}
"""The README walk-through's config, as the service stored it before the job spec existed."""

FILLED = {
    "features": {
        "include": None,
        "exclude": [],
        "impute": "mean",
        "missing_indicator": False,
        "max_categories": 20,
    },
    "data": {"train_fraction": 1.0},
    "positive": None,
}
"""The keys added since, as the shown config fills them in (a stored `split` stays as written)."""


def queued(settings, change: dict[str, Any]) -> tuple[Store, str, str, str]:
    """(store, tenant, dataset id, job id) of a job queued with PREVIOUS changed by `change` (a
    value None deletes the key), on a dataset of y = 2x."""
    store = Store(redis_lib.Redis.from_url(settings.redis_url))
    tenant, dataset_id, job_id = "t-" + uuid.uuid4().hex, "ds_" + uuid.uuid4().hex, "job_" + uuid.uuid4().hex
    x = np.array([[1.0], [2.0], [3.0]], dtype=np.float32)
    meta = {"id": dataset_id, "rows": 3, "features": 1, "created_score": 1.0}
    store.datasets.put(tenant, meta, x, 2 * x[:, 0])
    config = {**PREVIOUS, "dataset_id": dataset_id, **change}
    config = {k: v for k, v in config.items() if v is not None}
    assert store.jobs.create(tenant, job_id, config) is not None
    return store, tenant, dataset_id, job_id


@pytest.mark.parametrize("version", ["previous", "before max_history_points"])
def test_a_job_queued_by_an_earlier_version_runs_after_the_upgrade(settings, version: str) -> None:
    change = {} if version == "previous" else {"max_history_points": None}
    store, tenant, dataset_id, job_id = queued(settings, change)

    assert run(store, job_id, settings) == "succeeded"
    job = store.jobs.get(tenant, job_id)
    assert job is not None and job["result"]["params"]["weights"][0] == pytest.approx(2.0, abs=1e-3)
    shown = JobConfig.model_validate(job["config"])  # the documented shape, every key present
    assert shown.max_history_points == 100000 and shown.log_every == 1
    fitted = {  # the dataset's one feature, a number without missing cells: used as it is
        "impute": "mean",
        "columns": [{"name": "x1", "kind": "number", "imputed": 2.0, "indicator": False}],
        "feature_names": ["x1"],
    }
    features = {**FILLED["features"], "fitted": fitted}
    assert job["config"] == {
        **PREVIOUS,
        **FILLED,
        "features": features,
        "dataset_id": dataset_id,
        "log_every": 1,
    }


def test_a_stored_config_that_is_not_valid_fails_the_job_instead_of_leaving_it_running(settings) -> None:
    store, tenant, _, job_id = queued(settings, {"optimizer": {"type": "gd", "lr": 0.01, "batch_size": 8}})
    assert run(store, job_id, settings) == "failed"
    job = store.jobs.get(tenant, job_id)
    assert job is not None and job["error"]["type"] == "internal"
    assert "stored config is not valid" in job["error"]["message"]


def test_the_stored_json_is_kept_as_written_and_what_it_lacks_is_filled() -> None:
    """3600 stays the integer it was stored as; the spec model has the float the engine uses."""
    old = {k: v for k, v in PREVIOUS.items() if k != "max_history_points"}
    spec, shown = stored_config(json.dumps(old))
    assert shown == {**old, **FILLED, "max_history_points": 100000}
    assert type(shown["max_runtime_seconds"]) is int and spec.max_runtime_seconds == 3600.0
