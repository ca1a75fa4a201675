"""Compiled loops (numba): gradient steps of a linear model under mse, and the history fold.

Why compiled: gd, sgd and minibatch on a linear model under mse need no autograd — the gradient of
mean((Xw + b − y)²) is 2·Xᵀr/m and 2·Σr/m with r = Xw + b − y — and their per-update cost in
PyTorch is Python and dispatch overhead, not arithmetic (an sgd update costs ~150 µs through
autograd, ~0.1 µs here). One kernel, `descend`, makes every such update. It works on blocks of rows
held feature-major — one contiguous run per feature — so that a block's residuals are d vectorised
axpys and its gradient d vectorised dot products, in one pass over the data. Full-batch runs keep
the whole split feature-major (`fill`), and a gd epoch on 10⁶ × 10 is then memory-bound; shuffled
runs (sgd, minibatch) pass the row-major split with the epoch's permutation, and each block's rows
are gathered into a small feature-major buffer that stays in cache: no permuted copy (each row
prefetched `prefetch.AHEAD` rows before it is read: in a random order the rows are trips to memory).

Numerics. Everything is float32 like the autograd path (parameters, data, residuals); the sums over
a block of rows are float32, the sums over blocks float64. `FAST_MATH` lets LLVM reassociate those
sums (vectorised reductions) and contract a·b + c into fused multiply-adds; it never assumes the
absence of NaN or infinity, so a diverging run is still seen. The result depends only on the data,
the parameters and the compiled machine code, never on timing or threads, so a run and its resumed
continuation agree bit for bit on one kind of CPU. `fill` and `fold` are exact (no fast math): the
first standardizes exactly as `data.Scaling` does, and the second replays
`history.TrainHistory` and the epoch cost sum in the autograd loop's order.

Compilation. `cache=True` keeps the machine code in numba's cache directory: NUMBA_CACHE_DIR when
the process sets it (the worker does, at start-up, from its settings), else next to this file or
in a per-user directory. `warm_up()` compiles everything once, which `python -m worker` does before
its first job. Nothing is fetched: numba compiles locally with llvmlite.
"""

from __future__ import annotations

import numba
import numpy as np

from .prefetch import AHEAD, prefetch_ahead

BLOCK_ROWS = 2048
"""Rows whose residuals are held at once (8 KiB of float32: they stay in L1 while d columns pass)."""
GATHER_ROWS = 256
"""Rows gathered at once on a shuffled run (with 10 features, 10 KiB: the block stays in L1)."""
FAST_MATH = frozenset({"reassoc", "contract"})
"""LLVM fast-math flags of the descent kernel: reassociation and FMA contraction only."""

_EXACT = {"cache": True, "boundscheck": False, "nogil": True}
_FAST = {**_EXACT, "fastmath": set(FAST_MATH)}


@numba.njit(**_EXACT)
def fill(x, y, center, scale, y_center, y_scale, xt, yt):  # pragma: no cover - compiled
    """xt[j, i] = (x[i, j] − center[j]) / scale[j] and yt[i] = (y[i] − y_center) / y_scale, in
    float32 exactly as data.Scaling computes them (with center 0 and scale 1 the values are x's)."""
    n, d = x.shape
    for i in range(n):
        for j in range(d):
            xt[j, i] = (x[i, j] - center[j]) / scale[j]
        yt[i] = (y[i] - y_center) / y_scale


@numba.njit(**_FAST)
def descend(x, y, order, w, b, has_bias, lr, batch, first, stop, costs):  # pragma: no cover - compiled
    """Gradient steps on batches first..stop−1 of `batch` rows each (the last may be short).

    The rows: with `order` None, x is the split feature-major (d, n) and y its targets, read in
    their order; with `order` (a permutation of the rows), x is row-major (n, d) and the rows are
    x[order[0]], x[order[1]], … — gathered GATHER_ROWS at a time into a feature-major buffer.
    Each step: r = Xw + b − y on the batch, cost = mean(r²), w ← w − lr·(2·Xᵀr/m),
    b ← b − lr·(2·Σr/m) (b only when `has_bias`). costs[k − first] is batch k's cost before its
    update. Stops after the first update whose cost is not finite; returns the updates made.

    A batch of one row (sgd) takes scalar loops over its features, read in place: the same step,
    without the gather and the vector loops' set-up, which cost 1.5-2× at that size (measured).
    """
    if order is None:
        d, rows = x.shape
        size = min(batch, BLOCK_ROWS)
    else:
        d = x.shape[1]
        rows = order.shape[0]
        size = min(batch, GATHER_ROWS)
    lr32 = np.float32(lr)
    two = np.float32(2.0)
    row_end = d * x.itemsize - 1
    gathered = np.empty((d, 0 if order is None else size), dtype=np.float32)
    r = np.empty(size, dtype=np.float32)
    g = np.empty(d, dtype=np.float64)
    for k in range(first, stop):
        lo = k * batch
        hi = min(rows, lo + batch)
        m = hi - lo
        b0 = b[0]
        if order is not None and batch == 1:
            prefetch_ahead(x, y, order, lo + AHEAD, row_end)
            i = order[lo]
            e = b0 - y[i]
            for j in range(d):
                e += w[j] * x[i, j]
            cost = e * e
            ge = two * e
            for j in range(d):
                w[j] -= lr32 * (ge * x[i, j])
            if has_bias:
                b[0] -= lr32 * ge
        else:
            for j in range(d):
                g[j] = 0.0
            c = 0.0
            s = 0.0
            for blo in range(lo, hi, size):
                mb = min(hi, blo + size) - blo
                if order is None:
                    block, at = x, blo
                    ys = y[blo : blo + mb]
                    for t in range(mb):
                        r[t] = b0 - ys[t]
                else:
                    for t in range(mb):
                        prefetch_ahead(x, y, order, blo + t + AHEAD, row_end)
                        i = order[blo + t]
                        for j in range(d):
                            gathered[j, t] = x[i, j]
                        r[t] = b0 - y[i]
                    block, at = gathered, 0
                cb, sb = _block(block, at, mb, r, w, g)
                c += cb
                s += sb
            cost = c / m
            f = 2.0 / m
            for j in range(d):
                w[j] -= lr32 * np.float32(g[j] * f)
            if has_bias:
                b[0] -= lr32 * np.float32(s * f)
        costs[k - first] = cost
        if not np.isfinite(cost):
            return k - first + 1
    return stop - first


