"""Remembered answers for Idempotency-Key: claim a key, then record the answer it got."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from redis import Redis

from . import keys


class IdempotencyStore:
    """A key is first claimed as pending (so a concurrent repeat cannot create a twin), then holds
    the answer; a failed request releases it, so the client can retry with the same key."""

    def __init__(self, redis: Redis, ttl_seconds: int) -> None:
        self.redis = redis
        self.ttl_seconds = ttl_seconds

    @staticmethod
    def _key(tenant: str, route: str, key: str) -> str:
        return keys.idempotency(tenant, route, hashlib.sha256(key.encode()).hexdigest())

    def claim(self, tenant: str, route: str, key: str, fingerprint: str) -> dict[str, Any] | None:
        """None when this request now owns the key; else what is stored (pending or an answer)."""
        name = self._key(tenant, route, key)
        pending = json.dumps({"state": "pending", "fingerprint": fingerprint})
        if self.redis.set(name, pending, nx=True, ex=self.ttl_seconds):
            return None
        stored = self.redis.get(name)
        if stored is None:  # expired in between: try once more
            return self.claim(tenant, route, key, fingerprint)
        return json.loads(stored)

    def record(self, tenant: str, route: str, key: str, fingerprint: str, answer: dict[str, Any]) -> None:
        doc = {"state": "done", "fingerprint": fingerprint, **answer}
        self.redis.set(self._key(tenant, route, key), json.dumps(doc), ex=self.ttl_seconds)

    def release(self, tenant: str, route: str, key: str) -> None:
        self.redis.delete(self._key(tenant, route, key))
