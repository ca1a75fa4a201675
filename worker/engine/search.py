"""Exhaustive search (course lesson 3): the cost at every point of a grid, and its argmin.

Grids and costs are in original units (standardize is ignored); the cost of a point is what the
loss's `measure` (losses.py) gives for the linear model's raw outputs on the training split, in
float64. Three ways to get it, the fastest that applies:

- mse: sufficient statistics. The MSE of a linear model depends on the data only through the means
  and (co)variances of x and y, so each grid point costs O(d²) instead of O(N·d). Writing the cost
  around the means, MSE(w, b) = var(y) − 2·w·cov(x, y) + wᵀ·cov(x)·w + (b + w·mean(x) − mean(y))²,
  keeps it accurate in float64 even where the cost is tiny next to mean(y)².
- mae and huber with the bias on the grid: one histogram per weight vector. For a fixed w the
  residuals r = y − x·w are fixed, and the cost of every grid bias b is a sum of ℓ(b − rᵢ) that
  splits at b (mae) or at b ± δ (huber) into parts linear or quadratic in b. Counting the rᵢ (and
  summing rᵢ and rᵢ²) in the cells between consecutive grid biases, then taking cumulative sums
  over the cells, gives all those parts for all biases at once: O(N + B) per w instead of O(N·B).
  Residuals and biases are first shifted by the mean residual, so the sums stay near the size of
  the cost and float64 cancellation stays negligible (the tests hold it to 1e-9 relative of
  brute-force broadcasting). A point exactly on a cell border may be counted on either side: both
  sides give it the same loss (ℓ is continuous there).
- bce, and mae or huber without a bias on the grid: chunked broadcasting, the per-sample loss of
  a block of grid points at once (one small matrix product gives their outputs), cache-sized.

Points are evaluated in chunks (at most SEARCH_CHUNK_POINTS grid points and about
SEARCH_CHUNK_VALUES per-sample values each) with a cancel check and a progress report between
chunks. The argmin is the first lowest point in C order. A search keeps no checkpoint: asked to
suspend, it raises Suspended without one, and the job searches again from the start.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from descent.spec import Grid, JobConfig

from .callbacks import Reporter, Signal
from .data import Part, Splits
from .deadline import Deadline
from .errors import Cancelled, InvalidData, Suspended, TimedOut
from .losses import HUBER_DELTA, LOSSES
from .models import Params
from .result import TrainOutput, final_numbers

SEARCH_CHUNK_POINTS = 65_536
"""Most grid points evaluated between two `tick()` / `search_progress()` calls."""
SEARCH_CHUNK_VALUES = 2**23
"""Most per-sample values (points × training rows) a chunk of mae, huber or bce evaluates between
two ticks: a chunk is then a few tens of milliseconds of work, whatever the data's size."""
BLOCK_VALUES = 2**18
"""Per-sample values broadcasting holds at once (2 MB of float64, about a core's cache)."""

HISTOGRAM_LOSSES = ("mae", "huber")
"""Losses whose costs over a bias grid come from one histogram of the residuals per weight."""


