"""Exhaustive search (course lesson 3): the cost at every point of a grid, and its argmin.

Why sufficient statistics: the MSE of a linear model depends on the data only through the means
and (co)variances of x and y, so each grid point costs O(d²) instead of O(N·d). Writing the cost
around the means, MSE(w, b) = var(y) − 2·w·cov(x, y) + wᵀ·cov(x)·w + (b + w·mean(x) − mean(y))²,
keeps it accurate in float64 even where the cost is tiny next to mean(y)². Grids and costs are in
original units (standardize is ignored). Points are evaluated in chunks with a cancel check and a
progress report between chunks. A search keeps no checkpoint: asked to suspend, it raises Suspended
without one, and the job searches again from the start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .config import Grid, TrainConfig
from .data import Splits
from .deadline import Deadline
from .errors import Cancelled, InvalidData, Suspended, TimedOut
from .losses import LOSSES
from .models import Params
from .reporting import Reporter, Signal
from .result import TrainOutput, final_numbers

SEARCH_CHUNK_POINTS = 65_536
"""Grid points evaluated between two `tick()` / `search_progress()` calls."""


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
        x64 = x.astype(np.float64)
        y64 = y.astype(np.float64)
        mean_x = x64.mean(axis=0)
        mean_y = float(y64.mean())
        xc = x64 - mean_x
        yc = y64 - mean_y
        n = x.shape[0]
        return cls(mean_x, mean_y, xc.T @ xc / n, xc.T @ yc / n, float(yc @ yc) / n)

    def cost(self, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        """MSE at each row of w (k, d) with bias b (k,); never below 0."""
        quad = np.einsum("ij,jk,ik->i", w, self.cov_xx, w)
        shift = b + w @ self.mean_x - self.mean_y
        cost = self.var_y - 2.0 * (w @ self.cov_xy) + quad + shift * shift
        return np.maximum(cost, 0.0)


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


def search(splits: Splits, config: TrainConfig, reporter: Reporter, deadline: Deadline) -> TrainOutput:
    """Evaluate the whole grid on the training split and keep the first lowest point."""
    grid = config.optimizer.grid
    assert grid is not None  # TrainConfig.from_dict requires it for exhaustive
    n_features = splits.train.x.shape[1]
    axes = grid_axes(grid, n_features)
    values = list(axes.values())
    shape = tuple(len(v) for v in values)
    total = math.prod(shape)
    reporter.plan(epochs=0, steps_per_epoch=0, log_every=1, total_steps=total, lr=None)

    stats = MSEStats.of(splits.train.x, splits.train.y)
    cost = np.empty(total, dtype=np.float64)
    for start in range(0, total, SEARCH_CHUNK_POINTS):
        stop = min(start + SEARCH_CHUNK_POINTS, total)
        w, b = _points(values, shape, start, stop, n_features, grid.b is not None)
        cost[start:stop] = stats.cost(w, b)
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
    w_best, b_best = _points(values, shape, best, best + 1, n_features, grid.b is not None)
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
