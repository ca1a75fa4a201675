"""Waiting for room in a full Redis: how a worker's own bookkeeping rides out `maxmemory`.

Why: RQ's work loop writes around every job (the worker's state, the job's execution record and
status, its success or failure records), and a full Redis (noeviction) refuses each of those writes
with OutOfMemoryError, which ended RQ's loop: a popped job was lost, and a worker whose job had just
ended stopped taking jobs. None of those writes may be skipped for long (a popped job must start or
go back, and RQ's records must not be left half-written), and a full Redis ends only when an
operator makes room; so the write is tried again, with backoff, until Redis takes it. An episode
is logged once when it starts and once when it ends, not at every try. A worker told to stop
(SIGTERM) stops waiting: the write is abandoned and RQ's loop ends (`StopRequested`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from rq.exceptions import StopRequested

from descent.store.trouble import FULL

log = logging.getLogger("descent.worker")
T = TypeVar("T")

BACKOFF_SECONDS = (0.25, 5.0)
"""First and longest pause between tries; each pause doubles the last."""


class Room:
    """The episode this process is in: when Redis began refusing the worker's writes, if it has."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.full_since: float | None = None

    def refused(self, what: str, exc: Exception) -> None:
        with self._lock:
            first, self.full_since = self.full_since is None, self.full_since or time.monotonic()
        if first:
            log.warning("redis full (%s): %s waits for room, retried with backoff", exc, what)

    def taken(self, what: str) -> None:
        with self._lock:
            since, self.full_since = self.full_since, None
        if since is not None:
            log.warning("redis takes writes again after %.1fs: %s written", time.monotonic() - since, what)


ROOM = Room()


def until_room(action: Callable[[], T], what: str, stopping: threading.Event) -> T:
    """`action()` once Redis takes it: retried while Redis is full (OutOfMemoryError), pausing
    longer each time up to BACKOFF_SECONDS[1]. When `stopping` is set (now or while waiting), the
    write is abandoned: StopRequested, which ends RQ's work loop as a stop request does."""
    delay = BACKOFF_SECONDS[0]
    while True:
        try:
            done = action()
        except FULL as exc:
            ROOM.refused(what, exc)
            if stopping.wait(delay):
                log.warning("worker stopping while redis is full: %s not written", what)
                raise StopRequested() from exc
            delay = min(delay * 2, BACKOFF_SECONDS[1])
            continue
        ROOM.taken(what)
        return done
