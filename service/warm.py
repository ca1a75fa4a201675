"""An API process's warm-up: the first upload it serves costs what the next ones do.

Why after the fork: gunicorn imports the app in its master (preload) and forks the serving
processes, and threads do not survive a fork — the upload's thread pool (tables/threads.py) and
Arrow's own threads start in each serving process, on its first upload, with Arrow's first-call
set-up (CSV reader, compute kernels) and the first column summaries. `warm_up` does all of that
once, on a small in-memory table, before the process takes its first request (gunicorn's
`post_worker_init`, service/server.py); and it validates a job request, loads the store's Lua
scripts into Redis (whose first call would be refused with NOSCRIPT, loaded and sent again) and
asks Redis the version RQ's first enqueue would ask. Nothing else is written to Redis. The
compiled kernels themselves are compiled (or loaded from NUMBA_CACHE_DIR) when column_stats is
imported, in the master.
"""

from __future__ import annotations

import contextlib
import io
import threading
import time

import numpy as np
from redis import Redis
from redis.exceptions import RedisError

from descent.queue import ask_server_version
from descent.settings import Settings
from descent.store import scripts

from .tables import describe, read_options, read_upload
from .tables.threads import CORES, POOL
from .validation import parse_job_request

WARM_ROWS = 2_000
"""Rows of the warm-up table: enough that each reader and summary path runs as it does on an upload."""


def warm_up(settings: Settings, redis: Redis | None = None) -> float:
    """Start the upload threads, read and describe a small CSV and Parquet file, validate a job
    request, and load the store's scripts into `redis` (when given and reachable); returns seconds."""
    started = time.perf_counter()
    _start_threads()
    for fmt, data in (("csv", _csv()), ("parquet", _parquet())):
        describe(read_upload(data, fmt, read_options({}), settings))
    request, errors = parse_job_request({"dataset_id": "warm-up", "optimizer": {"type": "sgd", "lr": 0.01}})
    if request is None or errors:
        raise RuntimeError(f"the warm-up's job request is not valid: {errors}")
    request.resolve(settings.max_history_points)
    if redis is not None:
        with contextlib.suppress(RedisError):  # Redis not up yet: the first requests load them
            scripts.load_all(redis)
            ask_server_version(redis)
    return time.perf_counter() - started


def _start_threads() -> None:
    """Every thread of the upload pool, started now: CORES tasks that wait for one another each
    hold a thread of their own (the pool starts a thread per task while none is idle)."""
    barrier = threading.Barrier(CORES, timeout=10)
    for done in [POOL.submit(barrier.wait) for _ in range(CORES)]:
        done.result()


def _columns() -> dict[str, np.ndarray]:
    """Numbers with a missing cell, a category and a number target: each summary kind."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((WARM_ROWS, 3)).astype(np.float32)
    x[0, 0] = np.nan
    return {
        "a": x[:, 0],
        "b": x[:, 1],
        "c": x[:, 2],
        "colour": np.array(["red", "green", "blue", "grey"])[np.arange(WARM_ROWS) % 4],
        "y": (x[:, 1] * 2).astype(np.float32),
    }


def _csv() -> bytes:
    columns = _columns()
    lines = [",".join(columns)]
    rows = zip(*(c.tolist() for c in columns.values()), strict=True)
    lines += [",".join("" if isinstance(v, float) and v != v else str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _parquet() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(pa.table(_columns()), sink)
    return sink.getvalue()
