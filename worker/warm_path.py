"""The rest of a job's path, warmed before the first job: what `start.warm_up` (training itself)
leaves cold.

Why: a worker's first job also paid for Redis loading the store's Lua scripts (each first call is
refused with NOSCRIPT, then loaded and sent again: two more round trips per script), for Python
compiling the pattern that reads the store's timestamps, and for the first preprocessing of a
table and the first result built from a training run. `warm_job_path` does each once, on a small
in-memory table; it writes nothing to Redis but the scripts (loading one is idempotent).
"""

from __future__ import annotations

import logging
import time

import numpy as np
from redis import Redis
from redis.exceptions import RedisError

from descent.spec import JobConfig
from descent.store import scripts
from descent.store.records import now, seconds_since
from descent.table import Column, Table
from worker.engine import ListReporter, train
from worker.prepare import prepare
from worker.tasks import result

log = logging.getLogger("descent.worker")

WARM_ROWS = 256


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
    seconds_since(now())
    table = _table()
    config = JobConfig.model_validate(
        {"dataset_id": "warm-up", "optimizer": {"type": "sgd", "lr": 0.01}, "epochs": 1, "tolerance": 0}
    )
    data = prepare(table, config)
    out = train(data.x, data.y, config, ListReporter(batched_ticks=True), rows=data.rows)
    result(out, data)
    scripts.load_all(redis)  # last: without Redis, the rest is warm all the same
    return time.perf_counter() - started


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
