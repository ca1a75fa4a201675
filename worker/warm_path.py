"""The rest of a job's path, warmed before the first job: what `start.warm_up` (training itself)
leaves cold.

Why: a worker's first job also paid for Redis loading the store's Lua scripts (each first call is
refused with NOSCRIPT, then loaded and sent again: two more round trips per script), for Python
compiling the pattern RQ reads its records' timestamps with (`strptime`'s, on its first use), for the
first preprocessing of a table and the first result built from a training run, for RQ asking Redis
its version, for the settings and store every job uses (`tasks.process_store`), and for opening the
connections a job uses at once (its loop, the heartbeat, the reporter's writes). `warm_job_path`
does each once, on a small in-memory table; it writes nothing to Redis but the scripts (loading one
is idempotent).
"""

from __future__ import annotations

import logging
import time

import numpy as np
from redis import Redis
from redis.exceptions import RedisError
from rq.utils import now as utcnow
from rq.utils import utcformat, utcparse

from descent.queue import ask_server_version
from descent.spec import JobConfig
from descent.store import scripts
from descent.table import Column, Table
from worker.engine import ListReporter, train
from worker.prepare import prepare
from worker.tasks import process_store, result

log = logging.getLogger("descent.worker")

WARM_ROWS = 256
JOB_CONNECTIONS = 3
"""Connections opened into the client's pool ahead of the first job (each first one costs a
connect and redis-py's set-up, ~0.6 ms)."""


def warm_job_path(redis: Redis) -> None:
    """`warm`, logged; a Redis not up yet leaves only the scripts to the first job."""
    try:
        log.info("job path warmed up in %.0f ms", warm(redis) * 1e3)
    except RedisError as exc:
        log.warning("job path not warmed up: redis unreachable (%s)", exc)


def warm(redis: Redis) -> float:
    """Load the store's scripts into Redis and run a small table through prepare, train and
    result; returns the seconds it took."""
    started = time.perf_counter()
    utcparse(utcformat(utcnow()))  # as RQ's `Job.restore` reads a popped job's timestamps
    table = _table()
    config = JobConfig.model_validate(
        {"dataset_id": "warm-up", "optimizer": {"type": "sgd", "lr": 0.01}, "epochs": 1, "tolerance": 0}
    )
    data = prepare(table, config)
    out = train(data.x, data.y, config, ListReporter(batched_ticks=True), rows=data.rows)
    result(out, data)
    process_store(redis)  # the settings and the store every job of this worker uses
    scripts.load_all(redis)  # last: without Redis, the rest is warm all the same
    ask_server_version(redis)
    open_connections(redis, JOB_CONNECTIONS)
    return time.perf_counter() - started


def open_connections(redis: Redis, count: int) -> None:
    """`count` connections of `redis`'s pool opened and handed back, idle, for the first job."""
    pool = redis.connection_pool
    opened = [pool.get_connection() for _ in range(count)]
    for connection in opened:
        pool.release(connection)


def _table() -> Table:
    """Two number features (one with a missing cell), a category and a number target."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((WARM_ROWS, 2)).astype(np.float32)
    x[0, 0] = np.nan
    codes = (np.arange(WARM_ROWS) % 3).astype(np.int32)
    y = (x[:, 1] * 2 + codes).astype(np.float32)
    columns = (
        Column("a", "number", x[:, 0].copy()),
        Column("b", "number", x[:, 1].copy()),
        Column("colour", "category", codes, labels=("red", "green", "blue")),
        Column("y", "number", y),
    )
    return Table(columns, "y", WARM_ROWS)
