"""What the figures share: timing, the engine run as a worker runs it, and the data.

Timings are minima (`best_of`) or medians of repeats; torch peers are timed at their best thread
count. `engine()` calls worker.engine.train() as a worker does: fast paths on and a reporter that
ticks once per chunk of updates, like the worker's.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from descent.settings import Settings
from descent.spec import JobConfig, JobRequest
from worker.engine import Signal, train


class Clock:
    """A reporter that records when training starts and when each epoch ends (batched ticks, like
    the worker's RedisReporter)."""

    batched_ticks = True

    def __init__(self) -> None:
        self.start = 0.0
        self.ends: list[float] = []
        self.points = 0

    def plan(self, **_: Any) -> None:
        self.start = time.perf_counter()

    def train_point(self, *_: Any) -> None:
        self.points += 1

    def train_points(self, steps: Any, *_: Any) -> None:
        self.points += len(steps)

    def dev_point(self, *_: Any) -> None:
        pass

    def epoch_end(self, *_: Any) -> None:
        self.ends.append(time.perf_counter())

    def search_progress(self, *_: Any) -> None:
        pass

    def tick(self) -> Signal:
        return Signal.CONTINUE

    def save_checkpoint(self, *_: Any) -> None:
        pass

    def epoch_seconds(self) -> list[float]:
        marks = [self.start, *self.ends]
        return [b - a for a, b in itertools.pairwise(marks)]


def job_config(raw: dict[str, Any]) -> JobConfig:
    """The config the service would store for the job request `raw` (without its dataset_id)."""
    return JobRequest.model_validate({"dataset_id": "bench", **raw}).resolve(Settings.max_history_points)


def engine(x: np.ndarray, y: np.ndarray, raw: dict[str, Any], fast: bool = True) -> Clock:
    clock = Clock()
    train(x, y, job_config(raw), clock, fast=fast)
    return clock


def seconds(f: Callable[[], Any]) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def best_of(f: Callable[[], Any], repeats: int) -> float:
    return min(seconds(f) for _ in range(repeats))


def best_threads(measure: Callable[[], float]) -> float:
    """A torch peer's time at its best intra-op thread count: 1 or PyTorch's default (on a busy
    machine, or on tiny tensors, one thread can be several times faster)."""
    default = torch.get_num_threads()
    results = []
    for threads in sorted({1, default}):
        torch.set_num_threads(threads)
        try:
            results.append(measure())
        finally:
            torch.set_num_threads(default)
    return min(results)


def linear_data(rows: int, features: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, features), dtype=np.float32) * 2 + 1
    w = rng.uniform(-2, 2, features)
    y = (x @ w + 0.5 + 0.3 * rng.standard_normal(rows)).astype(np.float32)
    return x, y


def mlp_data(rows: int, features: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, features), dtype=np.float32)
    y = (np.sin(x @ rng.uniform(-1, 1, features)) + 0.1 * rng.standard_normal(rows)).astype(np.float32)
    return x, y


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]
