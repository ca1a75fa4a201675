"""A dataset and a job written straight through the store, for tests of the store itself."""

from __future__ import annotations

import uuid

import numpy as np

from descent.store import Store


def make_dataset(store: Store, tenant: str, rows: int = 4, features: int = 2) -> str:
    """A published dataset of `rows` × `features` counting numbers and a counting target; its id."""
    dataset_id = "ds_" + uuid.uuid4().hex
    x = np.arange(rows * features, dtype=np.float32).reshape(rows, features)
    y = np.arange(rows, dtype=np.float32)
    meta = {"id": dataset_id, "rows": rows, "features": features, "created_score": 1.0}
    store.datasets.put(tenant, meta, x, y)
    return dataset_id


def make_job(store: Store, tenant: str, dataset_id: str) -> str:
    """A queued 3-epoch job on `dataset_id`; its id."""
    job_id = "job_" + uuid.uuid4().hex
    assert store.jobs.create(tenant, job_id, {"dataset_id": dataset_id, "epochs": 3}) is not None
    return job_id
