"""The one place that knows Redis: key names (`keys`), encodings (`records`) and the operations.

Both the API and the workers go through `Store`; it imports redis and numpy, never flask or torch.
"""

from __future__ import annotations

from redis import Redis

from .datasets import DatasetStore
from .history import HistoryStore
from .holds import HoldStore
from .idempotency import IdempotencyStore
from .jobs import JobStore, OpenJobsLimit
from .ops import OpsStore
from .packing import ZeroCopyPacker
from .paging import BadCursor
from .states import CancelOutcome, DeleteOutcome, JobStatus, RequeueOutcome
from .sweeps import SweepStore
from .tenants import TenantStore

__all__ = [
    "BadCursor",
    "CancelOutcome",
    "DeleteOutcome",
    "JobStatus",
    "OpenJobsLimit",
    "RequeueOutcome",
    "Store",
    "connect",
]

DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600
DEFAULT_IDEMPOTENCY_SECONDS = 24 * 3600


class Store:
    """Datasets, jobs, histories and sweeps over one Redis connection pool."""

    def __init__(
        self,
        redis: Redis,
        retention_seconds: int = DEFAULT_RETENTION_SECONDS,
        idempotency_seconds: int = DEFAULT_IDEMPOTENCY_SECONDS,
    ) -> None:
        self.redis = redis
        self.datasets = DatasetStore(redis, retention_seconds)
        self.jobs = JobStore(redis, retention_seconds)
        self.history = HistoryStore(redis)
        self.sweeps = SweepStore(redis, retention_seconds)
        self.idempotency = IdempotencyStore(redis, idempotency_seconds)
        self.ops = OpsStore(redis)
        self.holds = HoldStore(redis)
        self.tenants = TenantStore(redis)


def connect(url: str, **options: object) -> Redis:
    """A client for `url` (``redis://`` or ``rediss://``, password in the URL) with bounded waits.

    The timeouts keep a request from hanging when Redis is gone: the API answers 503 instead; the
    packer sends a dataset's columns without copying them (packing.py).
    """
    defaults: dict[str, object] = {
        "command_packer": ZeroCopyPacker(),
        "socket_connect_timeout": 2.0,
        "socket_timeout": 10.0,
        "health_check_interval": 30,
    }
    defaults.update(options)
    return Redis.from_url(url, **defaults)  # type: ignore[arg-type]
