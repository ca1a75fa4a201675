"""The compiled history path (TrainHistory.add_many, kernels.fold) against the plain one
(TrainHistory.add, a point at a time through smoothing.Smoother): the same points, bit for bit.

The compiled path is what a batched reporter's chunks of compiled updates take; logging every step
must cost no numbers: every window mean, smoothed value, label and epoch sum is the plain path's.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from worker.engine import ListReporter
from worker.engine.history import TrainHistory


class PointByPoint(ListReporter):
    """A reporter without `train_points`: add_many hands it the points one `train_point` at a time."""

    train_points = None  # type: ignore[assignment]


def _chunks(rng: np.random.Generator, n: int) -> list[tuple[int, int]]:
    """[lo, hi) chunks covering 0..n, of sizes from 1 to a few hundred (what adaptive chunks give)."""
    out, lo = [], 0
    while lo < n:
        hi = min(n, lo + int(rng.integers(1, 300)))
        out.append((lo, hi))
        lo = hi
    return out


@pytest.mark.parametrize("log_every", [1, 3, 64])
@pytest.mark.parametrize("beta", [0.4, 0.05, 1.0])
@pytest.mark.parametrize("batched", [True, False])
def test_add_many_is_add_point_for_point(log_every: int, beta: float, batched: bool) -> None:
    rng = np.random.default_rng(log_every)
    n, scale, epoch_steps = 5_000, 1.7, 1_300
    # noisy costs over many magnitudes: rounding differences, if any, would show
    costs = rng.lognormal(0.0, 3.0, n) * rng.choice([1e-6, 1.0, 1e6], n)
    plain_reporter, fast_reporter = ListReporter(), ListReporter() if batched else PointByPoint()
    plain = TrainHistory(plain_reporter, log_every, beta)
    fast = TrainHistory(fast_reporter, log_every, beta)
    plain.lr = fast.lr = 0.01
    plain_totals, fast_totals = [], []
    plain_total = fast_total = 0.0
    for lo, hi in _chunks(rng, n):
        # chunks never cross an epoch (the loop's do not): cut them there
        cuts = sorted({lo, hi, *range((lo // epoch_steps + 1) * epoch_steps, hi, epoch_steps)})
        for a, b in itertools.pairwise(cuts):
            epoch = a // epoch_steps
            for k in range(a, b):
                cost = costs[k] * scale
                plain_total += cost
                plain.add(k + 1, epoch, cost)
            buffer = np.empty(b - a + 5)  # room beyond `count`: only costs[:count] are read
            buffer[: b - a] = costs[a:b]
            buffer[b - a :] = np.nan
            fast_total = fast.add_many(a, epoch, buffer, b - a, scale, fast_total)
            plain_totals.append(plain_total)
            fast_totals.append(fast_total)
            if b % epoch_steps == 0:
                plain_total = fast_total = 0.0
    plain.flush()
    fast.flush()

    assert fast_reporter.train == plain_reporter.train  # exact: labels, epochs, means, smoothed, lr
    assert len(plain_reporter.train["step"]) == -(-n // log_every)
    assert fast_totals == plain_totals
    assert (fast.points, fast.smoothed) == (plain.points, plain.smoothed)


def test_add_many_continues_a_window_the_plain_path_opened() -> None:
    """Chunks and single updates interleaved (a resumed run, or an epoch's first plain update):
    the open window and the smoothing state carry over between the two paths."""
    costs = np.random.default_rng(3).uniform(0.5, 2.0, 400)
    plain_reporter, mixed_reporter = ListReporter(), ListReporter()
    plain, mixed = TrainHistory(plain_reporter, 7, 0.3), TrainHistory(mixed_reporter, 7, 0.3)
    total = 0.0
    for k, cost in enumerate(costs):
        plain.add(k + 1, 0, float(cost))
    for lo in range(0, 400, 50):
        for k in range(lo, lo + 3):  # three plain updates, then the rest of the 50 as a chunk
            mixed.add(k + 1, 0, float(costs[k]))
        total = mixed.add_many(lo + 3, 0, costs[lo + 3 : lo + 50].copy(), 47, 1.0, total)
    plain.flush()
    mixed.flush()
    assert mixed_reporter.train == plain_reporter.train
