"""descent as it runs in production, on this machine: a throwaway redis-server, `python -m service`
(gunicorn) and `python -m worker` processes, on free loopback ports.

Used by bench/run.py (the HTTP figures). Everything it starts it stops, in `stop()` or on exit.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(
    method: str, url: str, body: Any = None, ctype: str = "application/json", timeout: float = 60
) -> Any:
    """One request; the JSON answer (raises urllib's HTTPError on 4xx/5xx)."""
    data = None
    if body is not None:
        data = (
            body
            if isinstance(body, bytes)
            else (json.dumps(body) if not isinstance(body, str) else body).encode()
        )
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


class Stack:
    """redis-server, gunicorn (DESCENT_API_PROCESSES processes) and `workers` workers."""

    def __init__(self, workers: int = 1, env: dict[str, str] | None = None) -> None:
        self.dir = tempfile.mkdtemp(prefix="descent-bench-")
        self.redis_port, self.api_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.redis_url = f"redis://127.0.0.1:{self.redis_port}/0"
        self.env = dict(
            os.environ,
            REDIS_URL=self.redis_url,
            DESCENT_BIND=f"127.0.0.1:{self.api_port}",
            DESCENT_QUEUE_NAME="descent-bench",
            PROMETHEUS_MULTIPROC_DIR=os.path.join(self.dir, "metrics"),
            **(env or {}),
        )
        self.env.pop("DESCENT_API_KEYS", None)
        self.env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + self.env.get("PATH", "")
        self.redis: subprocess.Popen[bytes] | None = None
        self.api: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.logs: list[Any] = []
        try:
            self.redis = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    self.dir,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self.api = subprocess.Popen(
                [sys.executable, "-m", "service"],
                cwd=ROOT,
                env=self.env,
                stdout=self._log("api"),
                stderr=subprocess.STDOUT,
            )
            for _ in range(workers):
                self.add_worker()
            self._wait(lambda: http("GET", self.url + "/healthz") is not None, 60, "gunicorn")
            self.wait_workers(workers)
        except BaseException:
            self.stop()
            raise

    def _log(self, name: str) -> Any:
        f = open(os.path.join(self.dir, f"{name}.log"), "wb")  # noqa: SIM115 - closed in stop()
        self.logs.append(f)
        return f

    def add_worker(self) -> None:
        proc = subprocess.Popen(
            [sys.executable, "-m", "worker"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log(f"worker{len(self.workers)}"),
            stderr=subprocess.STDOUT,
        )
        self.workers.append(proc)

    def wait_workers(self, count: int, timeout: float = 180) -> None:
        """Until `count` workers have registered with RQ (they register after their warm-up)."""
        import redis
        from rq import Worker

        conn = redis.Redis.from_url(self.redis_url)
        self._wait(lambda: len(Worker.all(connection=conn)) >= count, timeout, f"{count} workers")

    def pids(self) -> dict[str, list[int]]:
        """gunicorn's request-handling processes and the workers."""
        import psutil

        api = [c.pid for c in psutil.Process(self.api.pid).children()] if self.api else []
        return {"api": api, "workers": [w.pid for w in self.workers]}

    @staticmethod
    def _wait(check: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{what} did not come up within {timeout:g} s")

    def stop(self) -> None:
        """Workers first (each hands its job back through Redis), then gunicorn, then Redis."""
        for proc in [*reversed(self.workers), self.api, self.redis]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in [*reversed(self.workers), self.api, self.redis]:
            if proc is not None:
                try:
                    proc.wait(40)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        for f in self.logs:
            f.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
