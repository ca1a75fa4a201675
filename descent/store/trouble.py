"""Redis errors that are passing trouble, not a verdict on the work: a worker rides them out.

Redis unreachable (a restart, a network cut) and Redis full (`maxmemory` reached under
`noeviction`: "OOM command not allowed") both refuse a write without changing anything, and both
end when an operator acts. A worker keeps training, buffers what it could not write, keeps its
lease and writes later; these tuples are how every part of it tells them from a real error.
"""

from __future__ import annotations

from redis.exceptions import ConnectionError, OutOfMemoryError, TimeoutError

UNREACHABLE: tuple[type[Exception], ...] = (ConnectionError, TimeoutError)
"""Redis does not answer."""

FULL: type[Exception] = OutOfMemoryError
"""Redis answers but refuses writes that may use memory (reads, deletes and EXPIRE still work)."""

PASSING: tuple[type[Exception], ...] = (*UNREACHABLE, FULL)
"""Either: write later, lose nothing."""


def describe(exc: BaseException) -> str:
    """'full' or 'unreachable', for log lines."""
    return "full" if isinstance(exc, FULL) else "unreachable"
