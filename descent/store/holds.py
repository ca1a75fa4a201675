"""Holds: a test's way to keep a running job at a step until it says go on.

Why: tests of cancel, kill, suspend and Redis restarts need a job that is still running when they
act. Betting on a job's size fails on a machine fast enough to finish it first; a hold makes
"still running" a fact the test controls. Only workers started with DESCENT_TEST_HOOKS=1 read
holds (Settings.test_hooks, off by default): a deployment never does. A hold expires by itself,
so a test that dies holding does not hold anything for long.
"""

from __future__ import annotations

from redis import Redis

from . import keys

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
