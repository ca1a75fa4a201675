"""Load test: 200 clients polling at 5 Hz plus job submissions, against gunicorn on this machine.

    python bench/load.py [--clients 200] [--rate 5] [--seconds 60] [--url http://127.0.0.1:8000]

Without --url it starts its own stack (a throwaway redis-server, `python -m service` (gunicorn),
one `python -m worker`) on free ports, and stops it afterwards. Each client keeps
one HTTP/1.1 keep-alive connection and alternates GET /v1/jobs/{id} and GET /v1/jobs/{id}/history
?after=<next> on a long-running job, like a dashboard would; one submitter posts a small job every
half second. --floor polls GET /healthz instead, to measure what the server itself allows. Prints
the latency percentiles, the error count and the request rate. Not a test: it
asserts nothing and runs only when asked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body: dict | str | None = None, ctype: str = "application/json") -> dict:
    data = None
    if body is not None:
        data = (json.dumps(body) if isinstance(body, dict) else body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


class Stack:
    """redis-server, gunicorn and a worker as subprocesses."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []
        redis_port, api_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{api_port}"
        env = dict(
            os.environ, REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", DESCENT_BIND=f"127.0.0.1:{api_port}"
        )
        # The one worker trains the long job all minute, so every submission stays queued: room for
        # them all (the open-jobs limit is tested elsewhere; here it would turn submissions into 400s).
        env.setdefault("DESCENT_MAX_OPEN_JOBS", "100000")
        env.setdefault("DESCENT_TORCH_THREADS", "1")  # as docker-compose.yml runs a worker: one core
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        self.procs.append(
            subprocess.Popen(
                ["redis-server", "--port", str(redis_port), "--save", "", "--dir", tempfile.mkdtemp()],
                **quiet,
            )
        )
        time.sleep(0.5)
        self.procs.append(subprocess.Popen([sys.executable, "-m", "service"], cwd=ROOT, env=env, **quiet))
        worker_log = open(os.environ.get("DESCENT_LOAD_WORKER_LOG", os.devnull), "w")  # noqa: SIM115
        self.procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "worker"], cwd=ROOT, env=env, stdout=worker_log, stderr=worker_log
            )
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                http("GET", self.url + "/healthz")
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not come up")

    def stop(self) -> None:
        """Worker first (it hands its job back through Redis), then gunicorn, then Redis."""
        for p in reversed(self.procs):
            p.terminate()
            p.wait(40)


async def request(reader, writer, host: str, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n"
    if body:
        head += "Content-Type: application/json\r\n"
    writer.write(head.encode() + b"\r\n" + body)
    await writer.drain()
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def poller(
    url: str,
    job_id: str,
    rate: float,
    phase: float,
    until: float,
    latencies: list[float],
    errors: list[str],
    floor: bool,
):
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    after, i = 0, 0
    period = 1.0 / rate
    # Independent clients are not in step: each starts at its own moment of the first period. (In
    # step, all 200 would ask at the same instant every period, and the last of each burst would
    # wait for the 199 before it: a queue no real set of pollers makes.)
    next_at = time.monotonic() + phase * period
    await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    try:
        while time.monotonic() < until:
            path = f"/v1/jobs/{job_id}" if i % 2 == 0 else f"/v1/jobs/{job_id}/history?after={after}"
            if floor:
                path = "/healthz"
            started = time.monotonic()
            try:
                status, body = await request(reader, writer, parts.netloc, "GET", path)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors.append(type(exc).__name__)
                writer.close()
                reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
                continue
            latencies.append(time.monotonic() - started)
            if status != 200:
                errors.append(str(status))
            elif i % 2 == 1 and not floor:
                after = json.loads(body)["next"]
            i += 1
            next_at += period
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    finally:
        writer.close()


async def submitter(url: str, dataset_id: str, until: float, latencies: list[float], errors: list[str]):
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    body = json.dumps({"dataset_id": dataset_id, "optimizer": {"type": "gd"}, "epochs": 20}).encode()
    try:
        while time.monotonic() < until:
            started = time.monotonic()
            status, _ = await request(reader, writer, parts.netloc, "POST", "/v1/jobs", body)
            latencies.append(time.monotonic() - started)
            if status != 202:
                errors.append(f"submit {status}")
            await asyncio.sleep(0.5)
    finally:
        writer.close()


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 10) - 1] if len(values) > 1 else values[0]


async def run(url: str, clients: int, rate: float, seconds: float, floor: bool = False) -> None:
    csv = "x,y\n" + "".join(f"{i},{2 * i + 1}\n" for i in range(1000))
    dataset = http("POST", url + "/v1/datasets", csv, "text/csv")["id"]
    long_job = http(
        "POST",
        url + "/v1/jobs",
        # An MLP trained with Adam for many epochs: still running when the minute is over.
        {
            "dataset_id": dataset,
            "model": {"type": "mlp", "hidden": [64, 64]},
            "optimizer": {"type": "adam"},
            "epochs": 100000,
            "tolerance": 0,
        },
    )["id"]
    polls: list[float] = []
    submits: list[float] = []
    errors: list[str] = []
    phases = random.Random(0)  # each client's start within the first period: random, reproducible
    until = time.monotonic() + seconds
    started = time.monotonic()
    await asyncio.gather(
        *(poller(url, long_job, rate, phases.random(), until, polls, errors, floor) for _ in range(clients)),
        submitter(url, dataset, until, submits, errors),
    )
    elapsed = time.monotonic() - started
    try:
        http("POST", url + f"/v1/jobs/{long_job}/cancel")
    except urllib.error.HTTPError as exc:  # 409: it ended by itself
        if exc.code != 409:
            raise
    ms = [v * 1000 for v in polls]
    print(
        f"clients {clients} at {rate:g} Hz for {seconds:g} s: {len(polls)} polls ({len(polls) / elapsed:.0f}/s), "
        f"{len(submits)} submissions"
    )
    print(
        f"poll latency ms: p50 {percentile(ms, 50):.1f}  p95 {percentile(ms, 95):.1f}  "
        f"p99 {percentile(ms, 99):.1f}  max {max(ms):.1f}"
    )
    sub = [v * 1000 for v in submits]
    print(f"submit latency ms: p50 {percentile(sub, 50):.1f}  p99 {percentile(sub, 99):.1f}")
    print(f"errors: {len(errors)} {sorted(set(errors))[:5]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--floor",
        action="store_true",
        help="poll GET /healthz instead (no Redis, no JSON work): what gunicorn and Flask alone allow",
    )
    args = parser.parse_args()
    stack = None if args.url else Stack()
    try:
        asyncio.run(run(args.url or stack.url, args.clients, args.rate, args.seconds, args.floor))
    finally:
        if stack:
            stack.stop()


if __name__ == "__main__":
    main()
