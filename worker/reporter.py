"""Turns the engine's callbacks into batched Redis writes, cancel checks and checkpoints.

The engine calls `tick()` after every update. This reporter touches Redis only when `flush_seconds`
have passed (a job with a million updates makes a few round trips per second, not a million), asks
for a checkpoint every `checkpoint_seconds`, and asks the engine to suspend when the worker is told
to stop. Points and a checkpoint are written in one transaction, so a resumed job continues exactly
after the points its checkpoint had seen. With DESCENT_TEST_HOOKS=1 (test suites only) it also
honours a test's hold (descent.store.holds): the job checkpoints once at the held step, then waits,
still flushing and answering cancel and stop requests, until the test releases it.

Redis unreachable or full (descent.store.trouble) stops no job: the points stay buffered, training
goes on, and the next flush writes them all (the first refusal of a streak is logged, and the write
that ends it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from redis.client import Pipeline

from descent.search import Pruning
from descent.settings import Settings
from descent.store import Store
from descent.store.records import (
    DEV_POINT,
    TRAIN_FORMAT,
    TRAIN_FORMATS,
    encode_dev,
    encode_points,
    train_format,
    train_point_arrays,
    train_points,
)
from descent.store.trouble import PASSING, describe
from worker.engine import Signal
from worker.heartbeat import CURRENT, STOPPING, WORKER_NAME

log = logging.getLogger("descent.worker")


class RedisReporter:
    """Buffers history points and progress; one pipelined write per flush, which also reads cancel.

    `batched_ticks`: tick() only acts on the clock (flush, checkpoint) and on flags (cancel, stop),
    so the engine's compiled path may call it once per few milliseconds of updates.
    """

    batched_ticks = True

    def __init__(self, store: Store, job_id: str, config: dict[str, Any], settings: Settings) -> None:
        self.store = store
        self.job_id = job_id
        self.config = config
        self.flush_seconds = settings.flush_seconds
        self.checkpoint_seconds = settings.checkpoint_seconds
        self.train: list[tuple[int, int, float, float, float]] = []
        self.train_blocks: list[np.ndarray] = []
        """Points from train_points, in order, all before those of `train`: records in the history's
        format once it is known (`train_format`), TRAIN_POINT records before; `encode_points` writes
        either in the history's format when flushed."""
        self._last_step: int | None = None
        """The step of the last point buffered (compact records do not hold it; `_hold_back`)."""
        self.train_format: int | None = None
        """The format the job's history is written in, once the plan is written (records.py)."""
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
        self.lease_lost = False
        """Another worker took the job (this one stalled past its lease): stop, write nothing more."""
        self._dirty = False
        self._last_flush = self._last_checkpoint = time.monotonic()
        self.written = (0, 0)
        """Byte lengths of the train and dev histories in Redis as this reporter knows them (an
        attempt starts with an empty history, or one cut back to its checkpoint: `history_from`)."""
        self._from = (0, 0)
        """The points (train, dev) this attempt's history starts with (bytes once the format is known)."""
        self.hold_at = store.holds.step(config["dataset_id"]) if settings.test_hooks else None
        """Tests only: the step at which this job waits until its hold is released."""
        self._hold_checkpointed = False
        self.pruning: Pruning | None = None
        """A search's trial with a pruner: where each epoch's dev loss is reported (tasks.py)."""
        self._plan: tuple[int, int, dict[str, Any]] | None = None
        """The history's layout while Redis has not taken it yet (written before any point)."""
        self._refused_since: float | None = None
        """When Redis began refusing this reporter's writes (None: the last write went through)."""
        self.pending_checkpoint: bytes | None = None
        """The newest checkpoint Redis refused (full or away), for a stopping worker's hand-back."""

    def history_from(self, train_points: int, dev_points: int) -> None:
        """The history this attempt continues: the points a resumed checkpoint had seen."""
        self._from = (train_points, dev_points)

    # -- engine callbacks ------------------------------------------------------------------------
    def plan(
        self, *, epochs: int, steps_per_epoch: int, log_every: int, total_steps: int, lr: float | None = None
    ) -> None:
        """Record the history layout, and the learning rate actually used (it may have been "auto")."""
        self.total_steps = total_steps
        self.steps_per_epoch = steps_per_epoch
        self.progress["epochs"] = epochs
        self.config = {**self.config, "log_every": log_every}
        if lr is not None:
            self.config["optimizer"] = {**self.config["optimizer"], "lr": lr}
        self._plan = (log_every, steps_per_epoch, self.config, train_format(self.config))
        try:
            self._write_plan()
        except PASSING as exc:
            self._refused(exc, "the history's layout")

    def _write_plan(self) -> None:
        """The layout readers need before any point; kept for the next flush if Redis refuses it."""
        if self._plan is not None:
            self.train_format = self.store.jobs.plan(self.job_id, *self._plan)
            self._plan = None
            self.written = (self._from[0] * self._train_size(), self._from[1] * DEV_POINT.itemsize)

    def train_point(self, step: int, epoch: int, loss: float, smoothed: float, lr: float) -> None:
        self.train.append((step, epoch, loss, smoothed, lr))
        self._last_step = step
        self.progress["step"] = step
        self.progress["fraction"] = step / self.total_steps if self.total_steps else 0.0
        self._dirty = True

    def train_points(self, steps: Any, epoch: int, losses: Any, smoothed: Any, lr: float) -> None:
        """Several points at once (numpy arrays), kept as records until the flush writes them: in
        the history's format when it is known (100k compact points: no 3.6 MB of full records to
        join and re-encode at the job's end)."""
        if self.train:
            self.train_blocks.append(train_points(self.train))
            self.train.clear()
        self.train_blocks.append(
            train_point_arrays(steps, epoch, losses, smoothed, lr, self.train_format or TRAIN_FORMAT)
        )
        step = self._last_step = int(steps[-1])
        self.progress["step"] = step
        self.progress["fraction"] = step / self.total_steps if self.total_steps else 0.0
        self._dirty = True

    def dev_point(self, step: int, epoch: int, loss: float) -> None:
        self.dev.append((step, epoch, loss))
        self._dirty = True

    def epoch_end(self, epoch: int, step: int, metrics: dict[str, Any]) -> bool:
        """The live metrics; for a search's trial with a pruner, the epoch's dev loss reported to
        its study and the pruner's verdict returned (a failure to reach it never stops training)."""
        self.progress.update(epoch=epoch, step=step)
        self.progress["fraction"] = step / self.total_steps if self.total_steps else 0.0
        self.metrics = dict(metrics)
        self._dirty = True
        if self.pruning is None:
            return False
        value = metrics.get("dev_loss")
        try:
            return self.pruning.should_stop(epoch, metrics.get("train_loss") if value is None else value)
        except Exception:
            log.exception("job %s: the search's pruner could not be asked; training goes on", self.job_id)
            return False

    def search_progress(self, done: int, total: int) -> None:
        self.progress.update(step=done, fraction=done / total if total else 1.0)
        self._dirty = True

    def tick(self) -> Signal:
        now = time.monotonic()
        if now - self._last_flush >= self.flush_seconds:
            self.flush()
        signal = self._signal(now)
        if signal == Signal.CONTINUE and self.hold_at is not None and self.progress["step"] >= self.hold_at:
            return self._held()
        return signal

    def _signal(self, now: float) -> Signal:
        """Cancel (or a lost lease), then a stop request, then a checkpoint that is due."""
        if self.cancelled or self.lease_lost or CURRENT.lost.is_set():
            self.lease_lost = self.lease_lost or CURRENT.lost.is_set()
            return Signal.CANCEL
        if STOPPING.is_set():
            return Signal.SUSPEND
        if now - self._last_checkpoint >= self.checkpoint_seconds:
            return Signal.CHECKPOINT
        return Signal.CONTINUE

    def _held(self) -> Signal:
        """A test's hold (DESCENT_TEST_HOOKS; descent.store.holds): checkpoint once, then wait,
        flushing and answering cancel and stop requests as usual, until the hold is released."""
        if not self._hold_checkpointed:
            self._hold_checkpointed = True
            return Signal.CHECKPOINT
        while True:
            self.flush()
            signal = self._signal(time.monotonic())
            if signal in (Signal.CANCEL, Signal.SUSPEND):
                return signal
            if not self._still_held():
                self.hold_at = None
                return Signal.CONTINUE
            STOPPING.wait(self.flush_seconds)

    def _still_held(self) -> bool:
        try:
            return self.store.holds.step(self.config["dataset_id"]) is not None
        except PASSING:
            return True

    def save_checkpoint(self, data: bytes, train_points: int, dev_points: int) -> None:
        """Write the buffered points and the checkpoint together (or keep going without, if Redis is
        away). The buffer holds exactly the points up to the counts, which the engine emitted first."""
        self._last_checkpoint = time.monotonic()
        try:
            self.flush(required=True, checkpoint=data)
        except PASSING as exc:
            self.pending_checkpoint = data
            self._refused(exc, "the checkpoint (not saved) and the points")

    # -- writes ----------------------------------------------------------------------------------
    def _refused(self, exc: Exception, kept: str) -> None:
        """Redis refused a write that can wait: say so once per streak, not at every flush."""
        if self._refused_since is None:
            self._refused_since = time.monotonic()
            log.warning("job %s: redis %s (%s); keeping %s buffered", self.job_id, describe(exc), exc, kept)
        else:
            log.debug("job %s: redis still %s; keeping %s buffered", self.job_id, describe(exc), kept)

    def _hold_back(self, count: int) -> int:
        """1 when the last of the `count` buffered train points ends an epoch whose dev point is not
        written yet, else 0.

        The engine emits an epoch's last train point before that epoch's dev point. A reader who saw
        the train point first would move `next` past the dev point's step and never get it; so
        that train point waits for the next flush, which carries the dev point too.
        """
        spe = getattr(self, "steps_per_epoch", 0)
        step = self._last_step
        if not count or step is None or not spe or not self.config.get("split", {}).get("dev"):
            return 0
        return 0 if step % spe or any(d[0] == step for d in self.dev) else 1

    def _train_size(self) -> int:
        """Bytes of one train record in the history's format."""
        return TRAIN_FORMATS[self.train_format or TRAIN_FORMAT].itemsize

    def flush(
        self,
        required: bool = False,
        checkpoint: bytes | None = None,
        then: Callable[[Pipeline], None] | None = None,
    ) -> tuple[Any, ...]:
        """Write what is buffered (or just poll for a cancel) in one round trip; returns the
        answers of the commands `then` queued after it, in its transaction (a job's end).

        While Redis is unreachable or full training goes on and the points stay buffered for the
        next try; only a `required` flush (the last one of a job, or one carrying a checkpoint)
        raises.
        """
        blocks = [*self.train_blocks, train_points(self.train)] if self.train else list(self.train_blocks)
        count = sum(len(block) for block in blocks)
        held = 0 if required or checkpoint is not None else self._hold_back(count)
        kept = blocks[-1][-held:] if held else None
        if held:
            blocks[-1] = blocks[-1][:-held]
        dev = encode_dev(self.dev) if self.dev else b""
        dirty = self._dirty
        try:
            self._write_plan()  # first: the history's format comes with it
            train_format = self.train_format or TRAIN_FORMAT
            flushed = self.store.jobs.flush(
                self.job_id,
                b"".join(encode_points(block, train_format) for block in blocks if len(block)),
                dev,
                self.progress if dirty else None,
                self.metrics if dirty else None,
                checkpoint,
                worker=WORKER_NAME,
                written=self.written,
                then=then,
            )
        except PASSING as exc:
            if required:
                raise
            self._refused(exc, f"{count} points")
            self._last_flush = time.monotonic()
            return ()
        if checkpoint is not None:
            self.pending_checkpoint = None
        if self._refused_since is not None:
            log.warning(
                "job %s: redis takes writes again after %.1fs; buffered points written",
                self.job_id,
                time.monotonic() - self._refused_since,
            )
            self._refused_since = None
        self.cancelled, mine, self.written = flushed.cancel, flushed.mine, flushed.written
        if any(flushed.lost):
            log.error(
                "job %s: redis lost %d train and %d dev points it had acknowledged (a crash within its "
                "fsync window); the history has a gap there",
                self.job_id,
                flushed.lost[0] // self._train_size(),
                flushed.lost[1] // DEV_POINT.itemsize,
            )
        if not mine:
            log.error("job %s: no longer this worker's (its lease expired); stopping", self.job_id)
            self.lease_lost = True
        self.train.clear()
        self.train_blocks.clear()
        if kept is not None:
            self.train_blocks.append(kept)
        self.dev.clear()
        self._dirty = False
        self._last_flush = time.monotonic()
        return flushed.then
