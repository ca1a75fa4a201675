"""Structured logs: one JSON object a line, carrying the job and tenant a line is about.

`log_context(job_id=…, tenant=…)` puts ids on every line logged inside it (a contextvar, so each
request thread and each job has its own). DESCENT_LOG_FORMAT=text (Settings.log_format) switches to
plain lines. DESCENT_LOG_LEVEL (Settings.log_level) is the level of descent's own loggers (`descent.*`);
the libraries' stay at INFO or above (`library_level`): at DEBUG, numba alone logs tens of thousands
of lines compiling one kernel.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

CONTEXT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "descent_log_context", default=None
)
FIELDS = ("job_id", "tenant", "request_id", "worker")


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    token = CONTEXT.set({**(CONTEXT.get() or {}), **fields})
    try:
        yield
    finally:
        CONTEXT.reset(token)


def fresh(**fields: Any) -> None:
    """Start a new context (a new request on a reused thread) with just these ids."""
    CONTEXT.set(dict(fields))


def bind(**fields: Any) -> None:
    """Add ids to the current context until it ends (a request, say)."""
    CONTEXT.set({**(CONTEXT.get() or {}), **fields})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = CONTEXT.get() or {}
        for name in FIELDS:
            value = getattr(record, name, None) or context.get(name)
            if value is not None:
                doc[name] = value
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


TEXT_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
"""The plain line of ``log_format = "text"``."""


OWN_LOGGERS = "descent"
"""The parent of every descent logger (descent.api, descent.worker, descent.store)."""


def library_level(level: str) -> str:
    """The root logger's level for descent's `level`: never below INFO (the libraries' DEBUG lines
    drown descent's), WARNING or ERROR as asked."""
    return level if logging.getLevelName(level) >= logging.INFO else "INFO"


def configure(log_format: str = "json", level: str = "INFO") -> None:
    """Root logging for a descent process (the worker; gunicorn's is service/server.py's): JSON
    lines, or plain ones for "text"; descent's loggers at `level`, the libraries' at
    `library_level(level)`."""
    handler = logging.StreamHandler()
    if log_format == "text":
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    else:
        handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(library_level(level))
    logging.getLogger(OWN_LOGGERS).setLevel(level)
