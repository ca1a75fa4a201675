"""Load test: 200 clients polling at 5 Hz plus job submissions, against gunicorn on this machine.

    python bench/load.py [--clients 200] [--rate 5] [--seconds 60] [--url http://127.0.0.1:8000]
                         [--proxy] [--slow N]

Without --url it starts its own stack (docker-compose.yml's redis, API and one worker, started
natively by tests/support/stack.py) on free ports, and stops it afterwards; --proxy puts the
compose proxy (nginx, tests/support/proxy.py) in front, as compose publishes it, and the clients
talk to nginx. --slow N opens N slow-header and N slow-body sockets (slowloris,
tests/support/slow_clients.py) to the address the clients use for the whole run. Each client keeps
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
import random
import statistics
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/load.py` from anywhere: the stack launcher is the tests'

from tests.support.slow_clients import SlowClients  # noqa: E402
from tests.support.stack import Stack  # noqa: E402

TIMEOUT = 10.0
"""A poll not answered in this long is an error (and its connection is opened again)."""


def http(method: str, url: str, body: dict | str | None = None, ctype: str = "application/json") -> dict:
    data = None
    if body is not None:
        data = (json.dumps(body) if isinstance(body, dict) else body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def start_stack(proxy: bool = False) -> Stack:
    """docker-compose.yml's redis, API (two gunicorn processes, as compose runs it) and one worker
    (one core, as compose runs it). The one worker trains the long job all minute, so every
    submission stays queued: room for them all (the open-jobs limit is tested elsewhere; here it
    would turn submissions into 400s)."""
    return Stack(workers=1, env={"DESCENT_API_PROCESSES": "2", "DESCENT_MAX_OPEN_JOBS": "100000"}, proxy=proxy)


async def request(
    reader, writer, host: str, method: str, path: str, body: bytes = b"", key: str = ""
) -> tuple[int, bytes]:
    """One request on a keep-alive connection; `key`: a tenant's API key (bench/noisy_tenant.py)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n"
    if key:
        head += f"Authorization: Bearer {key}\r\n"
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
    key: str = "",
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
                status, body = await asyncio.wait_for(request(reader, writer, parts.netloc, "GET", path, key=key), TIMEOUT)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors.append(type(exc).__name__)
                writer.close()
                reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
                status, body = 0, b""
            else:
                latencies.append(time.monotonic() - started)
            if status not in (0, 200):
                errors.append(str(status))
            elif status == 200 and i % 2 == 1 and not floor:
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
            try:
                status, _ = await asyncio.wait_for(request(reader, writer, parts.netloc, "POST", "/v1/jobs", body), TIMEOUT)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors.append(f"submit {type(exc).__name__}")
                writer.close()
                reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
                continue
            latencies.append(time.monotonic() - started)
            if status != 202:
                errors.append(f"submit {status}")
            await asyncio.sleep(0.5)
    finally:
        writer.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=1000)[int(q * 10) - 1] if len(values) > 1 else values[0]


async def run(url: str, clients: int, rate: float, seconds: float, floor: bool = False, slow: int = 0) -> None:
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
    slowloris = SlowClients(urlsplit(url).port, headers=slow, bodies=slow).start() if slow else None
    phases = random.Random(0)  # each client's start within the first period: random, reproducible
    until = time.monotonic() + seconds
    started = time.monotonic()
    await asyncio.gather(
        *(poller(url, long_job, rate, phases.random(), until, polls, errors, floor) for _ in range(clients)),
        submitter(url, dataset, until, submits, errors),
    )
    elapsed = time.monotonic() - started
    if slowloris:
        held = slowloris.open_now()
        slowloris.stop()
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
        f"p99 {percentile(ms, 99):.1f}  max {max(ms, default=float('nan')):.1f}"
    )
    sub = [v * 1000 for v in submits]
    print(f"submit latency ms: p50 {percentile(sub, 50):.1f}  p99 {percentile(sub, 99):.1f}")
    print(f"errors: {len(errors)} {sorted(set(errors))[:5]}")
    if slowloris:
        print(
            f"slow sockets: {slow} slow-header + {slow} slow-body, open at the end {held}, "
            f"closed by the server {slowloris.closed_by_server}, could not reopen {slowloris.failed_opens}"
        )


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
    parser.add_argument("--proxy", action="store_true", help="nginx in front of the API, as compose runs it")
    parser.add_argument("--slow", type=int, default=0, help="slow-header and slow-body sockets (N of each)")
    args = parser.parse_args()
    stack = None if args.url else start_stack(args.proxy)
    try:
        url = args.url or stack.base
        print(f"through {'the proxy' if stack and stack.proxy else 'gunicorn'} at {url}")
        asyncio.run(run(url, args.clients, args.rate, args.seconds, args.floor, args.slow))
    finally:
        if stack:
            stack.stop()


if __name__ == "__main__":
    main()
