"""A job's fixed cost (issue 15, point 2): submit → succeeded minus the engine's own seconds, at 10k,
100k and 1M rows × 10 features, against the budget 5 ms + 10 ns per data cell.

`result.seconds` is the engine's clock: from the start of `worker.engine.train` (array checks, the
split, the model and optimizer set up, the loop) to the final parameters and their numbers on every
split. Everything else a job waits for is the fixed cost: the API's submit, the queue's hand-over,
the job record, the dataset's load and preprocessing, the history and result writes, the status
transition, and the client's learning of the end (a `GET ?wait=`, answered as the job ends). The
job's own timestamps split it: the POST's round trip
(`submit`), `created_at → started_at` (the API's write to the worker's start: the enqueue, the
worker's wake-up and dequeue, RQ's bookkeeping), `started_at → finished_at` minus the engine (load,
prepare, writes: `in worker`), and `finished_at →` the client holding the answer (`seen`; the machine's
wall clock, the same for all). The first job of a dataset and the later ones are shown
apart (a worker may keep a dataset's decoded columns between jobs).

`profile()` runs the worker's per-job path in this process (`worker.tasks.run`, no RQ) under
cProfile, against the same Redis, for the breakdown by function.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import time
from datetime import datetime
from typing import Any

from bench.http_figures import Client
from bench.measure import linear_data
from bench.report import Line, emit, note

SIZES = (10_000, 100_000, 1_000_000)
WAIT_SECONDS = 30
"""`GET /v1/jobs/{id}?wait=`: the answer comes as the job ends (service/job_waits.py), no poll."""
FEATURES = 10
REPEATS = 30
"""Later jobs a line's median is taken over. Eight were few on these machines, where one line's jobs
spread 4.7-8.2 ms: over 30 a few slow jobs move the median less (a slow minute still shows)."""


def budget(rows: int) -> float:
    """Seconds: 5 ms + 10 ns per data cell."""
    return 0.005 + 10e-9 * rows * FEATURES


def job_body(dataset_id: str) -> dict[str, Any]:
    return {"dataset_id": dataset_id, "optimizer": {"type": "sgd", "lr": 0.001}, "epochs": 1, "tolerance": 0}


def _stamp(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def one_job(client: Client, dataset_id: str) -> dict[str, float]:
    """Submit, then ask for the job with `?wait=` (answered as it ends) until it has; the seconds
    of each part."""
    start = time.perf_counter()
    job = client.request("POST", "/v1/jobs", job_body(dataset_id))["id"]
    submitted = time.perf_counter()
    while True:
        state = client.request("GET", f"/v1/jobs/{job}?wait={WAIT_SECONDS}")
        if state["status"] not in ("queued", "running"):
            break
    seen, seen_at = time.perf_counter(), time.time()
    assert state["status"] == "succeeded", state
    engine = state["result"]["seconds"]
    created, started, finished = (_stamp(state[k]) for k in ("created_at", "started_at", "finished_at"))
    return {
        "fixed": seen - start - engine,
        "engine": engine,
        "to_start": started - created,
        "in_worker": finished - started - engine,
        "submit": submitted - start,
        "seen": seen_at - finished,
    }


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:.1f} ms ({min(values) * 1e3:.1f}–{max(values) * 1e3:.1f})"


def upload(client: Client, rows: int) -> str:
    """As Parquet: 1M rows of CSV are over the API's default body limit."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    x, y = linear_data(rows, FEATURES, seed=7)
    columns = {f"x{j}": x[:, j] for j in range(FEATURES)} | {"y": y}
    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    path = f"/v1/datasets?name=fixed{rows}"
    return client.request("POST", path, buf.getvalue(), "application/vnd.apache.parquet")["id"]


def fixed_cost(stack: Any, client: Client, quick: bool) -> None:
    """One line per size: the later jobs' median fixed cost against the budget; the first job and
    the parts in a note."""
    repeats = 4 if quick else REPEATS
    stack.wait_workers(1)  # the first job is not to wait for the worker's start-up
    for rows in SIZES:
        dataset_id = upload(client, rows)
        first = one_job(client, dataset_id)
        later = [one_job(client, dataset_id) for _ in range(repeats)]
        fixed = statistics.median(j["fixed"] for j in later)
        parts = ("submit", "to_start", "in_worker", "seen", "engine")
        note(
            f"{rows:>9,} rows, first job: fixed {first['fixed'] * 1e3:.1f} ms = "
            + ", ".join(f"{p} {first[p] * 1e3:.1f}" for p in parts[:-1])
            + f" + the rest; engine {first['engine'] * 1e3:.1f} ms"
        )
        note(
            f"{rows:>9,} rows, later {len(later)}: fixed {_spread([j['fixed'] for j in later])}; "
            + ", ".join(f"{p} {_spread([j[p] for j in later])}" for p in parts)
        )
        limit = budget(rows)
        title = f"job fixed cost, SGD 1 epoch, {rows // 1000}k × {FEATURES}, p50"
        emit(Line(title, fixed, "budget 5 ms + 10 ns/cell", limit, "ms", f"≤ {limit * 1e3:.0f} ms", fixed <= limit))
        title = f"job fixed cost, first job of the dataset, {rows // 1000}k"
        emit(Line(title, first["fixed"], "budget 5 ms + 10 ns/cell", limit, "ms", "(shown)", None))


def profile(rows: int = 1_000_000, jobs: int = 5, top: int = 0) -> str:
    """The worker's per-job path (`worker.tasks.run`, no RQ) for `jobs` jobs on one dataset of
    `rows` rows, in this process, on a stack without workers (nothing else takes the jobs): each
    job's spans (worker/spans.py, its DEBUG line), the first job apart; with `top`, a cProfile of
    the later jobs too, `top` functions by cumulative time."""
    import logging

    from descent.settings import Settings
    from descent.store import Store, connect
    from tests.support.stack import Stack
    from worker.tasks import run

    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "ms" in record.getMessage():
                lines.append(record.getMessage())

    logger = logging.getLogger("descent.worker")
    logger.addHandler(Keep())
    logger.setLevel(logging.DEBUG)
    profiler = cProfile.Profile()
    with Stack(workers=0) as stack:
        client = Client(stack.base)
        dataset_id = upload(client, rows)
        settings = Settings.from_env(stack.env)
        store = Store(connect(stack.redis_url, socket_timeout=None), settings.retention_seconds)  # as a worker
        ids = [client.request("POST", "/v1/jobs", job_body(dataset_id))["id"] for _ in range(jobs + 1)]
        for k, job_id in enumerate(ids):
            if top and k == 1:
                profiler.enable()
            run(store, job_id, settings)
        profiler.disable()
    out = io.StringIO()
    out.write(f"{rows:,} rows × {FEATURES}, SGD 1 epoch, worker.tasks.run in-process:\n")
    out.writelines(f"  {'first' if k == 0 else 'later'}: {line.split(': ', 1)[1]}\n" for k, line in enumerate(lines))
    if top:
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


if __name__ == "__main__":
    import sys

    for size in [int(a) for a in sys.argv[1:]] or SIZES:
        print(profile(size), flush=True)