def chunk_points(loss: str, rows: int, b_steps: int | None) -> int:
    """Grid points per chunk for `loss` on `rows` training rows; with a bias grid of `b_steps` values
    and a histogram loss, a whole number of weight vectors (b_steps points each)."""
    if loss == "mse":
        if b_steps is not None:
            return b_steps * max(1, SEARCH_CHUNK_POINTS // b_steps)
        return SEARCH_CHUNK_POINTS
    per_chunk = max(1, SEARCH_CHUNK_VALUES // rows)
    if b_steps is not None and loss in HISTOGRAM_LOSSES:
        return b_steps * max(1, min(SEARCH_CHUNK_POINTS // b_steps, per_chunk))
    return max(1, min(SEARCH_CHUNK_POINTS, per_chunk))


@dataclass(frozen=True)
class MSEStats:
    """The training split's float64 moments: all the MSE of a linear model needs."""

    mean_x: np.ndarray
    mean_y: float
    cov_xx: np.ndarray
    cov_xy: np.ndarray
    var_y: float

    @classmethod
    def of(cls, x: np.ndarray, y: np.ndarray) -> MSEStats:
        mean_x = x.mean(axis=0, dtype=np.float64)
        mean_y = float(y.mean(dtype=np.float64))
        # the centred data in float64, in one pass each (a Python float alone would keep float32)
        xc = np.subtract(x, mean_x, dtype=np.float64)
        yc = np.subtract(y, mean_y, dtype=np.float64)
        n = x.shape[0]
        # np.dot, not @: numpy's matmul is a slow generic loop for a one-feature (n, 1) matrix
        return cls(mean_x, mean_y, np.dot(xc.T, xc) / n, np.dot(xc.T, yc) / n, float(np.dot(yc, yc)) / n)

    def cost(self, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        """MSE at each row of w (k, d) with bias b (k,); never below 0."""
        quad = np.einsum("ij,jk,ik->i", w, self.cov_xx, w)
        shift = b + w @ self.mean_x - self.mean_y
        cost = self.var_y - 2.0 * (w @ self.cov_xy) + quad + shift * shift
        return np.maximum(cost, 0.0)

    def cost_rows(self, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        """MSE at every (w[i], b[j]) pair, shape (k, len(b)): the same sums as `cost`, with the
        w-only terms computed once per weight vector rather than once per grid point."""
        quad = np.einsum("ij,jk,ik->i", w, self.cov_xx, w)
        base = self.var_y - 2.0 * (w @ self.cov_xy) + quad
        cost = b[None, :] + (w @ self.mean_x)[:, None]  # in place from here: one (k, len(b)) array
        cost -= self.mean_y
        np.multiply(cost, cost, out=cost)
        cost += base[:, None]
        return np.maximum(cost, 0.0, out=cost)


class Broadcast:
    """Mean mae, huber or bce of any grid points by broadcasting, float64, as the loss's `measure`
    defines it. One matrix product gives a block's per-sample values: for a regression loss the
    residuals x·w + b − y (rows [xᵀ; 1; y] times [w, b, −1]); for bce the logits z signed by the
    class, s·z with s = 1 − 2y, since −[y·log σ(z) + (1−y)·log(1−σ(z))] = softplus(s·z), which
    measure's max(z, 0) − z·y + log1p(exp(−|z|)) is term for term."""

    def __init__(self, loss: str, part: Part) -> None:
        self.loss = loss
        x64 = part.x.astype(np.float64)
        y64 = part.y.astype(np.float64)
        self.rows = x64.shape[0]
        if loss == "bce":
            sign = 1.0 - 2.0 * y64
            self.design = np.ascontiguousarray(np.vstack([x64.T * sign, sign]))
            self.tail = np.zeros((1, 0))
        else:
            self.design = np.ascontiguousarray(np.vstack([x64.T, np.ones(self.rows), y64]))
            self.tail = np.full((1, 1), -1.0)

    def cost(self, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The mean loss at each row of w (k, d) with bias b (k,)."""
        k = w.shape[0]
        out = np.empty(k)
        block = max(1, BLOCK_VALUES // self.rows)
        for start in range(0, k, block):
            stop = min(start + block, k)
            tail = np.broadcast_to(self.tail, (stop - start, self.tail.shape[1]))
            coef = np.concatenate([w[start:stop], b[start:stop, None], tail], axis=1)
            out[start:stop] = self._mean(coef @ self.design)
        return out

    def residuals(self, w: np.ndarray) -> np.ndarray:
        """y − x·w (N,) of a regression loss's design, for weights w (d,)."""
        coef = np.concatenate([w, [0.0, -1.0]])
        return np.negative(coef @ self.design)

    def _mean(self, values: np.ndarray) -> np.ndarray:
        """Row means of the per-sample loss of `values` (residuals or signed logits; overwritten)."""
        if self.loss == "bce":
            t = torch.from_numpy(values)
            torch.logaddexp(t, torch.zeros((), dtype=torch.float64), out=t)
            return t.mean(dim=1).numpy()
        a = np.abs(values, out=values)
        if self.loss == "huber":
            d = HUBER_DELTA
            a = np.where(a <= d, 0.5 * a * a, d * (a - 0.5 * d))
        return a.mean(axis=1)


class BiasHistogram:
    """Mean mae or huber at every bias of an evenly spaced, increasing grid `b`, for given weights,
    from one histogram of the residuals per weight vector (the module's docstring says why)."""

    def __init__(self, loss: str, b: np.ndarray, broadcast: Broadcast) -> None:
        self.loss = loss
        self.broadcast = broadcast
        self.b = b
        self.steps = b.size
        self.step = float(b[-1] - b[0]) / (b.size - 1) if b.size > 1 else 0.0
        self.usable = bool(np.isfinite(b).all()) and math.isfinite(self.step)

    def cost(self, w: np.ndarray) -> np.ndarray:
        """(k, B): the mean loss of each weight row of w (k, d) with each grid bias."""
        out = np.empty((w.shape[0], self.steps))
        for i, wi in enumerate(w):
            r = self.broadcast.residuals(wi)
            center = float(r.mean())
            if not (self.usable and math.isfinite(center)):  # overflowing values: as broadcasting has them
                out[i] = self.broadcast.cost(np.repeat(wi[None, :], self.steps, axis=0), self.b)
                continue
            r -= center
            shifted = self.b - center
            out[i] = self._mae(r, shifted) if self.loss == "mae" else self._huber(r, shifted)
        return out

    def _cells(self, v: np.ndarray, first: float) -> np.ndarray:
        """For each value, how many grid biases (shifted, starting at `first`) are ≤ it: 0..B."""
        if self.step == 0.0:  # one bias, or all equal
            return np.where(v >= first, self.steps, 0)
        q = v - first
        q /= self.step
        np.floor(q, out=q)
        q += 1.0
        np.clip(q, 0.0, float(self.steps), out=q)
        return q.astype(np.intp)

    def _sums(self, cells: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Cumulative count (or sum of `weights`) over the cells: entry j is over the values with
        cell ≤ j, entry B over all."""
        return np.cumsum(np.bincount(cells, weights=weights, minlength=self.steps + 1))

    def _mae(self, r: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Σ|b − rᵢ| = b·(2·#{rᵢ < b} − N) + Σrᵢ − 2·Σ_{rᵢ<b} rᵢ, over N."""
        n, steps = r.size, self.steps
        cells = self._cells(r, float(b[0]))  # rᵢ < b_j ⟺ cellᵢ ≤ j
        below = self._sums(cells)[:steps]
        sums = self._sums(cells, r)
        return (b * (2.0 * below - n) + (sums[steps] - 2.0 * sums[:steps])) / n

    def _huber(self, r: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Residual e = b − rᵢ: δ·(|e| − δ/2) where rᵢ < b − δ (left) or rᵢ ≥ b + δ (right), e²/2
        between (middle); each part is a polynomial in b of the part's count, Σrᵢ and Σrᵢ²."""
        n, steps, d = r.size, self.steps, HUBER_DELTA
        first = float(b[0])
        left = self._cells(r + d, first)  # rᵢ < b_j − δ ⟺ leftᵢ ≤ j
        upto = self._cells(r - d, first)  # rᵢ < b_j + δ ⟺ uptoᵢ ≤ j (left ⊆ upto)
        square = r * r
        square[left == 0] = 0.0  # left of every window: in both sums below, so they cancel exactly
        left_n, left_1, left_2 = self._sums(left)[:steps], self._sums(left, r), self._sums(left, square)
        upto_n, upto_1, upto_2 = self._sums(upto)[:steps], self._sums(upto, r), self._sums(upto, square)
        total_1 = upto_1[steps]
        left_1, upto_1 = left_1[:steps], upto_1[:steps]
        mid_n, mid_1, mid_2 = upto_n - left_n, upto_1 - left_1, upto_2[:steps] - left_2[:steps]
        right_n, right_1 = n - upto_n, total_1 - upto_1
        linear = d * (b * left_n - left_1) + d * (right_1 - b * right_n) - 0.5 * d * d * (left_n + right_n)
        quadratic = 0.5 * (b * (mid_n * b - 2.0 * mid_1) + mid_2)
        return (linear + quadratic) / n


def grid_axes(grid: Grid, n_features: int) -> dict[str, np.ndarray]:
    """Axis name → values: "w" (one feature) or "w0", "w1", … then "b" if the bias is searched."""
    if len(grid.w) not in (1, n_features):
        raise InvalidData(
            f"optimizer.grid.w has {len(grid.w)} ranges but the data has {n_features} features; "
            "give one range for all features or one per feature"
        )
    ranges = grid.w * n_features if len(grid.w) == 1 else grid.w
    if n_features == 1:
        axes = {"w": np.array(ranges[0].points())}
    else:
        axes = {f"w{j}": np.array(r.points()) for j, r in enumerate(ranges)}
    if grid.b is not None:
        axes["b"] = np.array(grid.b.points())
    return axes


def search(splits: Splits, config: JobConfig, reporter: Reporter, deadline: Deadline) -> TrainOutput:
    """Evaluate the whole grid on the training split and keep the first lowest point."""
    grid = config.optimizer.grid
    assert grid is not None  # the spec requires it for exhaustive
    n_features = splits.train.x.shape[1]
    axes = grid_axes(grid, n_features)
    values = list(axes.values())
    shape = tuple(len(v) for v in values)
    total = math.prod(shape)
    with_bias = grid.b is not None
    reporter.plan(epochs=0, steps_per_epoch=0, log_every=1, total_steps=total, lr=None)

    evaluate = _evaluator(config.loss, splits.train, values, shape, n_features, with_bias)
    chunk = chunk_points(config.loss, splits.train.rows, shape[-1] if with_bias else None)
    cost = np.empty(total, dtype=np.float64)
    for start in range(0, total, chunk):
        stop = min(start + chunk, total)
        with np.errstate(over="ignore", invalid="ignore"):  # a grid may overflow: inf, as broadcasting
            cost[start:stop] = evaluate(start, stop)
        reporter.search_progress(stop, total)
        signal = reporter.tick()
        # a search is fast and keeps no checkpoint: CHECKPOINT is ignored, SUSPEND leaves without one
        if signal and signal != Signal.CHECKPOINT:
            if signal == Signal.SUSPEND:
                raise Suspended(
                    f"search suspended after {stop} of {total} grid points; it starts again from the beginning"
                )
            raise Cancelled(f"search cancelled after {stop} of {total} grid points")
        if deadline.expired():
            raise TimedOut.after(deadline.seconds, f"after {stop} of {total} grid points")

    best = int(np.argmin(cost))
    w_best, b_best = _points(values, shape, best, best + 1, n_features, with_bias)
    params = Params.linear(w_best[0], float(b_best[0]))
    numbers = final_numbers(params, splits, LOSSES[config.loss]).fields()
    return TrainOutput(
        outcome="searched",
        params=params.to_json(),
        **numbers,
        epochs_run=0,
        steps=total,
        seconds=deadline.elapsed(),
        metrics={
            "train_loss": numbers["train_loss"],
            "train_loss_smoothed": None,
            "dev_loss": numbers["dev_loss"],
            "best_dev_loss": None,
            "best_epoch": None,
        },
        log_every=1,
        lr=None,
        surface={
            "axes": {name: [float(v) for v in vals] for name, vals in axes.items()},
            "cost": cost.reshape(shape),
        },
    )


def _evaluator(
    loss: str,
    part: Part,
    values: list[np.ndarray],
    shape: tuple[int, ...],
    n_features: int,
    with_bias: bool,
) -> Callable[[int, int], np.ndarray]:
    """(start, stop) → the costs of flat grid indices start..stop−1; with a histogram, start and stop
    are multiples of the bias grid's size (chunk_points makes them so)."""
    if loss == "mse":
        stats = MSEStats.of(part.x, part.y)
        if with_bias:
            return lambda start, stop: stats.cost_rows(
                _weights(values, shape, start, stop), values[-1]
            ).ravel()
        return lambda start, stop: stats.cost(*_points(values, shape, start, stop, n_features, with_bias))
    broadcast = Broadcast(loss, part)
    if with_bias and loss in HISTOGRAM_LOSSES:
        histogram = BiasHistogram(loss, values[-1], broadcast)
        return lambda start, stop: histogram.cost(_weights(values, shape, start, stop)).ravel()
    return lambda start, stop: broadcast.cost(*_points(values, shape, start, stop, n_features, with_bias))


def _weights(values: list[np.ndarray], shape: tuple[int, ...], start: int, stop: int) -> np.ndarray:
    """The distinct weight vectors (k, d) of flat grid indices start..stop−1 of a grid whose last
    axis is the bias; start and stop are multiples of the bias axis's length."""
    steps = shape[-1]
    index = np.unravel_index(np.arange(start // steps, stop // steps), shape[:-1])
    return np.stack([values[j][index[j]] for j in range(len(shape) - 1)], axis=1)


def _points(
    values: list[np.ndarray],
    shape: tuple[int, ...],
    start: int,
    stop: int,
    n_features: int,
    with_bias: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Weights (k, d) and biases (k,) of flat grid indices start..stop−1, in C order."""
    index = np.unravel_index(np.arange(start, stop), shape)
    w = np.stack([values[j][index[j]] for j in range(n_features)], axis=1)
    b = values[-1][index[-1]] if with_bias else np.zeros(stop - start)
    return w, b
