"""A running job's writes: the history's layout, its points, progress and checkpoint in one atomic
flush, and the history trimmed or dropped when an attempt resumes or starts over.

Why apart from jobs.py: these are the worker's hot path (a flush per logging window), with their
own format concerns (records.py's train formats, large writes staged beside the script).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NamedTuple

from redis import Redis
from redis.client import Pipeline

from . import keys, scripts
from .records import DEV_POINT, TRAIN_FORMAT, TRAIN_FORMATS

STAGE_BYTES = 64 * 1024
"""Train points from this size on are written by a plain SET beside the flush script (FLUSH in
scripts.py), not as its argument: Lua copies a large argument more than once."""
ROOM_BYTES = STAGE_BYTES
"""A staged write onto a history no longer than this is sent with that many blank bytes in front:
the script copies the history into them and renames the staged key into place, instead of moving
megabytes through Lua to append them. The case: a job whose first flush came before most of its
updates (a slow set-up: a cold worker, a learning-rate range test, a large dataset's first load)
and whose last brings the rest; 100k points (1.6 MB) onto 16 took the script 6.4 ms, now 1.2."""
STAGED_SECONDS = 60
"""Expiry of a staged write: the script deletes it in the same transaction; this only bounds a
mistake."""


class Flushed(NamedTuple):
    """What a flush found: a cancel request, whether the job is still the writer's, the histories'
    byte lengths after the write (train, dev), and bytes of acknowledged writes that Redis lost in
    a crash before this one (train, dev; they leave a gap in the history); the answers of the
    commands queued after it (`then`)."""

    cancel: bool
    mine: bool
    written: tuple[int, int]
    lost: tuple[int, int]
    then: tuple[Any, ...] = ()


class ProgressWrites:
    """The history and checkpoint writes of JobStore (its base: `store.jobs.flush(...)`)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._flush = scripts.KeyedScript(redis, scripts.FLUSH)

    def plan(
        self,
        job_id: str,
        log_every: int,
        steps_per_epoch: int,
        config: dict[str, Any],
        train_format: int = TRAIN_FORMAT,
    ) -> int:
        """Record how the history is laid out (the readers need it: its windows, its epochs, the
        format of its train records) and the config as run; one round trip. Returns the format the
        history is in: `train_format`, unless an earlier attempt of the job chose one already (its
        points are kept on a resume, and a history is in one format)."""
        job = keys.job(job_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hsetnx(job, "train_format", train_format)
        pipe.hset(job, mapping={"log_every": log_every, "steps_per_epoch": steps_per_epoch, "config": json.dumps(config)})
        pipe.hget(job, "train_format")
        return int(pipe.execute()[-1])

    def flush(
        self,
        job_id: str,
        train: bytes,
        dev: bytes,
        progress: dict[str, Any] | None,
        metrics: dict[str, Any] | None,
        checkpoint: bytes | None = None,
        worker: str = "",
        written: tuple[int, int] = (-1, -1),
        then: Callable[[Pipeline], None] | None = None,
    ) -> Flushed:
        """Append points, update progress and save a checkpoint in one atomic round trip.

        With `worker`, nothing is written unless the job is still running on that worker.
        `written`: the byte lengths the writer believes the train and dev histories have (what
        Redis acknowledged to it); a write sent again after its answer was lost is then not
        appended twice (-1: no such check). `then` queues more commands after the flush, in its
        transaction (a job's end: `JobStore.queue_transition`); their answers are `Flushed.then`.
        """
        names = {
            "job": keys.job(job_id),
            "train": keys.job_train_history(job_id),
            "dev": keys.job_dev_history(job_id),
            "checkpoint": keys.job_checkpoint(job_id),
        }
        staged = len(train) >= STAGE_BYTES
        room = written[0] if staged and 0 < written[0] <= ROOM_BYTES else 0
        args = [
            worker,
            b"" if staged else memoryview(train),  # sent as it is, not copied into the command (packing.py)
            memoryview(dev),
            json.dumps(progress) if progress is not None else "",
            json.dumps(metrics) if metrics is not None else "",
            checkpoint or b"",
            "1" if progress is not None else "0",
            "1" if metrics is not None else "0",
            "1" if checkpoint is not None else "0",
            written[0],
            written[1],
            "1" if staged else "0",
            room,
        ]
        rest: list[Any] = []
        if staged or then is not None:
            pipe = self.redis.pipeline(transaction=True)
            if staged:  # a plain SET takes megabytes without Lua's copies; the script moves them
                names["staged"] = keys.job_train_staged(job_id)
                if room:  # blank bytes, then the points appended: copied once, by Redis
                    pipe.set(names["staged"], bytes(room), ex=STAGED_SECONDS)
                    pipe.append(names["staged"], memoryview(train))
                else:
                    pipe.set(names["staged"], memoryview(train), ex=STAGED_SECONDS)
            self._flush(keys=names, args=args, client=pipe)
            if then is not None:
                then(pipe)
            answers = pipe.execute()[int(staged) + int(room > 0) :]
            answer, rest = answers[0], answers[1:]
        else:
            answer = self._flush(keys=names, args=args)
        cancel, mine, train_bytes, dev_bytes, train_gap, dev_gap = answer
        written_now, lost = (int(train_bytes), int(dev_bytes)), (int(train_gap), int(dev_gap))
        return Flushed(bool(cancel), bool(mine), written_now, lost, tuple(rest))

    def reset_history(self, job_id: str) -> None:
        """Drop points of an earlier attempt that ended before it could finish."""
        self.redis.delete(keys.job_train_history(job_id), keys.job_dev_history(job_id))

    def truncate_history(self, job_id: str, train_points: int, dev_points: int) -> None:
        """Keep the first points only: those a checkpoint had seen written (no duplicates on resume)."""
        train_format = int(self.redis.hget(keys.job(job_id), "train_format") or 1)
        for key, count, size in (
            (keys.job_train_history(job_id), train_points, TRAIN_FORMATS[train_format].itemsize),
            (keys.job_dev_history(job_id), dev_points, DEV_POINT.itemsize),
        ):
            kept = self.redis.getrange(key, 0, count * size - 1) if count else b""
            pipe = self.redis.pipeline(transaction=True)
            pipe.delete(key)
            if kept:
                pipe.set(key, kept)
            pipe.execute()
