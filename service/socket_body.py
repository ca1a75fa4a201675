"""A request body of known length received from gunicorn's client socket straight into where it goes.

Why: gunicorn's body reader hands the WSGI stream a new bytes object per recv() and passes it
through two BytesIO on its way (Body.read → LengthReader → SocketUnreader): a 21 MB upload was
copied five or six times in Python before it reached its spool file, 14-16 ms of the request
thread's time while the parser waited (6-11 ms this way, measured with the machine busy). Here the
bytes gunicorn has read ahead already are taken from its buffers, the rest is `recv_into` the
destination (the body's bytearray, or the 1 MiB piece written next to the spool file), and
gunicorn's reader is told how much is consumed, so the connection's next request is read where it
starts (keep-alive, pipelining).

Only gunicorn's own length-delimited body is read this way; anything else (a chunked body, another
WSGI server, werkzeug's test client) returns None and is read through the WSGI stream.
"""

from __future__ import annotations

import io
import socket
from typing import Any

from gunicorn.http.body import Body as GunicornBody
from gunicorn.http.body import LengthReader
from gunicorn.http.unreader import SocketUnreader
from werkzeug.exceptions import ClientDisconnected

RECV_STEP = 4 << 20
"""The most one recv_into asks for (the kernel hands over what it holds, often less)."""


class SocketBody:
    """The rest of a gunicorn request's length-delimited body, read with `readinto` from what
    gunicorn read ahead, then from the socket. `open` says whether the request has one."""

    def __init__(self, body: GunicornBody, reader: LengthReader, sock: socket.socket, held: bytes) -> None:
        self.body, self.reader, self.sock = body, reader, sock
        ahead = reader.unreader.buf.getvalue()  # read from the socket, maybe beyond the body (a pipelined request)
        mine = ahead[: reader.length]
        reader.unreader.buf = io.BytesIO()
        reader.unreader.buf.write(ahead[len(mine) :])
        reader.length -= len(mine)
        self.pending = memoryview(held + mine)

    @classmethod
    def open(cls, environ: dict[str, Any], size: int) -> SocketBody | None:
        """The body of Content-Length `size`, none of it given to the app yet; None when it is not
        gunicorn's plain length-delimited body (chunked, another server, a test client)."""
        body = environ.get("wsgi.input")
        sock = environ.get("gunicorn.socket")
        reader = getattr(body, "reader", None)
        if not (
            isinstance(body, GunicornBody)
            and isinstance(getattr(body, "buf", None), io.BytesIO)
            and isinstance(reader, LengthReader)
            and isinstance(reader.unreader, SocketUnreader)
            and isinstance(sock, socket.socket)
        ):
            return None
        held = body.buf.getvalue()  # taken from the reader already, not yet given to the app
        if len(held) + reader.length != size:
            return None  # some of it was read through the WSGI stream
        body.buf = io.BytesIO()
        return cls(body, reader, sock, held)

    def readinto(self, view: memoryview) -> int:
        """Up to len(view) bytes of the body; 0 at its end. A client that stops sending before its
        Content-Length is a ClientDisconnected (400), as werkzeug's stream says it, and gunicorn
        closes the connection (where its next request would start is unknown)."""
        if self.pending:
            n = min(len(view), len(self.pending))
            view[:n] = self.pending[:n]
            self.pending = self.pending[n:]
            return n
        want = min(len(view), self.reader.length, RECV_STEP)
        if want == 0:
            return 0
        try:
            got = self.sock.recv_into(view, want)
        except OSError:
            got = 0
        if not got:
            self.body.failed = True
            raise ClientDisconnected()
        self.reader.length -= got
        return got
