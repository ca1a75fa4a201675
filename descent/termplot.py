"""Text drawings for the CLI: a progress bar and a loss curve, with no dependencies."""

from __future__ import annotations

import math
from typing import Any


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def progress_bar(job: dict[str, Any], elapsed: float, width: int = 30) -> str:
    """`[#####-----]  37%  epoch 37/100  loss 0.123  ETA 0:00:12  running`."""
    progress = job.get("progress") or {}
    fraction = min(max(float(progress.get("fraction") or 0.0), 0.0), 1.0)
    filled = round(fraction * width)
    loss = (job.get("metrics") or {}).get("train_loss")
    loss_text = f"loss {loss:.4g}" if isinstance(loss, int | float) else "loss -"
    eta = _clock(elapsed * (1 - fraction) / fraction) if 0 < fraction < 1 else "-:--:--"
    return (
        f"[{'#' * filled}{'-' * (width - filled)}] {fraction:4.0%}  "
        f"epoch {progress.get('epoch', 0)}/{progress.get('epochs', '?')}  {loss_text}  "
        f"ETA {eta}  {job.get('status', '')}   "
    )


def plot(
    steps: list[int],
    loss: list[float | None],
    smoothed: list[float | None],
    dev_steps: list[int] | None = None,
    dev_loss: list[float | None] | None = None,
    width: int = 72,
    height: int = 16,
) -> str:
    """The loss curve: `.` raw, `*` smoothed, `o` dev; a log scale when the values span 1000×."""
    series = [(steps, loss, "."), (steps, smoothed, "*"), (dev_steps or [], dev_loss or [], "o")]
    values = [v for _, ys, _ in series for v in ys if v is not None and math.isfinite(v)]
    if not steps or not values:
        return "(no history yet)"
    log = min(values) > 0 and max(values) / min(values) > 1000
    scale = (lambda v: math.log10(v)) if log else (lambda v: v)
    low, high = scale(min(values)), scale(max(values))
    span = (high - low) or 1.0
    first, last = steps[0], max(steps[-1], (dev_steps or [0])[-1] if dev_steps else 0)
    grid = [[" "] * width for _ in range(height)]
    for xs, ys, mark in series:
        for x, y in zip(xs, ys, strict=False):
            if y is None or not math.isfinite(y):
                continue
            col = int((x - first) / max(last - first, 1) * (width - 1))
            row = height - 1 - int((scale(y) - low) / span * (height - 1))
            if grid[row][col] == " " or mark != ".":
                grid[row][col] = mark
    top = f"{max(values):.4g}"
    bottom = f"{min(values):.4g}"
    pad = max(len(top), len(bottom))
    lines = []
    for i, row in enumerate(grid):
        label = top if i == 0 else bottom if i == height - 1 else ""
        lines.append(f"{label.rjust(pad)} |{''.join(row)}")
    lines.append(" " * pad + " +" + "-" * width)
    lines.append(" " * pad + f"  step {first}" + f"step {last}".rjust(width - len(f"step {first}")))
    lines.append(" " * pad + "  . loss   * smoothed   o dev" + ("   (log scale)" if log else ""))
    return "\n".join(lines)
