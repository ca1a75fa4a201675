"""Every limit and default that is configurable, read from the environment in one place.

Each setting is a named constant's default plus a `DESCENT_*` variable that overrides it; the README
lists them all. Reading happens in `Settings.from_env()`, so tests can build their own instance.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
"""Where Redis is when REDIS_URL is unset: the local server of a developer machine."""


@dataclass(frozen=True)
class Settings:
    """Limits and knobs. Field name ``max_request_bytes`` is read from ``DESCENT_MAX_REQUEST_BYTES``."""

    redis_url: str = DEFAULT_REDIS_URL
    queue_name: str = "descent"
    max_request_bytes: int = 64 * 1024 * 1024
    """Largest request body; larger ones get 413."""
    max_dataset_cells: int = 20_000_000
    """rows × (features + 1) of one dataset."""
    max_features: int = 1_000
    max_epochs: int = 100_000
    max_runtime_seconds: int = 86_400
    """Upper bound for a job's ``max_runtime_seconds``."""
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
    flush_seconds: float = 0.2
    """How often a worker writes buffered history and progress to Redis and checks for a cancel."""

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
