"""An upload's body on disk, memory-mapped for pyarrow, instead of in the process's own memory.

Why: a body read into a buffer is anonymous memory for as long as it is parsed (the whole 64 MiB
of a 64 MiB CSV, on top of pyarrow's parse buffers and the typed columns). Written to an unlinked
file in DESCENT_UPLOAD_SPOOL_DIR in 1 MiB pieces and mapped read-only, the same bytes are the
kernel's page cache: pyarrow reads them in place, and under memory pressure the kernel drops the
pages (they are on disk) instead of killing the process. The spool directory must be on a disk: on a
tmpfs the pages are memory again (compose mounts a volume there; its /tmp is a tmpfs).

A raw body (CSV, Parquet, Arrow) is spooled by `raw_body`; a multipart file part by werkzeug's
form parser into the file `SpoolingRequest` gives it, and mapped by `mapped`. Bodies up to
SPOOL_FROM stay in memory (a file and a mapping cost more than they save). An upload with an
Idempotency-Key is spooled before its fingerprint is taken (`raw_body`), and the view and the form
parser read that same file: werkzeug's `get_data` would hold the body in memory three times over.
"""

from __future__ import annotations

import io
import mmap
import os
import tempfile
from typing import IO, Any

from flask import Flask, Request, current_app, g, request

from .arriving_body import ArrivingBody
from .socket_body import SocketBody

SPOOL_FROM = 1 << 20
"""Bodies (and multipart requests) larger than this go to a file."""
PIECE = 1 << 20
"""Bytes read from the client and written to the file at a time."""

Body = bytes | bytearray | mmap.mmap
"""What the readers take: the bytes, or a read-only mapping of the file that holds them."""


def init_app(app: Flask) -> None:
    """Multipart parts spooled to the spool directory, made if missing (a fresh volume, a new host)."""
    spool_dir = spool_directory(app)
    os.makedirs(spool_dir, exist_ok=True)
    app.request_class = SpoolingRequest


def spool_directory(app: Flask) -> str:
    return app.config["SETTINGS"].upload_spool_dir or tempfile.gettempdir()


class SpoolingRequest(Request):
    """werkzeug's request, whose multipart file parts over SPOOL_FROM go to an unlinked file in the
    spool directory (werkzeug's own spill to the system temp dir, a tmpfs in compose, is memory)."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        if total_content_length is not None and total_content_length <= SPOOL_FROM:
            return io.BytesIO()
        return tempfile.TemporaryFile("w+b", dir=spool_directory(current_app))

    def _get_stream_for_parsing(self) -> IO[bytes]:
        """A multipart body read already (for an Idempotency-Key's fingerprint) is parsed from what
        was read: its mapping, from the start, or its bytes."""
        body = g.get("raw_body")
        if isinstance(body, mmap.mmap):
            body.seek(0)
            return body  # type: ignore[return-value]  # read(n) is all the parser needs
        if body is not None:
            return io.BytesIO(body)
        return super()._get_stream_for_parsing()


def raw_body() -> Body:
    """This request's body, read once per request and kept until `take_raw_body` (the fingerprint
    of an Idempotency-Key and the reader share it): in memory when small, or read already (a
    chunked body: body_limit.py), else mapped from its spool file."""
    body = g.get("raw_body")
    if body is None:
        size = request.content_length
        if size is None or getattr(request, "_cached_data", None) is not None:
            body = request.get_data(cache=True)
        else:
            body = spooled_body(request.stream, size, request.environ)
        g.raw_body = body
    return body


def take_raw_body(arriving: bool = False) -> Body | ArrivingBody:
    """The body, no longer kept by the request: the caller's reference is the only one, so the
    reader can free it as soon as it has read it (service/tables, `Upload`). `arriving`: a large
    body not read yet comes while it arrives (arriving_body.py: the CSV reader takes that)."""
    if arriving and g.get("raw_body") is None:
        body = _arriving_body()
        if body is not None:
            return body
    body = raw_body()
    g.pop("raw_body", None)
    return body


def _arriving_body() -> ArrivingBody | None:
    """This request's body received into a spool file on a thread of its own, when it is large
    and gunicorn's length-delimited one."""
    size = request.content_length
    if size is None or size <= SPOOL_FROM or getattr(request, "_cached_data", None) is not None:
        return None
    source = SocketBody.open(request.environ, size)
    if source is None:
        return None
    file = tempfile.TemporaryFile("w+b", buffering=0, dir=spool_directory(current_app))  # noqa: SIM115 - closed by the receiving thread
    return ArrivingBody(source, file, size)


def spooled_body(stream: Any, size: int, environ: dict[str, Any] | None = None) -> Body:
    """A body of Content-Length `size` from the request's stream: bytes when small, else a mapping
    of the file it was written to (what arrived, when the client sent less). With the request's
    WSGI `environ`, gunicorn's socket is read straight into the destination (socket_body.py)."""
    source = (SocketBody.open(environ, size) if environ is not None else None) or stream
    if size <= SPOOL_FROM:
        buffer = bytearray(size)
        done = _fill(memoryview(buffer), source)
        return buffer if done == size else buffer[:done]
    piece = memoryview(bytearray(PIECE))
    with tempfile.TemporaryFile("w+b", buffering=0, dir=spool_directory(current_app)) as file:
        left = size
        while left > 0:
            got = source.readinto(piece[: min(PIECE, left)])
            if not got:
                break
            file.write(piece[:got])
            left -= got
        return _map(file)


def _fill(view: memoryview, source: Any) -> int:
    """`view` filled from `source` (a SocketBody, or the WSGI stream) until it is full or ends."""
    done = 0
    while done < len(view):
        got = source.readinto(view[done : done + PIECE])
        if not got:
            break
        done += got
    return done


def mapped(stream: IO[bytes]) -> Body:
    """A multipart part's bytes: the mapping of its spool file, or the bytes it kept in memory."""
    try:
        stream.fileno()
    except (OSError, io.UnsupportedOperation):
        return stream.read()
    stream.flush()
    return _map(stream)


def _map(file: IO[bytes]) -> Body:
    """A read-only mapping of `file` (which may be closed afterwards: the mapping keeps its pages);
    an empty file is b"" (an empty mapping is an error)."""
    if os.fstat(file.fileno()).st_size == 0:
        return b""
    return mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
