"""A worker's start-up and run loop (`python -m worker`, see `worker.__main__`): lower priority,
PyTorch's threads, logging, every training path warmed up, the heartbeat, then RQ's work loop,
started again whenever Redis trouble ends it."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import time
from typing import Any

import torch  # imported up front: a job must not pay for it, and no fork follows
from redis import Redis
from redis.exceptions import RedisError
from rq.exceptions import StopRequested

import worker.tasks  # noqa: F401  (loads the engine before the first job)
from descent.logs import configure as configure_logs
from descent.settings import Settings
from descent.spec import JobConfig
from descent.store import Store, connect
from worker.engine import ListReporter, train
from worker.heartbeat import STOPPING, WORKER_NAME, Heartbeat
from worker.runner import DescentWorker
from worker.warm_path import warm_job_path

log = logging.getLogger("descent.worker")


def warm_up() -> None:
    """Train tiny models once, on every path, so the first real job pays no first-call costs:
    PyTorch's, the fused optimizers' lazy imports, and the compiled kernels (loaded from numba's
    cache, or compiled into it by the first worker: a few seconds, once)."""
    import numpy as np

    from worker.engine import kernels

    kernels.warm_up()
    x = np.array([[1.0], [2.0], [3.0], [4.0]], dtype=np.float32)
    y = np.array([2.0, 4.0, 6.0, 8.0], dtype=np.float32)
    mlp = {"type": "mlp", "hidden": [2]}
    for model, optimizer, fast in (
        ({}, {"type": "gd"}, True),
        ({}, {"type": "sgd"}, True),
        ({}, {"type": "minibatch", "batch_size": 2}, True),
        ({}, {"type": "minibatch", "batch_size": 2}, False),
        (mlp, {"type": "adam", "batch_size": 2}, True),
        (mlp, {"type": "momentum", "batch_size": 2}, True),
        (mlp, {"type": "sgd"}, True),
        (mlp, {"type": "adam", "batch_size": 2}, False),
    ):
        raw = {"optimizer": optimizer, "epochs": 2, "tolerance": 0, **({"model": model} if model else {})}
        config = JobConfig.model_validate({"dataset_id": "warm-up", **raw})
        train(x, y, config, ListReporter(batched_ticks=True), fast=fast)


def lower_priority(nice: int) -> None:
    """Raise this process's niceness by `nice` before any other thread exists (0: leave it).

    Training is throughput work and polls are latency work: on a host shared with the API, the API
    gets the CPU first (Settings.worker_nice). Threads made later (PyTorch's, the heartbeat) inherit
    the main thread's value."""
    if nice > 0:
        os.nice(nice)


def stop_before_rq(signum: int, frame: Any) -> None:
    """SIGTERM before RQ's first work loop has installed its own handler (the warm-up, RQ's
    registration; RQ leaves its handler in place after a loop ends): note the stop. Python's
    default would kill the worker (exit -15, seen when `docker compose stop` came during start-up);
    with STOPPING set, the start-up goes on, RQ's loop ends at its first take
    (`FairQueue.dequeue_any`) and `serve` returns."""
    STOPPING.set()


RESTART_PAUSE_SECONDS = (1.0, 2.0, 5.0)
"""Pauses before RQ's work loop starts again after it ended on an error (the last one repeats)."""


def serve(settings: Settings, redis: Redis, name: str | None, burst: bool) -> None:
    """Run RQ's work loop until the worker is told to stop, starting it again when an error ends it.

    RQ retries only the blocking pop: Redis going away while the loop does anything else (marking
    the worker idle after a job, its maintenance, a heartbeat) ends the loop, and the worker with it.
    Here the loop waits until Redis answers and starts again under a fresh RQ worker, so a Redis
    restart never costs a worker. Jobs are safe meanwhile: a job whose end could not be recorded
    keeps its lease only until it expires, then the reaper resumes it from its checkpoint. A full
    Redis ends no loop: RQ's writes wait for room in place (`worker.runner`, `worker.room`)."""
    failures = 0
    while True:
        worker = DescentWorker([settings.queue_name], connection=redis, name=name, test_hooks=settings.test_hooks)
        started = time.monotonic()
        try:
            worker.work(burst=burst, logging_level="INFO")
        except RedisError as exc:  # RQ's teardown after the error could not reach Redis either
            log.warning("worker %s: teardown failed (%s)", worker.name, exc)
        except StopRequested:  # told to stop while its registration waited for room (worker.room)
            return
        if burst or STOPPING.is_set():
            return
        failures = 1 if time.monotonic() - started > 60 else failures + 1
        pause = RESTART_PAUSE_SECONDS[min(failures, len(RESTART_PAUSE_SECONDS)) - 1]
        log.warning(
            "worker %s: RQ's work loop ended early; starting it again once Redis answers", worker.name
        )
        try:
            while not STOPPING.wait(pause):
                try:
                    redis.ping()
                    worker.register_death()  # lets a fixed --name register again
                    break
                except RedisError as exc:  # unreachable, or full (OOM: registering needs a write)
                    log.warning("worker %s: redis not ready (%s)", worker.name, exc)
            else:
                return
        except StopRequested:  # SIGTERM, through RQ's handler, while waiting here
            return


def main(settings: Settings, argv: list[str] | None = None) -> int:
    """`python -m worker [--burst] [--name NAME]` with `settings` (read before numba was imported)."""
    parser = argparse.ArgumentParser(prog="python -m worker", description="A descent training worker.")
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--name", default=None, help="worker name (default: RQ's)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, stop_before_rq)
    lower_priority(settings.worker_nice)
    if settings.torch_threads > 0:
        torch.set_num_threads(settings.torch_threads)
    configure_logs(settings.log_format, settings.log_level)
    warm_up()
    redis = connect(settings.redis_url, socket_timeout=None)
    warm_job_path(redis)
    heartbeat = Heartbeat(Store(redis, settings.retention_seconds), settings)
    heartbeat.start()
    try:
        serve(settings, redis, args.name, args.burst)
    finally:
        heartbeat.stopping.set()
        try:
            heartbeat.store.ops.forget(WORKER_NAME)
        except Exception:  # Redis may be gone; the entry ages out of /readyz by itself
            log.warning("could not deregister %s", WORKER_NAME)
    return 0
