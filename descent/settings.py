"""Every limit and default that is configurable, read from the environment in one place.

Each setting is a named constant's default plus a `DESCENT_*` variable that overrides it; the README
lists them all. Reading happens in `Settings.from_env()`, so tests can build their own instance.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
"""Where Redis is when REDIS_URL is unset: the local server of a developer machine."""


@dataclass(frozen=True)
class Settings:
    """Limits and knobs. Field name ``max_request_bytes`` is read from ``DESCENT_MAX_REQUEST_BYTES``."""

    redis_url: str = field(default=DEFAULT_REDIS_URL, repr=False)
    queue_name: str = "descent"
    api_keys: str = field(default="", repr=False)
    """``tenant:key,…``; empty runs the service open, as one tenant."""
    max_open_jobs: int = 100
    """Queued plus running jobs of one tenant."""
    retention_seconds: int = 7 * 24 * 3600
    """How long ended jobs (with their histories) and unused datasets are kept."""
    idempotency_seconds: int = 24 * 3600
    """How long an Idempotency-Key is remembered."""
    max_request_bytes: int = 64 * 1024 * 1024
    """Largest request body; larger ones get 413."""
    max_dataset_cells: int = 20_000_000
    """rows × (features + 1) of one dataset."""
    max_features: int = 1_000
    max_epochs: int = 100_000
    max_runtime_seconds: int = 86_400
    """Upper bound for a job's ``max_runtime_seconds``."""
    max_mlp_parameters: int = 1_000_000
    """Weights and biases of one MLP."""
    max_classes: int = 1_000
    """Classes of a cross_entropy target."""
    max_sweep_children: int = 64
    """Jobs one sweep may create."""
    max_predict_rows: int = 100_000
    """Rows of one predict request."""
    max_grid_points: int = 4_000_000
    """Grid points of one exhaustive search."""
    max_surface_points: int = 1_000_000
    """Largest exhaustive grid whose costs are kept for ``/surface``."""
    max_history_points: int = 100_000
    """Train points one job keeps; longer jobs log the mean of windows of ``log_every`` updates."""
    history_page_size: int = 10_000
    """Default and maximum ``limit`` of ``GET /v1/jobs/{id}/history``."""
    list_page_size: int = 50
    """Default ``limit`` of the list endpoints (maximum 500)."""
    heartbeat_seconds: float = 2.0
    """How often a worker renews the lease of its running job and looks for jobs of dead workers."""
    lease_seconds: float = 10.0
    """A running job whose lease is this old has lost its worker and is requeued."""
    max_attempts: int = 3
    """Starts of one job (its worker died in the others) before it fails as worker_lost."""
    checkpoint_seconds: float = 5.0
    """How often a running job saves a checkpoint to resume from."""
    sse_seconds: float = 60.0
    """How long one /events stream lasts before the client reconnects (frees a server thread)."""
    max_sse_streams: int = 4
    """Live /events streams one API process serves at once; more are a 503 with Retry-After. Each
    stream holds a server thread, so this keeps threads (DESCENT_API_THREADS, 8) free for polls."""
    flush_seconds: float = 0.2
    """How often a worker writes buffered history and progress to Redis and checks for a cancel."""

    @property
    def worker_live_seconds(self) -> float:
        """A worker whose last heartbeat is older than this is not counted live (three missed beats)."""
        return 3 * self.heartbeat_seconds + 1

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Defaults, overridden by ``REDIS_URL`` and ``DESCENT_<FIELD>`` variables."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            name = "REDIS_URL" if f.name == "redis_url" else "DESCENT_" + f.name.upper()
            if name in env and env[name] != "":
                kind = type(f.default)
                try:
                    values[f.name] = kind(env[name])
                except ValueError as exc:
                    raise ValueError(f"{name}={env[name]!r} is not a valid {kind.__name__}") from exc
        return cls(**values)  # type: ignore[arg-type]
