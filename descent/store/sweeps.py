"""Sweeps in Redis: the request and the list of child jobs; the children are ordinary jobs."""

from __future__ import annotations

import json
from typing import Any

from redis import Redis
from redis.lock import Lock

from . import keys
from .paging import page
from .records import now, now_score
from .states import MISSING_CHILD


class SweepStore:
    """A sweep record only names its children; their state is read from the job records."""

    def __init__(self, redis: Redis, retention_seconds: int) -> None:
        self.redis = redis
        self.retention_seconds = retention_seconds

    @property
    def ttl(self) -> int:
        """A sweep outlives its children: they expire `retention` after they end, at most a day
        after they start."""
        return self.retention_seconds + 86_400

    def create(
        self, tenant: str, sweep_id: str, request: dict[str, Any], children: list[dict[str, Any]], metric: str
    ) -> None:
        """Write the sweep before its children, so a child never points at a missing sweep."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(
            keys.sweep(sweep_id),
            mapping={
                "id": sweep_id,
                "tenant": tenant,
                "request": json.dumps(request),
                "children": json.dumps(children),
                "metric": metric,
                "created_at": now(),
            },
        )
        pipe.expire(keys.sweep(sweep_id), self.ttl)
        pipe.zadd(keys.tenant_sweeps(tenant), {sweep_id: now_score()})
        pipe.execute()

    def get(self, tenant: str, sweep_id: str) -> dict[str, Any] | None:
        """The sweep, or None when missing or another tenant's."""
        sweep = self.record(sweep_id)
        return sweep if sweep is not None and sweep["tenant"] == tenant else None

    def record(self, sweep_id: str) -> dict[str, Any] | None:
        """The sweep whoever's it is (a worker's view): id, tenant, request, children, metric,
        created_at, cancelled."""
        raw = self.redis.hgetall(keys.sweep(sweep_id))
        if not raw or b"request" not in raw:
            return None
        record = {k.decode(): v.decode() for k, v in raw.items()}
        return {
            "id": record["id"],
            "tenant": record["tenant"],
            "request": json.loads(record["request"]),
            "children": json.loads(record["children"]),
            "metric": record["metric"],
            "created_at": record["created_at"],
            "cancelled": record.get("cancelled") == "1",
            "settled": record.get("settled") == "1",
        }

    def set_children(self, sweep_id: str, children: list[dict[str, Any]]) -> None:
        """A search's children as its trials are started (under `lock`)."""
        self.redis.hset(keys.sweep(sweep_id), "children", json.dumps(children))

    def mark_cancelled(self, sweep_id: str) -> None:
        """A cancelled search starts no more trials."""
        self.redis.hset(keys.sweep(sweep_id), "cancelled", "1")

    def mark_settled(self, sweep_id: str) -> None:
        """A search whose every trial has ended and been told to its study: done."""
        self.redis.hset(keys.sweep(sweep_id), "settled", "1")

    def lock(self, sweep_id: str, blocking_timeout: float | None) -> Lock:
        """The lock a process holds while it tells the study of ended trials and starts new ones
        (expires after 60 s should the holder die; `blocking_timeout` None: wait as long)."""
        return self.redis.lock(keys.sweep_lock(sweep_id), timeout=60, blocking_timeout=blocking_timeout)

    def list(self, tenant: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """The tenant's sweep records, newest first."""

        def load(ids: list[str]) -> list[dict[str, Any] | None]:
            return [self.get(tenant, sweep_id) for sweep_id in ids]

        return page(self.redis, keys.tenant_sweeps(tenant), limit, cursor, load)

    def children(self, job_ids: list[str]) -> list[dict[str, Any]]:
        """Status, result and error of each child, in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.hmget(keys.job(job_id), "status", "result", "error")
        out = []
        for status, result, error in pipe.execute():
            out.append(
                {
                    "status": status.decode() if status else MISSING_CHILD,
                    "result": json.loads(result) if result else None,
                    "error": json.loads(error) if error else None,
                }
            )
        return out
