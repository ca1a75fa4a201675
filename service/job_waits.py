"""GET /v1/jobs/{id}?wait=S: the answer is held until the job ends, or S seconds have passed.

Why: a client that wants the result as soon as it exists would otherwise poll every few
milliseconds, and on a small host those polls (the client's and the API's CPU) slow the very
worker they wait for. A waiting request costs no CPU: each API process keeps one Redis
subscription (`keys.JOBS_ENDED`, published by every script that ends a job, descent.store.scripts'
ENDED) on a listener thread, which wakes the requests waiting for that job.

Pub/sub is fire and forget: a message lost while the subscription reconnects would leave a waiter
asleep, so every waiter also reads its job again each RECHECK_SECONDS. Waiting holds one of the
process's threads, so at most DESCENT_MAX_JOB_WAITS requests wait at once per process; one more is
answered at once, with the job as it stands (the answer is the same document either way).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask
from redis import Redis

from descent.store import JobStatus, keys

log = logging.getLogger("descent.api")

MAX_WAIT_SECONDS = 30.0
"""The longest `wait` a request may ask (below a proxy's usual 60 s read timeout)."""
RECHECK_SECONDS = 1.0
"""How often a waiter reads its job itself, in case the message of its end was lost."""
RECONNECT_SECONDS = 0.5
"""The listener's pause between tries while Redis is away."""
WAITED_ROUTE = "/v1/jobs/<job_id>?wait"
"""The latency metric's `route` label of a GET that asked to wait: its seconds are the job's, not
the server's, and would hide the polls' latency under the job route's label."""


class EndWaits:
    """The process's waiters, by job id, and the listener thread that wakes them."""

    def __init__(self, redis: Redis, slots: int) -> None:
        self.redis = redis
        self.slots = threading.BoundedSemaphore(slots) if slots > 0 else None
        self._lock = threading.Lock()
        self._waiting: dict[str, set[threading.Event]] = {}
        self._listener: threading.Thread | None = None
        self._pid = 0

    def wait(self, job_id: str, seconds: float, read: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
        """`read()`'s job once it has ended, or as it stands after `seconds` (at once when no slot is
        free); None when it disappeared meanwhile."""
        if seconds <= 0 or self.slots is None or not self.slots.acquire(blocking=False):
            return read()
        try:
            return self._wait(job_id, time.monotonic() + seconds, read)
        finally:
            self.slots.release()

    def waiting(self, job_id: str) -> int:
        """Requests of this process waiting for the job now."""
        with self._lock:
            return len(self._waiting.get(job_id, ()))

    def _wait(self, job_id: str, deadline: float, read: Callable[[], dict[str, Any] | None]) -> dict[str, Any] | None:
        self._ensure_listener()
        woken = threading.Event()
        with self._lock:
            self._waiting.setdefault(job_id, set()).add(woken)
        try:
            while True:
                job = read()  # after registering: an end published from here on wakes `woken`
                left = deadline - time.monotonic()
                if job is None or JobStatus(job["status"]).ended or left <= 0:
                    return job
                woken.wait(min(left, RECHECK_SECONDS))
                woken.clear()
        finally:
            with self._lock:
                events = self._waiting.get(job_id)
                if events is not None:
                    events.discard(woken)
                    if not events:
                        del self._waiting[job_id]

    def _ensure_listener(self) -> None:
        """Start the listener in this process (gunicorn forks after the app is made: threads do not
        survive a fork, so the pid says whether the thread is this process's)."""
        with self._lock:
            if self._listener is not None and self._pid == os.getpid() and self._listener.is_alive():
                return
            self._pid = os.getpid()
            self._listener = threading.Thread(target=self._listen, name="descent-end-waits", daemon=True)
            self._listener.start()

    def _listen(self) -> None:
        """Subscribe, wake the waiters of each job named, resubscribe after an error (waiters read
        their job themselves meanwhile)."""
        while True:
            try:
                with self.redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    pubsub.subscribe(keys.JOBS_ENDED)
                    while True:
                        message = pubsub.get_message(timeout=RECHECK_SECONDS)
                        if message is not None and message.get("type") == "message":
                            self._wake(message["data"].decode())
            except Exception as exc:  # Redis away, say: try again shortly
                log.debug("job end subscription lost (%s); subscribing again", exc)
                time.sleep(RECONNECT_SECONDS)

    def _wake(self, job_id: str) -> None:
        with self._lock:
            events = list(self._waiting.get(job_id, ()))
        for event in events:
            event.set()


def init_app(app: Flask) -> None:
    """The process's waiters (made before gunicorn forks; the listener starts in each process on
    its first wait)."""
    settings = app.config["SETTINGS"]
    app.extensions["descent.end_waits"] = EndWaits(app.extensions["descent.store"].redis, settings.max_job_waits)


def wait_seconds(raw: str | None) -> float | None:
    """The `wait` query value as seconds (0 to MAX_WAIT_SECONDS, a plain decimal number), None when
    absent; ValueError for anything else."""
    if raw is None:
        return None
    text = raw.strip()
    if not text or not text.replace(".", "", 1).isdigit() or not text.isascii():
        raise ValueError(raw)
    seconds = float(text)
    if seconds > MAX_WAIT_SECONDS:
        raise ValueError(raw)
    return seconds
