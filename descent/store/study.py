"""A searching sweep's Optuna study, kept in Redis as Optuna's journal: a list of JSON log entries.

Why Optuna's journal storage: every process that touches a search (the API that starts it or
reads it, each worker reporting a trial's dev loss, whichever process tells the study a trial
ended) rebuilds the same study by replaying the same log, appended atomically, so trials survive
any process's death and nothing is chosen twice. Why this backend rather than Optuna's
JournalRedisBackend: one list per sweep under the store's key names (read with one LRANGE from
where a process left off, appended with one RPUSH, expiring with the sweep), and no snapshot —
Optuna's snapshots are pickles, and nothing descent reads from Redis is unpickled.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from optuna.storages.journal import BaseJournalBackend
from redis import Redis

from . import keys


class StudyJournal(BaseJournalBackend):
    """The journal of sweep `sweep_id`'s study, expiring `ttl` seconds after its last entry."""

    def __init__(self, redis: Redis, sweep_id: str, ttl: int) -> None:
        self.redis, self.key, self.ttl = redis, keys.sweep_study(sweep_id), ttl

    def read_logs(self, log_number_from: int) -> Iterable[dict[str, Any]]:
        return [json.loads(entry) for entry in self.redis.lrange(self.key, log_number_from, -1)]

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        if not logs:
            return
        pipe = self.redis.pipeline(transaction=True)
        pipe.rpush(self.key, *(json.dumps(log) for log in logs))
        pipe.expire(self.key, self.ttl)
        pipe.execute()
