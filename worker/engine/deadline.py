"""The job's wall-clock limit, `max_runtime_seconds`, measured from the start of `train()`.

Why a class: the loop asks `expired()` after every update, which must stay a clock read and a
comparison; the TimedOut message is only built when it fires. A resumed run starts its clock at
the training seconds its checkpoint recorded, so the limit counts across attempts (the work lost
after the last checkpoint of a dead worker, and the time between attempts, are not counted).
"""

from __future__ import annotations

import time


class Deadline:
    """Started on construction; time.monotonic, so wall-clock changes do not matter."""

    def __init__(self, seconds: float, elapsed: float = 0.0) -> None:
        """`elapsed`: seconds already spent on this job by earlier attempts (from a checkpoint)."""
        self.seconds = seconds
        self.start = time.monotonic() - elapsed
        self._end = self.start + seconds

    def elapsed(self) -> float:
        """Seconds since the start (earlier attempts' included)."""
        return time.monotonic() - self.start

    def expired(self) -> bool:
        """True once the limit has passed."""
        return time.monotonic() > self._end
