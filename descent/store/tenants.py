"""Per-tenant limits kept in Redis, so every API process on every host enforces the same ones.

- Storage: a ledger of the bytes each resource holds (tenant_scripts.py says how it is kept). A
  dataset is counted when its upload reserves room (its columns' bytes, refused over the quota),
  measured exactly once published; a job is registered when it is created and measured at every
  read while it is open (its history and checkpoint grow), then once more when its TTL runs out.
  Deleting or expiring a resource frees its bytes at the next read; nothing has to catch the
  moment a key expires.
- Request rate: GCRA (a token bucket as one number) per tenant, in one script.
- Refusals per tenant and limit, for /metrics.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from redis import Redis
from redis.client import Pipeline
from redis.exceptions import OutOfMemoryError

from . import keys, scripts, tenant_scripts

UPLOAD_GRACE_MS = 300_000
"""How long a reserved dataset is counted at its reserved size before it is measured: the columns
and the description are written after the reservation (datasets.UNPUBLISHED_SECONDS)."""
LIMITS = ("rate", "concurrency", "open_jobs", "storage")
"""The limits whose refusals are counted."""


class Reservation(NamedTuple):
    """Whether the bytes fit (and are now counted), and what the tenant stored before."""

    ok: bool
    stored: int


def ledger(tenant: str) -> dict[str, str]:
    """The keys of a tenant's ledger, by the names the scripts give them."""
    return {
        "sizes": keys.tenant_storage(tenant),
        "parts": keys.tenant_storage_parts(tenant),
        "checks": keys.tenant_storage_checks(tenant),
        "total": keys.tenant_storage_total(tenant),
    }


def job_parts(job_id: str) -> list[str]:
    """The keys a job's bytes are in: its record, histories, checkpoint and surface."""
    return [
        keys.job(job_id),
        keys.job_train_history(job_id),
        keys.job_dev_history(job_id),
        keys.job_checkpoint(job_id),
        keys.job_surface(job_id),
    ]


def track(pipe: Pipeline, tenant: str, parts: list[str]) -> None:
    """Queue on `pipe` the registration of a resource made of `parts` (its main key first),
    measured at the next read; one that never came to exist leaves the ledger then."""
    member = parts[0]
    pipe.hsetnx(keys.tenant_storage(tenant), member, 0)
    pipe.hset(keys.tenant_storage_parts(tenant), member, json.dumps(parts))
    pipe.zadd(keys.tenant_storage_checks(tenant), {member: 0})


def recheck(pipe: Pipeline, tenant: str, member: str) -> None:
    """Queue on `pipe`: measure `member` (a resource's main key) at the next read — after it was
    written, deleted, or given a new TTL. Nothing happens for a member the ledger does not hold."""
    pipe.zadd(keys.tenant_storage_checks(tenant), {member: 0}, xx=True)


class TenantStore:
    """Reads and checks of a tenant's storage, request rate and refusals."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._usage = scripts.KeyedScript(redis, tenant_scripts.USAGE)
        self._reserve = scripts.KeyedScript(redis, tenant_scripts.RESERVE)
        self._rate = scripts.KeyedScript(redis, tenant_scripts.RATE)

    def stored(self, tenant: str) -> int:
        """The bytes the tenant stores now (its ledger brought up to date)."""
        return int(self._usage(keys=ledger(tenant)))

    def stored_for_metrics(self, tenant: str) -> int:
        """`stored`, or the last total measured when Redis is at its maxmemory and refuses the
        ledger's writes: /metrics must still answer when the store is full."""
        try:
            return self.stored(tenant)
        except OutOfMemoryError:
            return int(self.redis.get(keys.tenant_storage_total(tenant)) or 0)

    def reserve_dataset(self, tenant: str, dataset_id: str, size: int, quota: int) -> Reservation:
        """Count `size` bytes for a dataset about to be written, unless they would take the tenant
        past `quota` (0: no quota)."""
        member = keys.dataset(dataset_id)
        ok, stored = self._reserve(
            keys={**ledger(tenant), "limited": keys.tenant_limited(tenant)},
            args=[member, size, quota, UPLOAD_GRACE_MS, json.dumps([member])],
        )
        return Reservation(bool(ok), int(stored))

    def take(self, tenant: str, rate: float, burst: int) -> float:
        """One request of the tenant against `rate` per second with `burst`: 0.0 when it may go
        through, else the seconds until one may (the refusal is counted)."""
        wait_us = self._rate(
            keys={"rate": keys.tenant_rate(tenant), "limited": keys.tenant_limited(tenant)},
            args=[1_000_000 / rate, burst],
        )
        return int(wait_us) / 1_000_000

    def count_refusal(self, tenant: str, limit: str) -> None:
        """One more request of the tenant refused by `limit` (one of LIMITS)."""
        self.redis.hincrby(keys.tenant_limited(tenant), limit, 1)

    def refusals(self, tenant: str) -> dict[str, int]:
        """Requests of the tenant refused so far, by limit (every one of LIMITS, 0 when none)."""
        counts: dict[bytes, Any] = self.redis.hgetall(keys.tenant_limited(tenant))
        return {limit: int(counts.get(limit.encode(), 0)) for limit in LIMITS}
