"""The HTTP figures, against descent started as it runs in production (tests/support/stack.py, docker-compose.yml's commands): a tiny
job's latency against RQ itself, history polls, a CSV upload against pandas, a sweep on two
workers against one."""

from __future__ import annotations

import http.client
import io
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.measure import best_of, linear_data, percentile, seconds
from bench.report import Line, emit, note


class Client:
    """One keep-alive HTTP/1.1 connection, like a dashboard's."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=120)

    def request(self, method: str, path: str, body: Any = None, ctype: str = "application/json") -> Any:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        headers = {"Content-Type": ctype} if data is not None else {}
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        except (ConnectionError, http.client.HTTPException):
            self.conn.close()  # the server closed an idle keep-alive connection: open a new one
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        raw = response.read()
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {raw[:300]!r}")
        return json.loads(raw) if raw else None  # a 204 (DELETE) has no body


def wait_job(client: Client, job: str, interval: float = 0.005, timeout: float = 300) -> tuple[dict, float]:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        state = client.request("GET", f"/v1/jobs/{job}")
        if state["status"] not in ("queued", "running"):
            return state, time.perf_counter()
        time.sleep(interval)
    raise RuntimeError(f"job {job} did not end")


def csv_text(x: np.ndarray, y: np.ndarray) -> bytes:
    header = ",".join([*(f"x{j}" for j in range(x.shape[1])), "y"])
    buf = io.StringIO()
    np.savetxt(buf, np.c_[x, y], fmt="%.7g", delimiter=",", header=header, comments="")
    return buf.getvalue().encode()


def tiny_job(stack: Any, client: Client, quick: bool) -> None:
    ds = client.request("POST", "/v1/datasets?name=course", b"x,y\n1,2\n2,4\n3,6\n", "text/csv")["id"]
    body = {
        "dataset_id": ds,
        "model": {"type": "linear", "bias": False},
        "optimizer": {"type": "gd", "lr": 0.01},
        "epochs": 100,
        "tolerance": 0,
        "standardize": False,
    }
    latencies = []
    for _ in range(15 if quick else 40):
        start = time.perf_counter()
        job = client.request("POST", "/v1/jobs", body)["id"]
        state, seen = wait_job(client, job)
        assert state["status"] == "succeeded", state
        latencies.append(seen - start)
    ours = statistics.median(latencies)
    note(
        f"tiny job latencies: p50 {ours * 1e3:.1f} ms, p90 {percentile(latencies, 90) * 1e3:.1f} ms, "
        f"max {max(latencies) * 1e3:.1f} ms over {len(latencies)} jobs"
    )
    peers = rq_peers(stack.redis_url, quick)
    title = "tiny job, submit → succeeded (poll 5 ms), p50"
    for peer, value in peers.items():
        emit(Line(title, ours, peer, value, "ms", "p50 ≤ 30 ms", ours <= 0.030))


def rq_peers(redis_url: str, quick: bool) -> dict[str, float]:
    """RQ itself, on the same Redis: a no-op job on a SimpleWorker, a job importing torch on a
    forking Worker, and a no-op on a forking Worker whose parent imported torch first."""
    import redis
    from rq import Queue

    conn = redis.Redis.from_url(redis_url)
    out = {}
    kinds = [
        ("RQ SimpleWorker, no-op job", "SimpleWorker", False, "time.sleep", (0,), 15 if quick else 30),
        ("RQ forking Worker, torch imported first", "Worker", True, "time.sleep", (0,), 8 if quick else 15),
        (
            "RQ forking Worker, job imports torch",
            "Worker",
            False,
            "importlib.import_module",
            ("torch",),
            3 if quick else 5,
        ),
    ]
    for name, cls, preload, func, args, count in kinds:
        queue_name = f"bench-peer-{cls}-{preload}"
        code = (
            ("import torch\n" if preload else "")
            + f"import redis, rq\nw = rq.{cls}([{queue_name!r}], connection=redis.Redis.from_url({redis_url!r}))\n"
            + "w.work(logging_level='WARNING')\n"
        )
        proc = subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            queue = Queue(queue_name, connection=conn)
            warm = queue.enqueue("time.sleep", 0)
            deadline = time.monotonic() + 60
            while warm.get_status(refresh=True) != "finished" and time.monotonic() < deadline:
                time.sleep(0.05)
            latencies = []
            for _ in range(count):
                start = time.perf_counter()
                job = queue.enqueue(func, *args)
                while job.get_status(refresh=True) not in ("finished", "failed"):
                    time.sleep(0.005)
                latencies.append(time.perf_counter() - start)
            out[name] = statistics.median(latencies)
        finally:
            proc.terminate()
            proc.wait(30)
    return out


def history_poll(stack: Any, client: Client, quick: bool, big_dataset: str) -> None:
    import redis

    jobs = {}
    ds = client.request("POST", "/v1/datasets?name=course", b"x,y\n1,2\n2,4\n3,6\n", "text/csv")["id"]
    short = {"dataset_id": ds, "optimizer": {"type": "gd", "lr": 0.01}, "epochs": 1000, "tolerance": 0}
    jobs["1e3 points"] = client.request("POST", "/v1/jobs", short)["id"]
    long = {
        "dataset_id": big_dataset,
        "optimizer": {"type": "sgd", "lr": 0.0001},
        "epochs": 1,
        "tolerance": 0,
    }
    jobs["1e5 points"] = client.request("POST", "/v1/jobs", long)["id"]
    conn = redis.Redis.from_url(stack.redis_url)
    packed = np.arange(1_000_000, dtype=np.float32).tobytes()
    conn.set("bench:packed", packed)
    peer = statistics.median(
        seconds(lambda: np.frombuffer(conn.get("bench:packed"), dtype=np.float32)) for _ in range(20)
    )
    for label, job in jobs.items():
        state, _ = wait_job(client, job, 0.05)
        steps, every = state["progress"]["step"], state["config"]["log_every"]
        after = max(0, steps - 100 * every)
        path = f"/v1/jobs/{job}/history?after={after}&limit=100"
        assert len(client.request("GET", path)["train"]["step"]) == min(100, steps // every)
        times = [seconds(lambda p=path: client.request("GET", p)) for _ in range(60 if quick else 200)]
        ours = statistics.median(times)
        title = f"poll of the newest 100 points, job of {label}"
        emit(
            Line(title, ours, "read 1e6 packed float32 (redis GET)", peer, "ms", "p50 ≤ 5 ms", ours <= 0.005)
        )


def mixed_csv(rows: int, seed: int = 5) -> bytes:
    """200k rows: 7 number columns and 3 category columns, 10 % of the cells missing, a number target."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{j}": rng.standard_normal(rows).astype(np.float32) for j in range(7)})
    for j, levels in enumerate((["red", "green", "blue"], ["a", "b", "c", "d", "e"], ["yes", "no"])):
        frame[f"c{j}"] = rng.choice(levels, rows)
    frame = frame.mask(rng.uniform(size=frame.shape) < 0.1)
    frame["y"] = rng.standard_normal(rows).astype(np.float32)
    return frame.to_csv(index=False, float_format="%.7g").encode()


