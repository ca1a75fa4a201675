"""A worker's heartbeat thread: keeps its job's lease alive and takes jobs back from dead workers.

Every `heartbeat_seconds` it renews the lease of the job this process runs (a lease lives
`lease_seconds`; renewing works on a full Redis too), touches `heartbeat_file`, which the container
healthcheck reads, and reaps: any running job whose lease has expired lost its worker (SIGKILL,
OOM, a host gone), so it goes back on the queue to resume from its last checkpoint, or fails as
worker_lost after `max_attempts`. Every worker reaps, so the reaper survives any one of them.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from descent.settings import Settings
from descent.store import RequeueOutcome, Store
from descent.store.trouble import FULL, UNREACHABLE
from worker.requeue import pay_owed_enqueues, requeue

log = logging.getLogger("descent.worker")

WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
"""This process's name on leases."""


class CurrentJob:
    """The id of the job this process is training, shared with the heartbeat thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._job_id: str | None = None
        self.lost = threading.Event()
        """Set when the lease could not be renewed: another worker may own the job now."""

    def set(self, job_id: str | None) -> None:
        with self._lock:
            self._job_id = job_id
            self.lost.clear()

    def get(self) -> str | None:
        with self._lock:
            return self._job_id


CURRENT = CurrentJob()

class Stopping(threading.Event):
    """An Event that remembers when it was first set (monotonic seconds; 0.0 while unset)."""

    def __init__(self) -> None:
        super().__init__()
        self.since = 0.0

    def set(self) -> None:
        if not self.is_set():
            self.since = time.monotonic()
        super().set()


STOPPING = Stopping()
"""Set when the worker is told to stop (SIGTERM): the running job checkpoints and goes back."""


def reap(store: Store, settings: Settings) -> list[tuple[str, RequeueOutcome]]:
    """Requeue (or fail) every running job whose lease expired, and put on the queue every requeued
    job whose queue entry is still owed (see `worker.requeue`); returns what was done to which."""
    done = []
    for job_id in store.jobs.running_ids():
        outcome = requeue(store, settings, job_id)
        if outcome is RequeueOutcome.REQUEUED:
            log.warning("job %s: its worker stopped answering; requeued", job_id)
        elif outcome is RequeueOutcome.LOST:
            log.error(
                "job %s: its worker was lost %d times; failed as worker_lost", job_id, settings.max_attempts
            )
        if outcome in (RequeueOutcome.REQUEUED, RequeueOutcome.LOST):
            done.append((job_id, outcome))
    pay_owed_enqueues(store, settings)
    return done


class Heartbeat(threading.Thread):
    """The daemon thread described in the module docstring."""

    def __init__(self, store: Store, settings: Settings) -> None:
        super().__init__(name="descent-heartbeat", daemon=True)
        self.store = store
        self.settings = settings
        self.stopping = threading.Event()

    def run(self) -> None:
        while True:
            self.beat()
            if self.stopping.wait(self.settings.heartbeat_seconds):
                return

    def beat(self) -> None:
        """One heartbeat: liveness file, the lease of the running job, the worker registry, the
        reaper. The lease comes first and each step fails alone: on a full Redis renewing the lease
        still works (PEXPIRE needs no memory) when other writes are refused."""
        try:
            Path(self.settings.heartbeat_file).touch()
        except OSError as exc:
            log.warning("cannot touch %s: %s", self.settings.heartbeat_file, exc)
        steps: tuple[tuple[str, Callable[[], object]], ...] = (
            ("lease", self.renew),
            ("worker registry", lambda: self.store.ops.beat(WORKER_NAME)),
            ("reaper", lambda: reap(self.store, self.settings)),
        )
        for what, step in steps:
            try:
                step()
            except UNREACHABLE as exc:
                log.warning("heartbeat: redis unreachable (%s)", exc)
                return
            except FULL as exc:
                log.warning("heartbeat: %s not written, redis full (%s)", what, exc)
            except Exception:
                log.exception("heartbeat: %s failed", what)

    def renew(self) -> None:
        """Extend the running job's lease; flag it lost when another worker may own the job now."""
        job_id = CURRENT.get()
        lease_ms = int(self.settings.lease_seconds * 1000)
        if job_id is not None and not self.store.jobs.renew(job_id, WORKER_NAME, lease_ms):
            log.error("job %s: lease lost; another worker may own it now", job_id)
            CURRENT.lost.set()
