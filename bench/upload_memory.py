"""Concurrent large uploads against the API as compose runs it, and the API's total memory meanwhile.

    python bench/upload_memory.py [--uploads 16] [--mib 64] [--url http://127.0.0.1:8000 --pid PID]

Without --url it starts its own stack (docker-compose.yml's redis and API, gunicorn 2 processes × 8
threads, started natively by tests/support/stack.py) and stops it afterwards. Every client uploads
the same CSV file of about --mib MiB at once, with the Python client (multipart, as `descent
upload` sends it), which retries an upload answered 503 with Retry-After. Meanwhile the resident
memory of the gunicorn master and its processes is sampled every 10 ms from /proc: the peak of
their sum (RSS, and its anonymous part: what the kernel cannot reclaim without killing) is printed
against compose's `mem_limit` for the api service, with every upload's outcome and whether each
dataset exists afterwards. Not a test: it asserts nothing and runs only when asked.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/upload_memory.py` from anywhere

from descent.client import ApiError, Client  # noqa: E402
from tests.support.stack import Stack, compose_service  # noqa: E402

MIB = 1 << 20
MULTIPART_ROOM = 4096
"""Bytes of the request left for the multipart framing around the file (the body limit is 64 MiB)."""


def make_csv(path: Path, mib: int) -> Path:
    """A CSV of 10 float features and a target, just under `mib` MiB (written once, then reused)."""
    size = mib * MIB - MULTIPART_ROOM
    if path.exists() and size - 200 < path.stat().st_size <= size:
        return path
    rng = np.random.default_rng(0)
    header = ",".join(f"x{j}" for j in range(10)) + ",y\n"
    rows = rng.standard_normal((size // 90, 11)).astype(np.float32)
    data = (header + "\n".join(",".join(f"{v:.5f}" for v in row) for row in rows) + "\n").encode()
    path.write_bytes(data[: data.rfind(b"\n", 0, size) + 1])
    return path


def memory_kib(pid: int) -> tuple[int, int, int]:
    """(Rss, Pss, Pss_Anon + Pss_Shmem) of one process, in KiB; zeros when it is gone. Pss shares
    each page among the processes that map it: summed over the processes it counts the copy-on-write
    pages the gunicorn processes share once, as the container's memory accounting does."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0, 0
    fields = {}
    for line in text.splitlines()[1:]:
        name, _, value = line.partition(":")
        fields[name] = int(value.split()[0])
    return fields["Rss"], fields["Pss"], fields["Pss_Anon"] + fields["Pss_Shmem"]


class Sampler(threading.Thread):
    """The peak summed memory of the gunicorn master and its processes, every 10 ms."""

    def __init__(self, master: int) -> None:
        super().__init__(daemon=True)
        self.master = psutil.Process(master)
        self.baseline = self.sample()
        self.peak = (0, 0, 0)
        self.peak_process = 0
        self.stopped = threading.Event()

    def sample(self) -> list[tuple[int, int, int]]:
        pids = [self.master.pid] + [c.pid for c in self.master.children()]
        return [memory_kib(pid) for pid in pids]

    def run(self) -> None:
        while not self.stopped.is_set():
            samples = self.sample()
            total = tuple(sum(s[k] for s in samples) for k in range(3))
            self.peak = tuple(max(p, t) for p, t in zip(self.peak, total, strict=True))  # type: ignore[assignment]
            self.peak_process = max(self.peak_process, max(s[0] for s in samples))
            self.stopped.wait(0.01)


def upload(client: Client, path: Path, index: int) -> tuple[str, str | None]:
    """One upload: ("ok", dataset id) or (the error's line, None)."""
    try:
        return "ok", client.upload(path, name=f"bench-{index}")["id"]
    except ApiError as exc:
        return exc.line(), None


def limit_bytes() -> int:
    """compose's mem_limit for the api service, in bytes."""
    text = str(compose_service("api")["mem_limit"]).lower()
    scale = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(text[-1], 1)
    return int(float(text.rstrip("kmg")) * scale)


def run(url: str, master: int, uploads: int, path: Path, processes: int) -> None:
    client = Client(url, timeout=300)
    deadline = time.monotonic() + 60
    while len(psutil.Process(master).children()) < processes and time.monotonic() < deadline:
        time.sleep(0.05)  # every gunicorn process up before the memory at rest is taken
    sampler = Sampler(master)
    sampler.start()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=uploads) as pool:
        results = list(pool.map(lambda i: upload(client, path, i), range(uploads)))
    elapsed = time.monotonic() - started
    sampler.stopped.set()
    sampler.join()
    ids = [dataset_id for _, dataset_id in results if dataset_id]
    stored = sum(1 for dataset_id in ids if client.dataset(dataset_id)["rows"] > 0)
    limit = limit_bytes()
    mib = 1024 / MIB
    base = [sum(s[k] for s in sampler.baseline) for k in range(3)]
    rss, pss, anon = sampler.peak
    print(f"{uploads} concurrent uploads of {path.stat().st_size / MIB:.1f} MiB CSV in {elapsed:.1f} s")
    print(f"API at rest: RSS {base[0] * mib:.0f} MiB summed, PSS {base[1] * mib:.0f} MiB")
    print(
        f"API peak: PSS {pss * mib:.0f} MiB ({pss * 1024 / limit:.0%} of mem_limit {limit / MIB:.0f} MiB; "
        f"anonymous {anon * mib:.0f} MiB), RSS summed {rss * mib:.0f} MiB; "
        f"largest process RSS {sampler.peak_process * mib:.0f} MiB"
    )
    failed = sorted({outcome for outcome, _ in results if outcome != "ok"})
    print(f"succeeded {len(ids)}/{uploads}, datasets found afterwards {stored}/{uploads}; errors: {failed[:3]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url")
    parser.add_argument("--pid", type=int, help="with --url: the gunicorn master's pid")
    parser.add_argument("--uploads", type=int, default=16)
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--processes", default="2", help="DESCENT_API_PROCESSES of the stack started")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the stack started")
    args = parser.parse_args()
    path = make_csv(Path("/tmp") / f"descent-bench-upload-{args.mib}mib.csv", args.mib)
    env = {"DESCENT_API_PROCESSES": args.processes, **dict(e.split("=", 1) for e in args.env)}
    stack = None if args.url else Stack(workers=0, env=env)
    try:
        run(args.url or stack.base, args.pid or stack.api.pid, args.uploads, path, int(args.processes))
    finally:
        if stack:
            stack.stop()


if __name__ == "__main__":
    main()