def csv_upload(stack: Any, client: Client, quick: bool) -> None:
    """Upload through HTTP (parse, kinds, column summary, store) against pandas.read_csv and
    pyarrow.csv.read_csv of the same bytes (parsing only, no HTTP), and the API's peak memory."""
    import pandas as pd
    import pyarrow.csv as pacsv

    rows = 200_000
    x, y = linear_data(rows, 10, seed=3)
    for label, text in (("200k × 10 numbers", csv_text(x, y)), ("200k, 3 categories, 10 % missing", mixed_csv(rows))):
        pandas_time = best_of(lambda t=text: pd.read_csv(io.BytesIO(t)), 3 if quick else 6)
        arrow_time = best_of(lambda t=text: pacsv.read_csv(io.BytesIO(t)), 3 if quick else 6)
        api = stack.pids()["api"]
        # Each upload is deleted once timed: the figure is an upload's, not that of Redis rewriting
        # its append-only file over the bench's own leftovers (a fork compressing every dataset kept,
        # on the same two cores, every ~8 uploads of this size).
        for _ in api:  # not timed: each API process's first upload of such a file (bench/cold_start.py times that)
            client.request("DELETE", f"/v1/datasets/{client.request('POST', '/v1/datasets?name=bench', text, 'text/csv')['id']}")
        times, peaks = [], []
        for _ in range(2 if quick else 6):
            before = {}
            for pid in api:
                Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets the peak RSS (VmHWM)
                before[pid] = _status(pid)["VmRSS"]
            started = time.perf_counter()
            dataset = client.request("POST", "/v1/datasets?name=bench", text, "text/csv")["id"]
            times.append(time.perf_counter() - started)
            peaks.append(max(_status(pid)["VmHWM"] - before[pid] for pid in api))
            client.request("DELETE", f"/v1/datasets/{dataset}")
        ours = min(times)
        title = f"CSV upload, {label}, {len(text) / 1e6:.1f} MB"
        emit(Line(title, ours, "pandas.read_csv (no HTTP)", pandas_time, "ms", "≤ 1.5×", ours <= 1.5 * pandas_time))
        emit(Line(title, ours, "pyarrow.csv.read_csv (no HTTP)", arrow_time, "ms", "(for reference)", None))
        peak = max(peaks) / len(text)
        emit(
            Line(
                f"CSV upload, {label}: peak memory of the API process",
                peak,
                "the file's size",
                1.0,
                "x",
                "≤ 3×",
                peak <= 3,
            )
        )


def _status(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            out[key] = int(value.split()[0]) * 1024
    return out


def sweep(stack: Any, client: Client, quick: bool, big_dataset: str) -> None:
    epochs = 100 if quick else 300
    body = {
        "dataset_id": big_dataset,
        "base": {"optimizer": {"type": "sgd", "lr": 0.001}, "epochs": epochs, "tolerance": 0},
        "grid": {"optimizer.lr": [0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.003, 0.004, 0.005]},
    }

    def run() -> float:
        start = time.perf_counter()
        sweep_id = client.request("POST", "/v1/sweeps", body)["id"]
        while True:
            state = client.request("GET", f"/v1/sweeps/{sweep_id}")
            if all(j["status"] not in ("queued", "running") for j in state["jobs"]):
                assert all(j["status"] == "succeeded" for j in state["jobs"]), state
                return time.perf_counter() - start
            time.sleep(0.02)

    one = run()
    stack.add_worker()
    stack.wait_workers(2)
    two = run()
    title = "sweep of 8 jobs (sgd, 1e5×10), 2 workers"
    emit(Line(title, two, "1 worker", one, "s", "≤ 0.6×", two <= 0.6 * one))
