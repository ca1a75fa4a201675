"""The course's exponential smoothing of a noisy cost curve.

Why its own module: the API promises that C'₀ = C₀, C'ᵢ = β·Cᵢ + (1 − β)·C'ᵢ₋₁ over the emitted
points, so a client can recompute the smoothed column from the loss column; this is the one place
that formula is written, exactly as it reads.
"""

from __future__ import annotations


class Smoother:
    """Running C'ᵢ over the values given to `update`, in order."""

    def __init__(self, beta: float) -> None:
        self.beta = beta
        self.value: float | None = None

    def update(self, cost: float) -> float:
        """Fold in the next value and return the smoothed one."""
        if self.value is None:
            self.value = cost
        else:
            self.value = self.beta * cost + (1 - self.beta) * self.value
        return self.value
