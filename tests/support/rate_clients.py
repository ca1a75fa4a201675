"""Clients of one API key for the rate limit's tests: a flood that ignores Retry-After, and a client
that keeps to a rate. Both talk real HTTP (keep-alive sessions) to a stack, through its proxy."""

from __future__ import annotations

import threading
import time
from collections import Counter

import requests

PATH = "/v1/jobs?limit=1"
"""A cheap /v1 request every tenant may make (its own jobs: none, a 200)."""


def headers(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def refused_by_proxy(response: requests.Response) -> bool:
    """Whether `response` is nginx's own 429 (its document says `refused_by: proxy`; the API's
    429s never do)."""
    if response.status_code != 429 or response.headers.get("Content-Type") != "application/problem+json":
        return False
    return response.json().get("refused_by") == "proxy"


class Flood:
    """`threads` clients of `key` sending GET `path` back to back, ignoring Retry-After, from
    start() until stop(): their answers by status, and nginx's refusals among them."""

    def __init__(self, base: str, key: str | None, threads: int = 8, path: str = PATH) -> None:
        self.url = base + path
        self.headers = headers(key)
        self.statuses: Counter[int] = Counter()
        self.proxy_refusals: list[requests.Response] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def start(self) -> Flood:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)

    def refused(self) -> list[requests.Response]:
        """nginx's refusals so far (for wait_for: empty until there is one)."""
        with self._lock:
            return list(self.proxy_refusals)

    def _run(self) -> None:
        with requests.Session() as session:
            while not self._stop.is_set():
                try:
                    response = session.get(self.url, headers=self.headers, timeout=30)
                except requests.RequestException as exc:
                    with self._lock:
                        self.errors.append(repr(exc))
                    continue
                by_proxy = refused_by_proxy(response)
                with self._lock:
                    self.statuses[response.status_code] += 1
                    if by_proxy and len(self.proxy_refusals) < 100:
                        self.proxy_refusals.append(response)

    def __enter__(self) -> Flood:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def paced(base: str, key: str | None, rate: float, count: int, path: str = PATH) -> list[requests.Response]:
    """`count` GETs of `key`, one at a time, each sent at least 1/`rate` s after the one before it
    was sent (a late one is not made up for: the client never sends faster than `rate`)."""
    gap = 1.0 / rate
    answers = []
    with requests.Session() as session:
        sent = -gap
        for _ in range(count):
            # the client's own pace (what keeping to a rate is), not a wait for the server's state
            time.sleep(max(0.0, sent + gap - time.monotonic()))
            sent = time.monotonic()
            answers.append(session.get(base + path, headers=headers(key), timeout=30))
    return answers
