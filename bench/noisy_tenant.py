"""Noisy neighbour: what one tenant flooding the API does to another tenant's polls.

    python bench/noisy_tenant.py [--rate-limit 0] [--burst 0] [--flooders 32] [--clients 20]
                                 [--hz 2.5] [--seconds 30]

Starts its own stack as compose runs it (nginx in front, gunicorn 2 processes × 8 threads, one
worker, Redis with AOF; tests/support/stack.py) with two tenants, a and b, and
DESCENT_RATE_LIMIT / DESCENT_RATE_BURST as given (0: no limit), which nginx applies per API key
first, as compose's proxy does, and the API behind it. Tenant B polls its running job
(bench/load.py's pollers: job and history alternately, keep-alive connections) for --seconds alone,
then for --seconds again while tenant A floods GET /v1/jobs/{id} of its own job from --flooders
keep-alive connections, each sending its next request as soon as the last is answered, ignoring
Retry-After. Prints A's request rate and its answers by status, B's p50/p99/max and errors in both
phases, and the load average around each phase. The flooder is one asyncio process of its own (not
threads: fewer CPU cycles per request on a 2-core machine where it competes with the API, and B's
clients do not share its event loop). Not a test: it asserts nothing and runs only when asked.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/noisy_tenant.py` from anywhere

from bench.fairness import http  # noqa: E402
from bench.load import TIMEOUT, percentile, poller, request  # noqa: E402
from tests.support.stack import Stack  # noqa: E402

KEY_A, KEY_B = "key-a", "key-b"
LEAD = 2.0
"""Seconds between starting the flooder's process and the flooded phase: its interpreter's start."""


def start_stack(rate_limit: float, burst: int) -> Stack:
    """The stack as compose runs it, with two tenants and the rate limit under test (open jobs
    unlimited: A's queued job and B's running one are all there is)."""
    env = {
        "DESCENT_API_PROCESSES": "2",
        "DESCENT_API_KEYS": f"a:{KEY_A},b:{KEY_B}",
        "DESCENT_RATE_LIMIT": f"{rate_limit:g}",
        "DESCENT_RATE_BURST": str(burst),
        "DESCENT_MAX_OPEN_JOBS": "100000",
    }
    return Stack(workers=1, env=env, proxy=True)


def long_job(url: str, key: str) -> str:
    """A dataset and an MLP job of the tenant that trains for longer than the bench runs."""
    csv = "x,y\n" + "".join(f"{i},{2 * i + 1}\n" for i in range(1000))
    dataset = http("POST", url + "/v1/datasets", key, csv, "text/csv")["id"]
    body = {
        "dataset_id": dataset,
        "model": {"type": "mlp", "hidden": [64, 64]},
        "optimizer": {"type": "adam"},
        "epochs": 100000,
        "tolerance": 0,
    }
    return http("POST", url + "/v1/jobs", key, body)["id"]


async def flood_one(url: str, path: str, until: float, statuses: Counter[str]) -> None:
    """One of A's connections: the next GET as soon as the last is answered, until `until`. nginx
    closes a client's connection after 1,000 requests (`keepalive_requests`): A opens another,
    counted as `reopened`, not as a request."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        while time.monotonic() < until:
            try:
                status, _ = await asyncio.wait_for(
                    request(reader, writer, parts.netloc, "GET", path, key=KEY_A), TIMEOUT
                )
            except Exception as exc:  # a closed connection (IndexError: no status line), a timeout
                statuses["reopened" if isinstance(exc, IndexError) else type(exc).__name__] += 1
                writer.close()
                reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
                continue
            statuses[str(status)] += 1
    finally:
        writer.close()


def flood(url: str, job_id: str, connections: int, start: float, until: float, out) -> None:
    """The flooder's process: `connections` of A's connections from `start` to `until`; sends its
    answers by status and the seconds it flooded."""

    async def main() -> tuple[Counter[str], float]:
        statuses: Counter[str] = Counter()
        await asyncio.sleep(max(0.0, start - time.monotonic()))
        began = time.monotonic()
        await asyncio.gather(*(flood_one(url, f"/v1/jobs/{job_id}", until, statuses) for _ in range(connections)))
        return statuses, time.monotonic() - began

    out.send(asyncio.run(main()))


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


async def tenant_b(url: str, job_id: str, clients: int, hz: float, start: float, until: float) -> tuple[list[float], list[str]]:
    """B's pollers from `start` to `until`: their latencies in ms and their errors."""
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    latencies: list[float] = []
    errors: list[str] = []
    phases = random.Random(0)
    await asyncio.gather(
        *(poller(url, job_id, hz, phases.random(), until, latencies, errors, False, KEY_B) for _ in range(clients))
    )
    return [v * 1000 for v in latencies], errors


def report_b(label: str, ms: list[float], errors: list[str], seconds: float) -> None:
    print(
        f"B {label}: {len(ms)} polls ({len(ms) / seconds:.0f}/s), p50 {percentile(ms, 50):.1f}  "
        f"p99 {percentile(ms, 99):.1f}  max {max(ms, default=float('nan')):.1f} ms, "
        f"errors {len(errors)} {dict(Counter(errors))}"
    )


def run(url: str, flooders: int, clients: int, hz: float, seconds: float) -> None:
    b_job = long_job(url, KEY_B)  # first in: the one worker trains B's job all along
    a_job = long_job(url, KEY_A)
    print(f"load average before: {load()}")
    now = time.monotonic()
    alone = asyncio.run(tenant_b(url, b_job, clients, hz, now, now + seconds))
    report_b("alone", *alone, seconds)
    print(f"load average after B alone: {load()}")

    receive, send = multiprocessing.get_context("spawn").Pipe(duplex=False)
    start = time.monotonic() + LEAD
    until = start + seconds
    flooder = multiprocessing.get_context("spawn").Process(
        target=flood, args=(url, a_job, flooders, start, until, send)
    )
    flooder.start()
    send.close()  # the child's end only: a flooder that dies is an EOFError here, not a hang
    beside = asyncio.run(tenant_b(url, b_job, clients, hz, start, until))
    statuses, flooded = receive.recv()
    flooder.join()
    total = sum(n for status, n in statuses.items() if status != "reopened")
    print(
        f"A flooding from {flooders} connections: {total} requests in {flooded:.1f} s ({total / flooded:.0f}/s), "
        f"429: {statuses.get('429', 0)}, by status {dict(sorted(statuses.items()))}"
    )
    report_b("beside A", *beside, seconds)
    print(f"load average after the flood: {load()}")
    for key, job_id in ((KEY_A, a_job), (KEY_B, b_job)):
        http("POST", url + f"/v1/jobs/{job_id}/cancel", key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate-limit", type=float, default=0.0, help="DESCENT_RATE_LIMIT (0: none)")
    parser.add_argument("--burst", type=int, default=0, help="DESCENT_RATE_BURST")
    parser.add_argument("--flooders", type=int, default=32, help="tenant A's connections")
    parser.add_argument("--clients", type=int, default=20, help="tenant B's pollers")
    parser.add_argument("--hz", type=float, default=2.5, help="each of B's pollers, per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="each phase: B alone, then beside A")
    args = parser.parse_args()
    stack = start_stack(args.rate_limit, args.burst)
    try:
        limit = f"{args.rate_limit:g}/s, burst {args.burst}" if args.rate_limit > 0 else "off"
        print(f"through the proxy at {stack.base}; rate limit {limit}; {args.clients} B pollers at {args.hz:g} Hz")
        run(stack.base, args.flooders, args.clients, args.hz, args.seconds)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
