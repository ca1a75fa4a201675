"""The one place that knows Redis: key names (`keys`), encodings (`records`) and the operations.

Both the API and the workers go through `Store`; it imports redis and numpy, never flask or torch.
"""

from __future__ import annotations

from redis import Redis

from .datasets import DatasetStore
from .history import HistoryStore
from .jobs import JobStore
from .paging import BadCursor

__all__ = ["BadCursor", "Store", "connect"]


class Store:
    """Datasets, jobs and histories over one Redis connection pool."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.datasets = DatasetStore(redis)
        self.jobs = JobStore(redis)
        self.history = HistoryStore(redis)


def connect(url: str, **options: object) -> Redis:
    """A client for `url` (``redis://`` or ``rediss://``, password in the URL) with bounded waits.

    The timeouts keep a request from hanging when Redis is gone: the API answers 503 instead.
    """
    defaults: dict[str, object] = {
        "socket_connect_timeout": 2.0,
        "socket_timeout": 10.0,
        "health_check_interval": 30,
    }
    defaults.update(options)
    return Redis.from_url(url, **defaults)  # type: ignore[arg-type]
