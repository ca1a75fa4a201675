"""Holds: a test's way to keep a running job at a step until it says go on.

Why: tests of cancel, kill, suspend and Redis restarts need a job that is still running when they
act. Betting on a job's size fails on a machine fast enough to finish it first; a hold makes
"still running" a fact the test controls. Only workers started with DESCENT_TEST_HOOKS=1 read
holds (Settings.test_hooks, off by default): a deployment never does. A hold expires by itself,
so a test that dies holding does not hold anything for long.

Phase holds keep a job at a point of its life rather than a step: "start" (the worker has popped it
and written nothing yet) and "end" (its end is written, RQ's own records of it are not), where a
test fills Redis to see what a worker does when the next write is refused. Workers only read them.
"""

from __future__ import annotations

from redis import Redis

from . import keys

PHASES = ("start", "end")
"""The points of a job's life a phase hold can keep it at."""

HOLD_SECONDS = 600
"""How long a hold lives unless released."""


class HoldStore:
    """Per dataset: jobs on it stop at the first tick at or after `step` until the hold is released."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def hold(self, dataset_id: str, step: int) -> None:
        """Hold jobs on `dataset_id` that start from now on, once they reach `step`."""
        self.redis.set(keys.test_hold(dataset_id), step, ex=HOLD_SECONDS)

    def release(self, dataset_id: str) -> None:
        """Let held jobs go on (and later ones run freely)."""
        self.redis.delete(keys.test_hold(dataset_id))

    def step(self, dataset_id: str) -> int | None:
        """The step at which jobs on the dataset are held; None when there is no hold."""
        value = self.redis.get(keys.test_hold(dataset_id))
        return None if value is None else int(value)

    def hold_phase(self, dataset_id: str, phase: str) -> None:
        """Hold jobs on `dataset_id` at `phase` (one of PHASES) until `release_phase`."""
        if phase not in PHASES:
            raise ValueError(f"no such phase {phase!r}: one of {PHASES}")
        self.redis.set(keys.test_hold_phase(dataset_id, phase), 1, ex=HOLD_SECONDS)

    def release_phase(self, dataset_id: str, phase: str) -> None:
        self.redis.delete(keys.test_hold_phase(dataset_id, phase))

    def phase_held(self, job_id: str, phase: str) -> bool:
        """Whether the job `job_id` is held at `phase` (its dataset is): reads only."""
        dataset_id = self.redis.hget(keys.job(job_id), "dataset_id")
        return dataset_id is not None and bool(self.redis.exists(keys.test_hold_phase(dataset_id.decode(), phase)))
