"""How commands are written to Redis: hiredis's packer, except for a command carrying a buffer.

Why: redis-py packs a command with hiredis into one bytes object, a copy of every argument. For a
dataset's columns (tens of MB, handed over as memoryviews on the parsed arrays) that copy is
memory the upload would hold twice. redis-py's own packer sends a memoryview as it is, in its own
`sendall`; small commands (every poll) keep hiredis's speed.
"""

from __future__ import annotations

from typing import Any

from redis.connection import Encoder, HiredisRespSerializer, PythonRespSerializer
from redis.utils import HIREDIS_AVAILABLE

BUFFER_CUTOFF = 6000
"""redis-py's own threshold: an argument longer than this is sent as a piece of its own."""


class ZeroCopyPacker:
    """redis-py's command packer interface (`pack(*args)` → pieces to send)."""

    def __init__(self) -> None:
        self.plain = PythonRespSerializer(BUFFER_CUTOFF, Encoder("utf-8", "strict", False).encode)
        self.fast = HiredisRespSerializer() if HIREDIS_AVAILABLE else self.plain

    def pack(self, *args: Any) -> list[Any]:
        if any(isinstance(arg, memoryview) for arg in args):
            return self.plain.pack(*args)
        return self.fast.pack(*args)
