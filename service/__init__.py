"""descent's HTTP API. `create_app()` builds it; `python -m service` serves it under gunicorn.

Never imports torch: the API validates, stores and enqueues; workers train. Importing this package
imports nothing else of it: `python -m service` sets the environment that prometheus_client and
numba read on import before `create_app` brings them in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["create_app"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build an app (see `service.app.create_app`)."""
    from .app import create_app as build

    return build(config)
