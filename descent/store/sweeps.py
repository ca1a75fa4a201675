"""Sweeps in Redis: the request and the list of child jobs; the children are ordinary jobs."""

from __future__ import annotations

import json
from typing import Any

from redis import Redis

from . import keys
from .paging import page
from .records import now, now_score
from .states import MISSING_CHILD


class SweepStore:
    """A sweep record only names its children; their state is read from the job records."""

    def __init__(self, redis: Redis, retention_seconds: int) -> None:
        self.redis = redis
        self.retention_seconds = retention_seconds

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
        # Outlives its children: they expire `retention` after they end, at most a day after start.
        pipe.expire(keys.sweep(sweep_id), self.retention_seconds + 86_400)
        pipe.zadd(keys.tenant_sweeps(tenant), {sweep_id: now_score()})
        pipe.execute()

    def get(self, tenant: str, sweep_id: str) -> dict[str, Any] | None:
        raw = self.redis.hgetall(keys.sweep(sweep_id))
        if not raw or raw.get(b"tenant", b"").decode() != tenant:
            return None
        record = {k.decode(): v.decode() for k, v in raw.items()}
        return {
            "id": record["id"],
            "request": json.loads(record["request"]),
            "children": json.loads(record["children"]),
            "metric": record["metric"],
            "created_at": record["created_at"],
        }

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