@numba.njit(inline="always", **_FAST)
def _block(xf, at, mb, r, w, g):  # pragma: no cover - compiled
    """One block of `descend`: the mb rows xf[:, at : at + mb] (feature-major) with r[:mb] = b − y
    on entry. r becomes the residuals, g (float64) gains the block's Xᵀr; returns Σr² and Σr."""
    d = xf.shape[0]
    for j in range(d):
        wj = w[j]
        col = xf[j, at : at + mb]  # 1-D contiguous views: the loops below vectorise
        for t in range(mb):
            r[t] += wj * col[t]
    cb = np.float32(0.0)
    sb = np.float32(0.0)
    for t in range(mb):
        cb += r[t] * r[t]
        sb += r[t]
    for j in range(d):
        col = xf[j, at : at + mb]
        acc = np.float32(0.0)
        for t in range(mb):
            acc += r[t] * col[t]
        g[j] += acc
    return cb, sb


@numba.njit(**_EXACT)
def fold(
    costs, count, scale, first_step, log_every, beta, state, steps, losses, smoothed
):  # pragma: no cover
    """history.TrainHistory.add for costs[:count] × scale (updates first_step+1, …), in order.

    `state` (float64[5]) is the open window's sum and count, whether a smoothed value exists, that
    value, and the epoch's cost sum so far; it is updated. Emitted points go to steps/losses/
    smoothed; returns how many. The arithmetic is the Python loop's, operation for operation.
    """
    window, filled, has, value, total = state[0], int(state[1]), state[2] != 0.0, state[3], state[4]
    emitted = 0
    for k in range(count):
        cost = costs[k] * scale
        total += cost
        window += cost
        filled += 1
        if filled == log_every:
            loss = window / filled
            if has:
                value = beta * loss + (1 - beta) * value
            else:
                value = loss
                has = True
            steps[emitted] = first_step + k + 1
            losses[emitted] = loss
            smoothed[emitted] = value
            emitted += 1
            window = 0.0
            filled = 0
    state[0], state[1], state[2], state[3], state[4] = window, filled, 1.0 if has else 0.0, value, total
    return emitted


@numba.njit(**_EXACT)
def moments(a, center, chunk):  # pragma: no cover - compiled
    """(mean per column, Σ (a[i, j] − mean[j])² per column), in float64, as data._moments
    computes them with numpy on a C-contiguous matrix of two or more columns: the sums down the
    rows in row order, the squares summed per block of `chunk` rows and the blocks added in turn
    (numpy's reduction along the outer axis adds row after row; one pass each, no float64 copy).
    Without `center` the mean is 0."""
    rows, cols = a.shape
    total = np.zeros(cols)
    if center:
        for i in range(rows):
            for j in range(cols):
                total[j] += np.float64(a[i, j])
    mean = total / rows if center else np.zeros(cols)
    squares = np.zeros(cols)
    block = np.zeros(cols)
    for start in range(0, rows, chunk):
        block[:] = 0.0
        for i in range(start, min(rows, start + chunk)):
            for j in range(cols):
                d = np.float64(a[i, j]) - mean[j]
                block[j] += d * d
        squares += block
    return mean, squares


def warm_up() -> None:
    """Compile (or load from the cache) every kernel for the types the engine calls them with:
    writable arrays, and read-only ones (the worker's data are views of Redis bytes)."""
    for writable in (True, False):
        x = np.ones((3, 2), dtype=np.float32)
        y = np.ones(3, dtype=np.float32)
        x.setflags(write=writable)
        y.setflags(write=writable)
        one = np.ones(2, dtype=np.float32)
        zero = np.zeros(2, dtype=np.float32)
        xt = np.empty((2, 3), dtype=np.float32)
        yt = np.empty(3, dtype=np.float32)
        fill(x, y, zero, one, np.float32(0.0), np.float32(1.0), xt, yt)
        w = np.zeros(2, dtype=np.float32)
        b = np.zeros(1, dtype=np.float32)
        costs = np.empty(3, dtype=np.float64)
        order = np.arange(3, dtype=np.int64)
        descend(x, y, order, w, b, True, 0.01, 2, 0, 2, costs)
        moments(x, True, 2)
    descend(xt, yt, None, w, b, True, 0.01, 2, 0, 2, costs)
    state = np.zeros(5)
    steps = np.empty(3, dtype=np.int64)
    fold(costs, 3, 1.0, 0, 1, 0.4, state, steps, np.empty(3), np.empty(3))
