"""Fairness: how long one tenant's job waits behind another tenant's 20 queued jobs, in job-times.

    python bench/fairness.py [--backlog 20] [--epochs 200] [--workers 1] [--url URL --keys A,B]

Without --url it starts its own stack (docker-compose.yml's redis, API and workers, started
natively by tests/support/stack.py, with two tenants' keys) and stops it afterwards. Tenant A
submits --backlog jobs at once, then tenant B submits one; all are the same small MLP. When every
job has ended it prints B's wait (its `started_at` minus its `created_at`), that wait in job-times
(the median run time of A's jobs, `finished_at` minus `started_at`), and how many of A's jobs
started before B's. With one FIFO queue B waits for the whole backlog; with tenants taking turns it
waits for the job running when it arrived. Not a test: it asserts nothing and runs only when asked.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/fairness.py` from anywhere: the stack launcher is the tests'

from tests.support.data import noisy_cubic  # noqa: E402
from tests.support.stack import Stack  # noqa: E402

ENDED = ("succeeded", "failed", "cancelled")


def http(method: str, url: str, key: str, body: dict | str | None = None, ctype: str = "application/json") -> dict:
    data = None if body is None else (json.dumps(body) if isinstance(body, dict) else body).encode()
    headers = {"Content-Type": ctype, "Authorization": f"Bearer {key}"}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def seconds(job: dict, since: str, until: str) -> float:
    return (datetime.fromisoformat(job[until]) - datetime.fromisoformat(job[since])).total_seconds()


def wait_all(url: str, jobs: list[tuple[str, str]], timeout: float = 3600) -> list[dict]:
    """Every job (key, id) once it has ended, in the order given."""
    deadline = time.monotonic() + timeout
    done: dict[str, dict] = {}
    while len(done) < len(jobs):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(jobs) - len(done)} jobs still open after {timeout:g} s")
        for key, job_id in jobs:
            if job_id not in done:
                job = http("GET", f"{url}/v1/jobs/{job_id}", key)
                if job["status"] in ENDED:
                    done[job_id] = job
        time.sleep(0.2)
    return [done[job_id] for _, job_id in jobs]


def run(url: str, key_a: str, key_b: str, backlog: int, epochs: int) -> None:
    body = {"model": {"type": "mlp", "hidden": [32]}, "optimizer": {"type": "adam"}, "epochs": epochs, "tolerance": 0}
    data_a = http("POST", url + "/v1/datasets", key_a, noisy_cubic(), "text/csv")["id"]
    data_b = http("POST", url + "/v1/datasets", key_b, noisy_cubic(), "text/csv")["id"]
    a_ids = [http("POST", url + "/v1/jobs", key_a, {"dataset_id": data_a, **body})["id"] for _ in range(backlog)]
    b_id = http("POST", url + "/v1/jobs", key_b, {"dataset_id": data_b, **body})["id"]
    jobs = wait_all(url, [(key_a, i) for i in a_ids] + [(key_b, b_id)])
    a_jobs, b_job = jobs[:-1], jobs[-1]
    statuses = sorted({j["status"] for j in jobs})
    job_time = statistics.median(seconds(j, "started_at", "finished_at") for j in a_jobs)
    wait = seconds(b_job, "created_at", "started_at")
    ahead = sum(j["started_at"] < b_job["started_at"] for j in a_jobs)
    print(f"tenant A: {backlog} jobs queued, then tenant B: 1 job ({epochs} epochs each; statuses {statuses})")
    print(f"one job's run time (median of A's): {job_time:.2f} s")
    print(f"B's wait: {wait:.2f} s = {wait / job_time:.2f} job-times; A's jobs started before B's: {ahead}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running deployment (with --keys): no stack of its own")
    parser.add_argument("--keys", default="key-a,key-b", help="tenant A's and tenant B's API keys")
    parser.add_argument("--backlog", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    key_a, key_b = args.keys.split(",")
    stack = None
    if not args.url:
        env = {"DESCENT_API_KEYS": f"a:{key_a},b:{key_b}", "DESCENT_MAX_OPEN_JOBS": "1000"}
        stack = Stack(workers=args.workers, env=env)
        stack.wait_workers(args.workers)
    try:
        run(args.url or stack.base, key_a, key_b, args.backlog, args.epochs)
    finally:
        if stack:
            stack.stop()


if __name__ == "__main__":
    main()
