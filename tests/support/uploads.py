"""An upload held in progress by its client: the server has its headers and part of its body, and
waits for the rest until the test sends it. Holding the body open is what a slow client does, so
"an upload is being read" is the test's fact, not a bet on how fast the server parses."""

from __future__ import annotations

import select
import socket
import time
import urllib.parse
from collections.abc import Callable

import requests


class HeldUpload:
    """POST /v1/datasets of `body` (text/csv), of which only the first half is sent until `finish()`
    (with `key`: as that key's tenant)."""

    def __init__(self, base: str, body: bytes, key: str | None = None) -> None:
        url = urllib.parse.urlsplit(base)
        self.body = body
        self.sock = socket.create_connection((url.hostname, url.port), timeout=30)
        head = (
            f"POST /v1/datasets HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: text/csv\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n"
            + (f"Authorization: Bearer {key}\r\n" if key else "")
            + "\r\n"
        )
        self.sock.sendall(head.encode() + body[: len(body) // 2])

    def answered(self) -> bool:
        """Whether the server has answered already (it refused this upload before its body came)."""
        readable, _, _ = select.select([self.sock], [], [], 0)
        return bool(readable)

    def close(self) -> None:
        self.sock.close()

    def finish(self) -> int:
        """Send the rest of the body; the response's status."""
        self.sock.sendall(self.body[len(self.body) // 2 :])
        answer = b""
        while b"\r\n" not in answer:
            piece = self.sock.recv(4096)
            if not piece:
                break
            answer += piece
        self.sock.close()
        return int(answer.split(b" ", 2)[1])


def held_turn(base: str, body: bytes, probe: str, timeout: float = 30) -> tuple[HeldUpload, requests.Response]:
    """An upload held in progress that has the process's one turn, and the 503 a `probe` upload
    got for it."""

    def probe_upload() -> requests.Response:
        response = upload_status(base, probe)
        assert response.status_code in (201, 503), response.text
        return response

    return held_while_refused(base, body, probe_upload, 503, timeout=timeout)


def held_while_refused(
    base: str,
    body: bytes,
    probe: Callable[[], requests.Response],
    refused: int,
    key: str | None = None,
    timeout: float = 30,
) -> tuple[HeldUpload, requests.Response]:
    """An upload held in progress (as `key`'s tenant) and the first `probe()` response refused with
    status `refused` because of it. The held upload and a probe may reach the server together and
    the probe take the place the held one was to hold: then the held one was refused (it has an
    answer before its body is sent) and another is held in its place."""
    deadline = time.monotonic() + timeout
    held = HeldUpload(base, body, key=key)
    while time.monotonic() < deadline:
        response = probe()
        if response.status_code == refused:
            return held, response
        if held.answered():
            held.close()
            held = HeldUpload(base, body, key=key)
        time.sleep(0.05)  # pacing the probes only: each verdict comes from a response
    held.close()
    raise AssertionError(f"timed out after {timeout}s waiting for a {refused} beside a held upload")


def upload_status(base: str, body: str) -> requests.Response:
    """A CSV upload's response, whatever its status."""
    return requests.post(base + "/v1/datasets", data=body, headers={"Content-Type": "text/csv"}, timeout=30)


def refused_uploads(base: str) -> float:
    """How many uploads this API process answered 503, from its /metrics."""
    prefix = 'descent_http_request_duration_seconds_count{method="POST",route="/v1/datasets",status="503"}'
    for line in requests.get(base + "/metrics", timeout=10).text.splitlines():
        if line.startswith(prefix):
            return float(line.split()[-1])
    return 0.0
