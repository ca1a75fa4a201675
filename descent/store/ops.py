"""Operational facts in Redis: live workers, job counters and a duration histogram for /metrics."""

from __future__ import annotations

import time

from redis import Redis

from . import keys

DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 60.0, 300.0, 1800.0, 3600.0, 86400.0)
"""Upper bounds (seconds) of the job-duration histogram."""


class OpsStore:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def beat(self, worker: str) -> None:
        """A worker is alive now."""
        self.redis.zadd(keys.workers(), {worker: time.time()})

    def live_workers(self, within_seconds: float) -> list[str]:
        """Workers that beat in the last `within_seconds`; older entries are dropped on the way."""
        now = time.time()
        self.redis.zremrangebyscore(keys.workers(), "-inf", now - 24 * 3600)
        return [m.decode() for m in self.redis.zrangebyscore(keys.workers(), now - within_seconds, "+inf")]

    def forget(self, worker: str) -> None:
        self.redis.zrem(keys.workers(), worker)

    def count_job(self, status: str) -> None:
        self.redis.hincrby(keys.job_stats(), status, 1)

    def observe_duration(self, seconds: float) -> None:
        observe_duration(self.redis, seconds)

    def job_counts(self) -> dict[str, int]:
        return {k.decode(): int(v) for k, v in self.redis.hgetall(keys.job_stats()).items()}

    def durations(self) -> dict[str, float]:
        return {k.decode(): float(v) for k, v in self.redis.hgetall(keys.duration_stats()).items()}

    def running_count(self) -> int:
        """Jobs running right now, across tenants."""
        return int(self.redis.scard(keys.running_jobs()))


def observe_duration(redis: Redis, seconds: float) -> None:
    """Count one ended job's wall time into the cumulative histogram /metrics exposes."""
    pipe = redis.pipeline(transaction=False)
    for bound in DURATION_BUCKETS:
        if seconds <= bound:
            pipe.hincrby(keys.duration_stats(), repr(bound), 1)
    pipe.hincrby(keys.duration_stats(), "+Inf", 1)
    pipe.hincrbyfloat(keys.duration_stats(), "sum", seconds)
    pipe.execute()
