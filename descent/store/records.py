"""Value encodings shared by the writer (worker) and the readers (API): binary history and times.

History points are fixed-size little-endian records so that a page is one GETRANGE at a computed
offset and decoding is one ``np.frombuffer`` — a poll costs what it returns, not the job's length.

Train records have had three formats: 1 (step, epoch, loss, smoothed) until the learning rate could
change during a job; 2, which adds `lr`; and 3 (loss, smoothed: 16 bytes against 36), what a job
with one rate writes: its steps, epochs and rate follow from the history's plan (point i ends
window i of `log_every` updates, at step (i + 1) · log_every, or at the job's last step for the
last, shorter window; its epoch is the one that step is in; its rate is the config's). A job's
record says which its history holds (the field `train_format`, written with the history's plan;
absent: 1), so a history written before keeps decoding, and a job resumed from an attempt that
wrote another format goes on in that one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

TRAIN_POINT = np.dtype(
    [("step", "<u8"), ("epoch", "<u4"), ("loss", "<f8"), ("smoothed", "<f8"), ("lr", "<f8")]
)
"""One train point: the last step of its window, its 0-based epoch, the window's mean cost, smoothed,
and the learning rate of that last step. What a worker writes: format TRAIN_FORMAT."""

TRAIN_FORMAT = 2
"""The format of a job whose rate changes during training (a `schedule`)."""
COMPACT_FORMAT = 3
"""The format of a job with one rate: the loss and its smoothed value only."""
TRAIN_FORMATS: dict[int, np.dtype] = {
    1: np.dtype([("step", "<u8"), ("epoch", "<u4"), ("loss", "<f8"), ("smoothed", "<f8")]),
    TRAIN_FORMAT: TRAIN_POINT,
    COMPACT_FORMAT: np.dtype([("loss", "<f8"), ("smoothed", "<f8")]),
}
"""Every train record format by number (module docstring); histories written before `lr` are 1."""


def train_format(config: dict[str, Any]) -> int:
    """The format a new history of the job is written in: compact unless its rate can change."""
    return TRAIN_FORMAT if (config.get("optimizer") or {}).get("schedule") else COMPACT_FORMAT


def encode_points(points: np.ndarray, train_format: int) -> bytes:
    """TRAIN_POINT records (what a worker buffers) in `train_format`'s layout."""
    kind = TRAIN_FORMATS[train_format]
    if kind == points.dtype:
        return points.tobytes()
    out = np.empty(len(points), dtype=kind)
    for name in kind.names or ():
        out[name] = points[name]
    return out.tobytes()


def implied_steps(first_index: int, count: int, log_every: int, last_step: int) -> np.ndarray:
    """The steps of `count` compact points from index `first_index` on: (i + 1) · log_every, the
    last window cut at the job's last step so far."""
    steps = (np.arange(first_index, first_index + count, dtype=np.uint64) + 1) * np.uint64(log_every)
    return np.minimum(steps, np.uint64(max(last_step, 0)))

DEV_POINT = np.dtype([("step", "<u8"), ("epoch", "<u4"), ("loss", "<f8")])
"""One dev point: the step at the end of the epoch, the 1-based epoch, the dev cost."""


def train_points(points: list[tuple[int, int, float, float, float]]) -> np.ndarray:
    """``(step, epoch, loss, smoothed, lr)`` tuples as TRAIN_POINT records."""
    return np.array(points, dtype=TRAIN_POINT)


def encode_train(points: list[tuple[int, int, float, float, float]], train_format: int = TRAIN_FORMAT) -> bytes:
    """Pack ``(step, epoch, loss, smoothed, lr)`` tuples in `train_format`."""
    return encode_points(train_points(points), train_format)


def train_point_arrays(
    steps: np.ndarray, epoch: int, losses: np.ndarray, smoothed: np.ndarray, lr: float, train_format: int = TRAIN_FORMAT
) -> np.ndarray:
    """Points given as arrays (one epoch and rate for all of them), as `train_points` would, in
    `train_format`'s layout: a worker that knows its history's format builds its records in it once
    (a compact record takes 16 bytes, not 36), and `encode_points` passes them through."""
    kind = TRAIN_FORMATS[train_format]
    values = {"step": steps, "epoch": epoch, "loss": losses, "smoothed": smoothed, "lr": lr}
    out = np.empty(len(steps), dtype=kind)
    for name in kind.names or ():
        out[name] = values[name]
    return out


def encode_dev(points: list[tuple[int, int, float]]) -> bytes:
    """Pack ``(step, epoch, loss)`` tuples."""
    return np.array(points, dtype=DEV_POINT).tobytes()


def now() -> str:
    """The current time as an RFC 3339 UTC string with microseconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_score() -> float:
    """Creation-order score for the listing sorted sets (microseconds since the epoch)."""
    return float(int(datetime.now(UTC).timestamp() * 1_000_000))
