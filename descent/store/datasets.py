"""Datasets in Redis: one hash holding the tenant, the JSON description and the packed arrays."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from redis import Redis

from . import keys, scripts
from .paging import page
from .states import DeleteOutcome


class DatasetStore:
    """Parsed once by the API, read as raw float32 bytes by workers: training never re-parses."""

    def __init__(self, redis: Redis, retention_seconds: int) -> None:
        self.redis = redis
        self.retention_seconds = retention_seconds
        self._delete = scripts.KeyedScript(redis, scripts.DELETE_DATASET)

    def put(self, tenant: str, meta: dict[str, Any], x: np.ndarray, y: np.ndarray) -> None:
        """Store a dataset; `meta` is its public description and must carry `id` and `rows`."""
        dataset_id = meta["id"]
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(
            keys.dataset(dataset_id),
            mapping={
                "tenant": tenant,
                "meta": json.dumps(meta),
                "x": np.ascontiguousarray(x, dtype="<f4").tobytes(),
                "y": np.ascontiguousarray(y, dtype="<f4").tobytes(),
            },
        )
        pipe.expire(keys.dataset(dataset_id), self.retention_seconds)
        pipe.zadd(keys.tenant_datasets(tenant), {dataset_id: meta["created_score"]})
        pipe.execute()

    def get(self, tenant: str, dataset_id: str) -> dict[str, Any] | None:
        """The description, or None when missing or another tenant's."""
        owner, meta = self.redis.hmget(keys.dataset(dataset_id), "tenant", "meta")
        if owner is None or owner.decode() != tenant or meta is None:
            return None
        return _public(json.loads(meta))

    def arrays(self, dataset_id: str) -> tuple[np.ndarray, np.ndarray] | None:
        """Features (rows × features) and target as float32 views on the stored bytes."""
        meta, x, y = self.redis.hmget(keys.dataset(dataset_id), "meta", "x", "y")
        if meta is None or x is None or y is None:
            return None
        described = json.loads(meta)
        xs = np.frombuffer(x, dtype="<f4").reshape(described["rows"], described["features"])
        return xs, np.frombuffer(y, dtype="<f4")

    def list(self, tenant: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first."""

        def load(ids: list[str]) -> list[dict[str, Any] | None]:
            pipe = self.redis.pipeline(transaction=False)
            for dataset_id in ids:
                pipe.hget(keys.dataset(dataset_id), "meta")
            metas = pipe.execute()
            gone = [dataset_id for dataset_id, m in zip(ids, metas, strict=True) if m is None]
            if gone:  # expired datasets leave their index entries behind; drop them as they are met
                self.redis.zrem(keys.tenant_datasets(tenant), *gone)
            return [_public(json.loads(m)) if m else None for m in metas]

        return page(self.redis, keys.tenant_datasets(tenant), limit, cursor, load)

    def delete(self, tenant: str, dataset_id: str) -> DeleteOutcome:
        """DELETED, MISSING (or not yours) or IN_USE (a queued or running job uses it)."""
        result = self._delete(
            keys={
                "dataset": keys.dataset(dataset_id),
                "dataset_active": keys.dataset_active_jobs(dataset_id),
                "tenant_datasets": keys.tenant_datasets(tenant),
            },
            args=[tenant, dataset_id],
        )
        return DeleteOutcome(result.decode())


def _public(meta: dict[str, Any]) -> dict[str, Any]:
    """Drop the internal fields of a stored description."""
    return {k: v for k, v in meta.items() if k != "created_score"}
