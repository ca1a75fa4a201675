"""Turns the engine's callbacks into batched Redis writes and cancel checks.

The engine calls `tick()` after every update; this reporter touches Redis only when `flush_seconds`
have passed, so a job with a million updates makes a few round trips per second, not a million.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis.exceptions

from descent.store import Store
from descent.store.records import encode_dev, encode_train

log = logging.getLogger("descent.worker")


class RedisReporter:
    """Buffers history points and progress; one pipelined write per flush, which also reads cancel."""

    def __init__(self, store: Store, job_id: str, config: dict[str, Any], flush_seconds: float) -> None:
        self.store = store
        self.job_id = job_id
        self.config = config
        self.flush_seconds = flush_seconds
        self.train: list[tuple[int, int, float, float]] = []
        self.dev: list[tuple[int, int, float]] = []
        self.progress: dict[str, Any] = {
            "epoch": 0,
            "epochs": config.get("epochs", 0),
            "step": 0,
            "fraction": 0.0,
        }
        self.metrics: dict[str, Any] = {}
        self.total_steps = 0
        self.cancelled = False
        self._dirty = False
        self._last_flush = time.monotonic()

    # -- engine callbacks ------------------------------------------------------------------------
    def plan(
        self, *, epochs: int, steps_per_epoch: int, log_every: int, total_steps: int, lr: float | None = None
    ) -> None:
        """Record the history layout, and the learning rate actually used (it may have been "auto")."""
        self.total_steps = total_steps
        self.progress["epochs"] = epochs
        self.config = {**self.config, "log_every": log_every}
        if lr is not None:
            self.config["optimizer"] = {**self.config["optimizer"], "lr": lr}
        self.store.jobs.plan(self.job_id, log_every, steps_per_epoch, self.config)

    def train_point(self, step: int, epoch: int, loss: float, smoothed: float) -> None:
        self.train.append((step, epoch, loss, smoothed))
        self.progress["step"] = step
        self.progress["fraction"] = step / self.total_steps if self.total_steps else 0.0
        self._dirty = True

    def dev_point(self, step: int, epoch: int, loss: float) -> None:
        self.dev.append((step, epoch, loss))
        self._dirty = True

    def epoch_end(self, epoch: int, step: int, metrics: dict[str, Any]) -> None:
        self.progress.update(epoch=epoch, step=step)
        self.progress["fraction"] = step / self.total_steps if self.total_steps else 0.0
        self.metrics = dict(metrics)
        self._dirty = True

    def search_progress(self, done: int, total: int) -> None:
        self.progress.update(step=done, fraction=done / total if total else 1.0)
        self._dirty = True

    def tick(self) -> bool:
        if time.monotonic() - self._last_flush >= self.flush_seconds:
            self.flush()
        return self.cancelled

    # -- writes ----------------------------------------------------------------------------------
    def flush(self, required: bool = False) -> None:
        """Write what is buffered (or just poll for a cancel) in one round trip.

        While Redis is unreachable training goes on and the points stay buffered for the next try;
        only a `required` flush (the last one of a job) lets the connection error out.
        """
        train = encode_train(self.train) if self.train else b""
        dev = encode_dev(self.dev) if self.dev else b""
        dirty = self._dirty
        try:
            self.cancelled, _lease = self.store.jobs.flush(
                self.job_id,
                train,
                dev,
                self.progress if dirty else None,
                self.metrics if dirty else None,
            )
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            if required:
                raise
            log.warning(
                "job %s: redis unreachable (%s); keeping %d points buffered",
                self.job_id,
                exc,
                len(self.train),
            )
            self._last_flush = time.monotonic()
            return
        self.train.clear()
        self.dev.clear()
        self._dirty = False
        self._last_flush = time.monotonic()
