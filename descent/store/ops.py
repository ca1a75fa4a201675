"""Operational facts in Redis: live workers, job counters, a duration histogram, and how full
Redis is (for /readyz and /metrics)."""

from __future__ import annotations

import time
from typing import NamedTuple

from redis import Redis

from . import keys, scripts
from .trouble import FULL

PROBE_MS = 60_000
"""How long the write probe's key lives (`OpsStore.fullness`)."""

FULL_MARGIN = 0.01
"""Redis counts as full with less than this share of maxmemory left: at the brim it refuses and
accepts small writes by turns (it checks before each write whether it is over already), and a
readiness that flapped with them would help no one."""


class Fullness(NamedTuple):
    """Redis's memory against its limit, and whether it takes writes."""

    used_bytes: int
    """INFO memory's used_memory."""
    max_bytes: int
    """maxmemory; 0 when Redis has no limit."""
    full: bool
    """Writes are refused: used_memory (less what maxmemory does not count) is within FULL_MARGIN
    of maxmemory under noeviction, or the write probe was refused as out of memory."""


class OpsStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._beat = scripts.KeyedScript(redis, scripts.BEAT)

    def beat(self, worker: str) -> None:
        """A worker is alive now. A listed worker's beat succeeds on a full Redis too (scripts.BEAT);
        a new one's raises OutOfMemoryError there."""
        now = time.time()
        if not self._beat(keys={"workers": keys.workers()}, args=[worker, now]):
            self.redis.zadd(keys.workers(), {worker: now})

    def fullness(self) -> Fullness:
        """How full Redis is: INFO memory, and unless that says full, a small write (one key,
        rewritten, expiring by itself), which a Redis over its limit by other counts refuses."""
        info = self.redis.info("memory")
        used, limit = int(info.get("used_memory", 0)), int(info.get("maxmemory", 0))
        counted = used - int(info.get("mem_not_counted_for_evict", 0))
        noeviction = info.get("maxmemory_policy") == "noeviction"
        full = bool(limit) and noeviction and counted >= limit * (1 - FULL_MARGIN)
        if not full:
            try:
                self.redis.set(keys.store_probe(), b"1", px=PROBE_MS)
            except FULL:
                full = True
        return Fullness(used, limit, full)

    def live_workers(self, within_seconds: float) -> list[str]:
        """Workers that beat in the last `within_seconds`; older entries are dropped on the way."""
        now = time.time()
        self.redis.zremrangebyscore(keys.workers(), "-inf", now - 24 * 3600)
        return [m.decode() for m in self.redis.zrangebyscore(keys.workers(), now - within_seconds, "+inf")]

    def forget(self, worker: str) -> None:
        self.redis.zrem(keys.workers(), worker)

    def job_counts(self) -> dict[str, int]:
        return {k.decode(): int(v) for k, v in self.redis.hgetall(keys.job_stats()).items()}

    def durations(self) -> dict[str, float]:
        return {k.decode(): float(v) for k, v in self.redis.hgetall(keys.duration_stats()).items()}

    def running_count(self) -> int:
        """Jobs running right now, across tenants."""
        return int(self.redis.scard(keys.running_jobs()))

