"""What a history point costs: an SGD run logged at every step against the same run logged in a few
windows, with the worker's reporter (worker/reporter.py) writing to a throwaway redis-server.

Engine time is the epoch loop's (from the reporter's `plan` to its `epoch_end`): the updates, the
history fold (kernels.fold: window means and smoothing), divergence checks, ticks and the
reporter's encoding of the points. The difference between the two runs over the number of points
is the engine's cost per point (issue 15's goal: ≤ 0.05 µs). The job's last flush (the points'
bytes into Redis), which the worker makes after the engine returns, is timed apart and shown as
a note: it is the part of a point's cost that lies outside the engine.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import numpy as np

from bench.measure import job_config, linear_data
from bench.report import Line, emit, note


def history(quick: bool) -> None:
    import redis

    from descent.settings import Settings
    from descent.store import Store
    from tests.support.processes import RedisServer
    from worker.engine import train
    from worker.heartbeat import WORKER_NAME
    from worker.reporter import RedisReporter

    class Timed(RedisReporter):
        """The worker's reporter, noting when the epoch loop starts and ends."""

        def plan(self, **kwargs: Any) -> None:
            super().plan(**kwargs)
            self.started = time.perf_counter()

        def epoch_end(self, epoch: int, step: int, metrics: dict[str, Any]) -> bool:
            self.ended = time.perf_counter()
            return super().epoch_end(epoch, step, metrics)

    rows = 200_000 if quick else 400_000
    x, y = linear_data(rows, 10, seed=11)
    raw = {"optimizer": {"type": "sgd", "lr": 0.001}, "epochs": 1, "tolerance": 0, "split": {"dev": 0, "test": 0}}
    server = RedisServer().start()
    try:
        store = Store(redis.Redis.from_url(server.url))
        settings = Settings.from_env()
        dataset = "ds_" + uuid.uuid4().hex
        meta = {"id": dataset, "rows": 2, "features": 1, "created_score": 1.0}
        store.datasets.put("bench", meta, np.zeros((2, 1), np.float32), np.zeros(2, np.float32))

        def run(points: int) -> tuple[float, float, int]:
            """(epoch-loop seconds, last-flush seconds, points) of one job logged in `points` points."""
            job = "job_" + uuid.uuid4().hex
            config = {"dataset_id": dataset, **raw}
            store.jobs.create("bench", job, config)
            store.jobs.start(job, WORKER_NAME, 600_000)
            reporter = Timed(store, job, config, settings)
            train(x, y, job_config(raw).model_copy(update={"max_history_points": points}), reporter)
            start = time.perf_counter()
            reporter.flush(required=True)
            flushed = time.perf_counter() - start
            written = store.history.read(job, 0, 1)["train"]["step"]
            assert written and written[0] == rows // points, written
            store.jobs.transition(job, ("running",), "succeeded", worker=WORKER_NAME)
            return reporter.ended - reporter.started, flushed, points

        every, windows, flushes = [], [], []
        for _ in range(4 if quick else 7):  # interleaved, so that a busy moment hits both
            seconds, flushed, _ = run(rows)
            every.append(seconds)
            flushes.append(flushed)
            windows.append(run(10)[0])
    finally:
        server.stop()
    per_point = (min(every) - min(windows)) / rows
    note(
        f"SGD on {rows:.0e}×10, 1 epoch: epoch loop {min(every) * 1e3:.1f} ms with a point per step, "
        f"{min(windows) * 1e3:.1f} ms with 10 windows (best of {len(every)}); the job's last flush of "
        f"{rows} points into Redis {min(flushes) * 1e3:.1f} ms ({min(flushes) / rows * 1e6:.2f} µs a point, "
        "after the engine)"
    )
    emit(
        Line(
            "history: engine cost per point (sgd, every step)",
            per_point,
            "an SGD update (same run, per step)",
            min(windows) / rows,
            "µs",
            "≤ 0.05 µs",
            per_point <= 0.05e-6,
        )
    )
