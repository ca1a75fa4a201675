"""The job's wall-clock limit, `max_runtime_seconds`, measured from the start of `train()`.

Why a class: the loop asks `expired()` after every update, which must stay a clock read and a
comparison; the TimedOut message is only built when it fires.
"""

from __future__ import annotations

import time


class Deadline:
    """Started on construction; time.monotonic, so wall-clock changes do not matter."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = time.monotonic()
        self._end = self.start + seconds

    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.monotonic() - self.start

    def expired(self) -> bool:
        """True once the limit has passed."""
        return time.monotonic() > self._end
