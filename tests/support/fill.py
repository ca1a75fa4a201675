"""Filling a real Redis to its `maxmemory` (under noeviction), and freeing it again.

Why: a test of a full store needs Redis to refuse writes while a job runs, on any machine. Redis
checks before each write whether it is over its limit, and a write that passes may take it over;
so `fill` writes filler keys, smaller and smaller, until even a few bytes are refused. At that edge
Redis still takes a small write now and then (clients' buffers, counted as used memory, shrink and
grow), so `fill` then lowers `maxmemory` to OVER_BY under what is used: Redis stays over its limit
and refuses every write until `free` puts the limit back and deletes the filler. The filler's
connection stays open until `free`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import redis
from prometheus_client.parser import text_string_to_metric_families

from descent.store import keys

from .processes import WORKER_DEADLINE, wait_for

FILLER_PREFIX = "test-filler:"
"""Filler keys' names: outside descent's namespace (descent.store.keys.PREFIX), so no code reads them."""

OVER_BY = 1 << 20
"""Bytes by which a filled Redis is held over its (lowered) limit."""
SIZES = (65536, 4096, 256, 16)
"""Filler values' sizes, in the order they are written, each until Redis refuses one."""


def full_server_args(maxmemory: str) -> tuple[str, ...]:
    """redis-server options of a store that can fill up: a limit, and refusal rather than eviction."""
    return ("--maxmemory", maxmemory, "--maxmemory-policy", "noeviction")


class Filler:
    """Fills the Redis at `url` until it refuses writes (`fill`), and frees what it wrote (`free`)."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.written = 0
        self.maxmemory = int(self.client.config_get("maxmemory")["maxmemory"])
        """The server's own limit, put back by `free`."""
        self.limit = self.maxmemory
        """The limit now: lowered below what is used once filled."""

    def fill(self) -> int:
        """Write filler keys until Redis refuses even a small one; returns how many are there. Safe to
        call again to take back room something freed."""
        for size in SIZES:
            while True:
                try:
                    self.client.set(f"{FILLER_PREFIX}{self.written}", b"x" * size)
                except redis.exceptions.OutOfMemoryError:
                    break
                self.written += 1
        used = int(self.client.info("memory")["used_memory"])
        self.limit = min(self.limit, used - OVER_BY)
        self.client.config_set("maxmemory", self.limit)
        return self.written

    def free(self) -> None:
        """Put the server's limit back, delete every filler key, then close the connection."""
        self.client.config_set("maxmemory", self.maxmemory)
        self.limit = self.maxmemory
        for start in range(0, self.written, 1000):
            self.client.delete(*(f"{FILLER_PREFIX}{i}" for i in range(start, min(start + 1000, self.written))))
        self.written = 0
        self.client.close()


def lease_renewals(url: str, job_id: str, count: int, timeout: float) -> None:
    """Until the running job's lease has been renewed `count` times (its TTL seen rising): the
    worker's heartbeat keeps it, whatever else Redis refuses."""
    client = redis.Redis.from_url(url)
    seen = {"renewals": 0, "last": -1}

    def renewed() -> bool:
        ttl = client.pttl(keys.job_lease(job_id))
        assert ttl > 0, f"job {job_id} has no lease (pttl {ttl})"
        if seen["last"] >= 0 and ttl > seen["last"]:
            seen["renewals"] += 1
        seen["last"] = ttl
        return seen["renewals"] >= count

    try:
        wait_for(renewed, timeout, interval=0.05, what=f"{count} renewals of job {job_id}'s lease")
    finally:
        client.close()


def gauges(client: Any, *names: str) -> dict[str, float]:
    """The values of unlabelled metrics in `client`'s /metrics."""
    text = client.get("/metrics").get_data(as_text=True)
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name in names and not sample.labels
    }


def wait_logged(log: Path, *parts: str, timeout: float = WORKER_DEADLINE) -> str:
    """Until a line of the log at `log` contains every one of `parts`; that line."""

    def line() -> str | None:
        found = [ln for ln in log.read_text(errors="replace").splitlines() if all(p in ln for p in parts)]
        return found[0] if found else None

    return wait_for(line, timeout, interval=0.1, what=f"a log line with {parts} in {log}")


def rq_workers(url: str) -> set[str]:
    """The names of the RQ workers registered in the Redis at `url`: a work loop that ended and
    started again registers under a new name."""
    from rq import Worker as RQWorker

    client = redis.Redis.from_url(url)
    try:
        return {w.name for w in RQWorker.all(connection=client)}
    finally:
        client.close()


def queued_entries(url: str, queue_name: str) -> int:
    """Entries waiting on the queue family `queue_name` (every tenant's queue) in the Redis at `url`."""
    from descent.queue import queue_depth

    client = redis.Redis.from_url(url)
    try:
        return queue_depth(client, queue_name)
    finally:
        client.close()


def first_logged(log: Path, *choices: str, timeout: float = WORKER_DEADLINE) -> str:
    """Until a line of the log at `log` contains one of `choices`; the first choice seen (the
    earliest line that has any)."""

    def seen() -> str | None:
        for line in log.read_text(errors="replace").splitlines():
            for choice in choices:
                if choice in line:
                    return choice
        return None

    return wait_for(seen, timeout, interval=0.1, what=f"a log line with one of {choices} in {log}")
