"""A large CSV body read while it is still arriving: the reader starts on its first pieces while a
thread receives the rest into the spool file.

Why: a 21 MB body takes 5-10 ms to come off the socket, and until now the parser waited for all of
it; the CSV reader cuts a file into pieces at line ends anyway (csv_reader.py), so each piece can be
read as soon as its last line has arrived. What the reader asks of the body (its length, bytes at
an offset, a `find`) waits here until those bytes are in; the spool file is mapped at its full
length from the start and written in order, so a byte that has arrived is readable through the
mapping. A client that stops sending is the ClientDisconnected the receiving thread met, raised to
whoever waits. Only a body that came with a Content-Length, from gunicorn's socket, and no
Idempotency-Key (whose fingerprint needs the whole body first) is read this way.
"""

from __future__ import annotations

import mmap
import threading
from typing import IO

from .socket_body import SocketBody

PIECE = 1 << 20
"""Bytes received and written to the spool file at a time."""


class ArrivingBody:
    """`size` bytes arriving from `source` into `file` (a fresh spool file), readable through a
    mapping as they come: `wait(n)` returns once the first n bytes are in."""

    def __init__(self, source: SocketBody, file: IO[bytes], size: int) -> None:
        file.truncate(size)  # the mapping's length; the receiver writes over it in order
        self.buffer = mmap.mmap(file.fileno(), size, access=mmap.ACCESS_READ)
        self.size = size
        self._filled = 0
        self._error: BaseException | None = None
        self._done = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._receive, args=(source, file), name="upload-receive", daemon=True)
        self._thread.start()

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, where: slice) -> bytes:
        """Bytes of the body, once they have arrived (a slice with a start and an end only)."""
        self.wait(min(self.size, where.stop if where.stop is not None else self.size))
        return self.buffer[where]

    def wait(self, count: int) -> None:
        """Return once the first `count` bytes are in; raise what stopped the receiving."""
        filled = self._arrived(count)
        if filled < count:
            raise EOFError(f"the body ended at {filled} of {count} bytes")

    def find(self, sub: bytes, start: int = 0, end: int | None = None) -> int:
        """`mmap.find`, waiting for the bytes it needs: the first `sub` in [start, end), or -1."""
        end = self.size if end is None else min(end, self.size)
        at = start
        while True:
            filled = self._arrived(min(end, at + len(sub)))
            found = self.buffer.find(sub, at, min(end, filled))
            if found != -1 or filled >= end:
                return found
            at = max(at, filled - len(sub) + 1)  # a match may straddle what had arrived

    def _arrived(self, count: int) -> int:
        """How many bytes are in, once the first `count` are or the receiving has ended; what
        stopped it, raised."""
        with self._changed:
            self._changed.wait_for(lambda: self._filled >= count or self._done)
            if self._error is not None:
                raise self._error
            return self._filled

    def complete(self) -> mmap.mmap:
        """The whole body, once it has arrived."""
        self.wait(self.size)
        return self.buffer

    def settle(self) -> None:
        """Wait for the receiving thread to end, whatever it met: the request's connection is
        gunicorn's again only then (a refusal may come before the body has arrived)."""
        self._thread.join()

    def _receive(self, source: SocketBody, file: IO[bytes]) -> None:
        piece = memoryview(bytearray(PIECE))
        try:
            while self._filled < self.size:
                got = source.readinto(piece[: min(PIECE, self.size - self._filled)])
                if not got:
                    raise EOFError("the body ended early")
                file.write(piece[:got])
                with self._changed:
                    self._filled += got
                    self._changed.notify_all()
        except BaseException as exc:  # handed to whoever waits
            self._error = exc
        finally:
            file.close()  # the mapping keeps the pages
            with self._changed:
                self._done = True
                self._changed.notify_all()
