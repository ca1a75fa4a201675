"""Value encodings shared by the writer (worker) and the readers (API): binary history and times.

History points are fixed-size little-endian records so that a page is one GETRANGE at a computed
offset and decoding is one ``np.frombuffer`` — a poll costs what it returns, not the job's length.

Train records have had two formats: 1 (step, epoch, loss, smoothed) until the learning rate could
change during a job, and 2, which adds `lr`. A job's record says which its history holds (the
field `train_format`, written with the history's plan; absent: 1), so a history written before
keeps decoding: its points' `lr` is the job's one rate, which its config shows.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

TRAIN_POINT = np.dtype(
    [("step", "<u8"), ("epoch", "<u4"), ("loss", "<f8"), ("smoothed", "<f8"), ("lr", "<f8")]
)
"""One train point: the last step of its window, its 0-based epoch, the window's mean cost, smoothed,
and the learning rate of that last step. What a worker writes: format TRAIN_FORMAT."""

TRAIN_FORMAT = 2
TRAIN_FORMATS: dict[int, np.dtype] = {
    1: np.dtype([("step", "<u8"), ("epoch", "<u4"), ("loss", "<f8"), ("smoothed", "<f8")]),
    TRAIN_FORMAT: TRAIN_POINT,
}
"""Every train record format by number (module docstring); histories written before `lr` are 1."""

DEV_POINT = np.dtype([("step", "<u8"), ("epoch", "<u4"), ("loss", "<f8")])
"""One dev point: the step at the end of the epoch, the 1-based epoch, the dev cost."""


def encode_train(points: list[tuple[int, int, float, float, float]]) -> bytes:
    """Pack ``(step, epoch, loss, smoothed, lr)`` tuples."""
    return np.array(points, dtype=TRAIN_POINT).tobytes()


def encode_train_arrays(
    steps: np.ndarray, epoch: int, losses: np.ndarray, smoothed: np.ndarray, lr: float
) -> bytes:
    """Pack points given as arrays (one epoch and rate for all of them), as `encode_train` would."""
    out = np.empty(len(steps), dtype=TRAIN_POINT)
    out["step"] = steps
    out["epoch"] = epoch
    out["loss"] = losses
    out["smoothed"] = smoothed
    out["lr"] = lr
    return out.tobytes()


def encode_dev(points: list[tuple[int, int, float]]) -> bytes:
    """Pack ``(step, epoch, loss)`` tuples."""
    return np.array(points, dtype=DEV_POINT).tobytes()


def now() -> str:
    """The current time as an RFC 3339 UTC string with microseconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_score() -> float:
    """Creation-order score for the listing sorted sets (microseconds since the epoch)."""
    return float(int(datetime.now(UTC).timestamp() * 1_000_000))


def seconds_since(stamp: str) -> float:
    """Seconds from an RFC 3339 UTC time written by `now()` until now."""
    then = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - then).total_seconds())
