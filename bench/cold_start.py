"""Cold start: the first upload and the first job of fresh processes against their steady state.

    python bench/cold_start.py            # 3 fresh stacks
    python bench/cold_start.py --runs 1

Each run starts a fresh stack as production runs it (tests/support/stack.py: docker-compose.yml's
redis, API and worker commands, natively), times how long the API takes to answer /healthz and the
worker to beat (start-up, warm-up included), then uploads the same CSV several times and runs the
same SGD job several times on the last upload, then once on each other upload. The first upload
against the median of the others, and the first job against the median of the other datasets' first
jobs, are the cold-path ratios (issue 15's goal: ≤ 2×): like against like, since a worker keeps a
dataset decoded between its jobs and a dataset's first job also loads it (the later jobs on the
same dataset are shown too). Numba's on-disk cache (NUMBA_CACHE_DIR) is kept between runs, as an
image's or a host's would be: this measures a process start, not a first install. Not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.http_figures import Client, csv_text, wait_job  # noqa: E402
from bench.measure import linear_data  # noqa: E402
from bench.report import Line, emit, note  # noqa: E402

UPLOADS = 6
JOBS = 6


def one_run(rows: int) -> dict[str, float]:
    """A fresh stack: its start-up times, and its first and steady upload and job times (seconds)."""
    from tests.support.stack import Stack

    x, y = linear_data(rows, 10, seed=7)
    text = csv_text(x, y)
    started = time.perf_counter()
    with Stack(workers=1) as stack:
        api_up = time.perf_counter() - started
        stack.wait_workers(1)
        worker_up = time.perf_counter() - started
        client = Client(stack.base)
        uploads, datasets = [], []
        for _ in range(UPLOADS):
            start = time.perf_counter()
            datasets.append(client.request("POST", "/v1/datasets?name=cold", text, "text/csv")["id"])
            uploads.append(time.perf_counter() - start)
        # the first, then the same dataset again (kept decoded by the worker)
        same = [_job(client, datasets[-1]) for _ in range(JOBS)]
        fresh = [_job(client, dataset) for dataset in datasets[:-1]]  # each one's first job
    return {
        "api_up": api_up,
        "worker_up": worker_up,
        "upload_first": uploads[0],
        "upload_steady": statistics.median(uploads[1:]),
        "job_first": same[0][0],
        "job_steady": statistics.median(seconds for seconds, _ in fresh),
        "job_cached": statistics.median(seconds for seconds, _ in same[1:]),
        "job_parts_first": same[0][1],
        "job_parts_steady": tuple(statistics.median(p[k] for _, p in fresh) for k in range(4)),
    }


def _job(client: Client, dataset: str) -> tuple[float, tuple[float, ...]]:
    """One SGD job on `dataset`: seconds from its POST to the client seeing it end, and its parts."""
    body = {"dataset_id": dataset, "optimizer": {"type": "sgd", "lr": 0.001}, "epochs": 1, "tolerance": 0}
    start = time.perf_counter()
    job = client.request("POST", "/v1/jobs", body)["id"]
    submitted = time.perf_counter()
    state, seen = wait_job(client, job, interval=0.002)
    assert state["status"] == "succeeded", state
    return seen - start, (submitted - start, *_phases(state))


def _phases(state: dict) -> tuple[float, float, float]:
    """A job's queue wait (created → started), its run on the worker (started → finished), and
    the engine's own seconds, from the job resource."""
    created, started, finished = (seconds_since_epoch(state[k]) for k in ("created_at", "started_at", "finished_at"))
    return started - created, finished - started, state["result"]["seconds"]


def seconds_since_epoch(stamp: str) -> float:
    from datetime import UTC, datetime

    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


def spread(values: list[float], unit: float = 1e3) -> str:
    """min–max of `values` in ms (or × with unit 1)."""
    suffix = " ms" if unit == 1e3 else "×"
    return f"{min(values) * unit:.1f}–{max(values) * unit:.1f}{suffix}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="fresh stacks to start (default 3)")
    parser.add_argument("--rows", type=int, default=20_000, help="rows of the 10-feature CSV")
    args = parser.parse_args(argv)
    runs = [one_run(args.rows) for _ in range(args.runs)]
    for run in runs:
        note(
            "fresh stack: API up {:.2f} s, worker beating {:.2f} s; upload first {:.1f} ms, steady {:.1f} ms; "
            "job first {:.1f} ms, steady {:.1f} ms (a dataset's first job; {:.1f} ms again on the same dataset)".format(
                run["api_up"],
                run["worker_up"],
                run["upload_first"] * 1e3,
                run["upload_steady"] * 1e3,
                run["job_first"] * 1e3,
                run["job_steady"] * 1e3,
                run["job_cached"] * 1e3,
            )
        )
        for which in ("first", "steady"):
            submit, wait, ran, engine = run[f"job_parts_{which}"]
            note(
                f"  job {which}: submit {submit * 1e3:.1f} ms, queued {wait * 1e3:.1f} ms, "
                f"on the worker {ran * 1e3:.1f} ms (engine {engine * 1e3:.1f} ms)"
            )
    steady = {"upload": "steady state (median of the next)", "job": "steady state (other datasets' first jobs)"}
    for what, label in (("upload", f"CSV upload {args.rows // 1000}k × 10"), ("job", "SGD job, 1 epoch")):
        ratios = [r[f"{what}_first"] / r[f"{what}_steady"] for r in runs]
        middle = sorted(range(len(runs)), key=lambda k: ratios[k])[len(runs) // 2]  # the median run
        note(f"{label}: first/steady over {len(runs)} fresh stacks {spread(ratios, 1)} (the median run below)")
        emit(
            Line(
                f"cold {label}: first after a start",
                runs[middle][f"{what}_first"],
                steady[what],
                runs[middle][f"{what}_steady"],
                "ms",
                "≤ 2.0× (median run)",
                ratios[middle] <= 2.0,
            )
        )
    ups = [r["api_up"] for r in runs]
    beats = [r["worker_up"] for r in runs]
    note(
        f"start-up (warm-ups included): API answering /healthz {min(ups):.2f}–{max(ups):.2f} s, "
        f"worker beating {min(beats):.2f}–{max(beats):.2f} s after the stack was started"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
