"""Where a job's time goes outside the engine: named perf_counter spans, one DEBUG line per job.

Why: a job's fixed cost (submit → succeeded minus the engine's own seconds) is the sum of small
parts — the record read, the dataset load, preprocessing, the writes at the end — and a profile
that names them is what tells which one to make cheaper (bench/fixed_cost.py reads this line).
"""

from __future__ import annotations

import time


class Spans:
    """Consecutive spans: `mark(name)` closes the span that ran since the previous mark."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.parts: dict[str, float] = {}

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.parts[name] = self.parts.get(name, 0.0) + now - self.last
        self.last = now

    def text(self) -> str:
        """`name 1.23 ms, …` in the order the spans ran."""
        return ", ".join(f"{name} {seconds * 1e3:.2f} ms" for name, seconds in self.parts.items())
