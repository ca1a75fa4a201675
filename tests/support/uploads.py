"""An upload held in progress by its client: the server has its headers and part of its body, and
waits for the rest until the test sends it. Holding the body open is what a slow client does, so
"an upload is being read" is the test's fact, not a bet on how fast the server parses."""

from __future__ import annotations

import socket
import urllib.parse

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
