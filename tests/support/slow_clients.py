"""Hostile and ordinary clients for the proxy's tests and bench/load.py: slowloris sockets, pollers.

`SlowClients` holds sockets that never finish a request: slow-header ones send a request line and
then one header line every `interval` seconds, never the blank line that ends the header; slow-body
ones send a whole header announcing a body and then a few bytes of it every `interval`. One thread
keeps them all open: a socket the server closes (nginx drops a header still unfinished after
client_header_timeout) is opened again at once, so the count stays what was asked for.

`poll` is the ordinary client next to them: keep-alive connections asking for one URL at a steady
rate, with every latency and every error recorded.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from dataclasses import dataclass, field

import requests

KINDS = ("header", "body")


class SlowClients:
    """`headers` slow-header and `bodies` slow-body sockets to host:port, kept open until stop()."""

    def __init__(
        self, port: int, headers: int = 200, bodies: int = 200, interval: float = 2.0, host: str = "127.0.0.1"
    ) -> None:
        self.address = (host, port)
        self.wanted = {"header": headers, "body": bodies}
        self.interval = interval
        self.opened = dict.fromkeys(KINDS, 0)
        """Sockets opened so far, by kind (more than wanted: the server closed some)."""
        self.closed_by_server = dict.fromkeys(KINDS, 0)
        self.answered = dict.fromkeys(KINDS, 0)
        """Sockets the server sent something on (an error page) before closing."""
        self.failed_opens = 0
        """Sockets that could not be opened again (the server refused or did not accept in 10 s)."""
        self._selector = selectors.DefaultSelector()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slow-clients", daemon=True)

    def start(self) -> SlowClients:
        for kind, count in self.wanted.items():
            for _ in range(count):
                self._open(kind)
        self._thread.start()
        return self

    def open_now(self) -> dict[str, int]:
        """Sockets open at this moment, by kind."""
        counts = dict.fromkeys(KINDS, 0)
        for key in list(self._selector.get_map().values()):
            counts[key.data] += 1
        return counts

    def _open(self, kind: str) -> None:
        sock = socket.create_connection(self.address, timeout=10)
        if kind == "header":
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: slowloris\r\n")
        else:
            head = "POST /v1/datasets HTTP/1.1\r\nHost: slowloris\r\nContent-Type: text/csv\r\n"
            sock.sendall(f"{head}Content-Length: 100000\r\n\r\nx,y\n".encode())
        sock.setblocking(False)
        self._selector.register(sock, selectors.EVENT_READ, kind)
        self.opened[kind] += 1

    def _drop(self, sock: socket.socket, kind: str, answered: bool) -> None:
        self._selector.unregister(sock)
        sock.close()
        self.closed_by_server[kind] += 1
        self.answered[kind] += int(answered)
        if not self._stop.is_set():
            try:
                self._open(kind)
            except OSError:
                self.failed_opens += 1

    def _run(self) -> None:
        piece = {"header": b"X-Slow: 1\r\n", "body": b"1,2\n"}
        next_send = time.monotonic() + self.interval
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=max(0.0, min(0.2, next_send - time.monotonic()))):
                try:
                    data = key.fileobj.recv(4096)  # type: ignore[union-attr]
                except OSError:
                    data = b""
                self._drop(key.fileobj, key.data, answered=bool(data))  # type: ignore[arg-type]
            if time.monotonic() >= next_send:
                next_send += self.interval
                for key in list(self._selector.get_map().values()):
                    try:
                        key.fileobj.send(piece[key.data])  # type: ignore[union-attr]
                    except OSError:
                        self._drop(key.fileobj, key.data, answered=False)  # type: ignore[arg-type]

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self._selector.close()

    def __enter__(self) -> SlowClients:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Polls:
    """What `poll` saw: each answered request's latency (seconds) and each error."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def p99(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def poll(url: str, clients: int, rate: float, seconds: float, timeout: float = 5.0) -> Polls:
    """`clients` threads, each on its own keep-alive connection, GET `url` `rate` times a second
    for `seconds`, starting spread over the first period. Anything but a 200 is an error."""
    polls = Polls()
    lock = threading.Lock()
    period = 1.0 / rate
    start = time.monotonic()
    until = start + seconds

    def client(index: int) -> None:
        session = requests.Session()
        next_at = start + period * index / clients
        while next_at < until:
            time.sleep(max(0.0, next_at - time.monotonic()))
            began = time.monotonic()
            try:
                status = session.get(url, timeout=timeout).status_code
                outcome = None if status == 200 else str(status)
            except requests.RequestException as exc:
                outcome = type(exc).__name__
            took = time.monotonic() - began
            with lock:
                if outcome is None:
                    polls.latencies.append(took)
                else:
                    polls.errors.append(outcome)
            next_at += period
        session.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + timeout + 30)
    return polls
