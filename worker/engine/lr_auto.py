"""`"lr": "auto"`: the learning rate the engine picks, and the stability bound divergence names.

Curvature. For a linear model in training space (features standardized when `standardize` is on,
with a column of ones when the model has a bias), let X be the training features and
L = c·λ_max(XᵀX/N) with c the loss's curvature constant (losses.LossSpec.curvature): the cost's
Hessian never exceeds L in any direction. c = 2 for mse (the Hessian is exactly 2·XᵀX/N), 1 for
huber (ψ'' ≤ 1), 1/4 for bce (σ' ≤ 1/4) and 1/2 for cross_entropy (the softmax Hessian
diag(p) − ppᵀ has no eigenvalue above 1/2). λ_max comes from the d×d matrix XᵀX/N, built in
float64 in chunks of rows (so 10⁶ rows cost one pass over the data), by numpy's eigvalsh for
d ≤ 512 and by power iteration above. Under mse, gradient descent is stable exactly when lr < 2/L;
that bound is what a Diverged message names for a linear model under mse. Weight decay adds
weight_decay·I to the Hessian (torch's L2 adds weight_decay·w to the gradient, bias included), so
with it L, and each per-sample constant below, grow by weight_decay.

The rules, applied in this order:
1. exhaustive: no learning rate (None).
2. Linear model, a loss with a curvature constant (mse, huber, bce, cross_entropy), optimizer
   gd, sgd, minibatch or momentum:
   - a full batch (gd, or a batch_size ≥ the training rows): lr = 1/L, the classical step for an
     L-smooth cost (on the course's worked example, 1/L = 3/28 solves it in one update);
   - batches of b < N rows: lr = 1/(2·L(b)) with L(b) = N(b−1)/(b(N−1))·L + (N−b)/(b(N−1))·L_max,
     the expected smoothness of b-row minibatches sampled without replacement, and
     L_max = c·max_i‖x_i‖² the largest per-sample constant (Gower et al., "SGD: General Analysis
     and Improved Rates", ICML 2019: their expected-smoothness constant of "b-nice" sampling, and
     Theorem 3.1's step ≤ 1/(2·L(b))). It is 1/(2·L_max) for sgd and grows towards 1/(2L) as b
     approaches N;
   - momentum multiplies that rate by (1 − momentum): heavy ball's steady-state step is
     lr/(1 − momentum), so this keeps the effective step of the momentum-free rule.
3. Everything else — adam (whose step is per coordinate, not tied to L), mae (not smooth), and
   every MLP: a learning-rate range test (Smith, "Cyclical Learning Rates for Training Neural
   Networks", 2017; fastai's lr_find): 200 updates of the configured optimizer and batch size on a
   deep copy of the freshly initialised model, the lr growing exponentially from 1e-7 to 10.
   Before each update the training-space loss is measured on a fixed sample of at most 1024
   training rows (as Smith measured on held data, rather than fastai's noisy batch loss: with
   batches of one row, sgd's batch losses made the minimum a matter of luck) and smoothed by a
   debiased moving average (β = 0.9); the test stops once that exceeds 4× its minimum or turns
   NaN (fastai's rule), and the rate used is the lr at the smoothed minimum divided by 10
   (fastai's "lr_min"). If the loss never turned up within the range (its minimum is the last
   point, as when a tiny data set is fitted exactly), no edge was found and the lr of steepest
   descent of the smoothed curve is used instead (fastai's "lr_steep"). The sample and the
   batches are drawn by a generator of their own (data.LR_TEST_STREAM), so the choice is
   deterministic and training's init and shuffle are untouched; batches hold at most 4096 rows,
   so a range test for gd on big data uses random 4096-row samples of the full batch.
   If the curvature L is 0 (all-zero features without a bias), rule 3 is used instead.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable

import numpy as np
import torch
from torch import nn

from descent.spec import JobConfig

GRAM_CHUNK_ROWS = 65_536
"""Rows per float64 block when accumulating XᵀX."""
EXACT_EIGEN_MAX_DIM = 512
"""Up to this dimension λ_max comes from numpy's eigvalsh; above, from power iteration."""
POWER_MAX_ITERATIONS = 2000
POWER_TOLERANCE = 1e-12
"""Power iteration stops once the Rayleigh quotient changes by at most this relative amount."""

RANGE_TEST_UPDATES = 200
RANGE_TEST_START = 1e-7
RANGE_TEST_END = 10.0
RANGE_TEST_BETA = 0.9
RANGE_TEST_STOP_FACTOR = 4.0
RANGE_TEST_MAX_ROWS = 4096
RANGE_TEST_EVAL_ROWS = 1024
RANGE_TEST_DIVISOR = 10.0


def auto_lr(
    config: JobConfig,
    curvature: float | None,
    features: np.ndarray,
    bias: bool,
    batch_size: int,
    run_range_test: Callable[[], float],
) -> float:
    """Rules 2 and 3 of the module docstring for a gradient-descent job: `smoothness_lr` on the
    training `features` (n, d) as the model sees them, with the loss's `curvature` constant, where
    rule 2 applies, else `run_range_test()` (range_test with the run's model and data)."""
    opt = config.optimizer
    if config.model.type == "linear" and curvature is not None and opt.type != "adam":
        momentum = opt.momentum if opt.type == "momentum" else 0.0
        lr = smoothness_lr(features, bias, curvature, batch_size, momentum, opt.weight_decay)
        if lr is not None:
            return lr
    return run_range_test()


def gram(x: np.ndarray, bias: bool) -> np.ndarray:
    """XᵀX/N in float64 for (n, d) features x, with a column of ones appended when `bias`."""
    n, d = x.shape
    size = d + 1 if bias else d
    acc = np.zeros((size, size))
    for start in range(0, n, GRAM_CHUNK_ROWS):
        block = x[start : start + GRAM_CHUNK_ROWS].astype(np.float64)
        acc[:d, :d] += block.T @ block
        if bias:
            sums = block.sum(axis=0)
            acc[:d, d] += sums
            acc[d, :d] += sums
    if bias:
        acc[d, d] = n
    return acc / n


def power_iteration(a: np.ndarray) -> float:
    """The largest eigenvalue of a symmetric positive semi-definite matrix, by power iteration.

    The start vector is fixed (all ones, plus a small deterministic ramp so that it is not
    orthogonal to the top eigenvector of a structured matrix); the estimate is the Rayleigh quotient.
    """
    d = a.shape[0]
    v = np.ones(d) + np.linspace(0.0, 0.5, d)
    v /= np.linalg.norm(v)
    estimate = 0.0
    for _ in range(POWER_MAX_ITERATIONS):
        w = a @ v
        norm = float(np.linalg.norm(w))
        if norm == 0.0:
            return 0.0
        previous, estimate = estimate, float(v @ w)
        v = w / norm
        if abs(estimate - previous) <= POWER_TOLERANCE * abs(estimate):
            break
    return float(v @ (a @ v))


def largest_eigenvalue(a: np.ndarray) -> float:
    """λ_max of a symmetric PSD matrix: exact (eigvalsh) when small, power iteration otherwise."""
    if a.shape[0] <= EXACT_EIGEN_MAX_DIM:
        return float(np.linalg.eigvalsh(a)[-1])
    return power_iteration(a)


def curvature(x: np.ndarray, bias: bool, constant: float) -> float:
    """L = constant·λ_max(XᵀX/N) for training-space features x."""
    return constant * max(largest_eigenvalue(gram(x, bias)), 0.0)


def mse_stability_bound(x: np.ndarray, bias: bool, weight_decay: float = 0.0) -> float | None:
    """2/L for mse (L = 2·λ_max(XᵀX/N) + weight_decay): gradient descent diverges above it. None
    when L = 0."""
    lipschitz = curvature(x, bias, 2.0) + weight_decay
    return 2.0 / lipschitz if lipschitz > 0 else None


def max_row_norm2(x: np.ndarray, bias: bool) -> float:
    """max_i ‖x_i‖² (with the 1 of the bias column when `bias`), float64, chunked."""
    best = 0.0
    for start in range(0, x.shape[0], GRAM_CHUNK_ROWS):
        block = x[start : start + GRAM_CHUNK_ROWS].astype(np.float64)
        best = max(best, float(np.einsum("ij,ij->i", block, block).max()))
    return best + (1.0 if bias else 0.0)


def smoothness_lr(
    x: np.ndarray,
    bias: bool,
    constant: float,
    batch_size: int,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
) -> float | None:
    """Rule 2 of the module docstring; None when the data's L is 0 (weight decay alone does not
    set the rate: rule 3 then)."""
    data_curvature = curvature(x, bias, constant)
    if not (data_curvature > 0 and math.isfinite(data_curvature)):
        return None
    lipschitz = data_curvature + weight_decay
    n, b = x.shape[0], batch_size
    if b >= n:
        lr = 1.0 / lipschitz
    else:
        l_max = constant * max_row_norm2(x, bias) + weight_decay
        expected = n * (b - 1) / (b * (n - 1)) * lipschitz + (n - b) / (b * (n - 1)) * l_max
        lr = 1.0 / (2.0 * expected)
    return lr * (1.0 - momentum)


def range_test(
    model: nn.Module,
    make_optimizer: Callable[[Iterable[nn.Parameter], float], torch.optim.Optimizer],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
    check: Callable[[], None],
) -> float:
    """Rule 3 of the module docstring. `model` is not modified; `check` runs after every update
    (it raises to cancel or to stop at the time limit)."""
    probe = copy.deepcopy(model)
    optimizer = make_optimizer(probe.parameters(), RANGE_TEST_START)
    rows = x.shape[0]
    batch = min(batch_size, rows, RANGE_TEST_MAX_ROWS)
    if rows > RANGE_TEST_EVAL_ROWS:
        sample = torch.randperm(rows, generator=generator)[:RANGE_TEST_EVAL_ROWS]
        x_eval, y_eval = x[sample], y[sample]
    else:
        x_eval, y_eval = x, y
    growth = (RANGE_TEST_END / RANGE_TEST_START) ** (1.0 / (RANGE_TEST_UPDATES - 1))
    order = torch.arange(rows)
    position = rows if batch < rows else 0
    lrs: list[float] = []
    smoothed: list[float] = []
    average = 0.0
    lowest = math.inf
    stopped = False
    for i in range(RANGE_TEST_UPDATES):
        with torch.no_grad():
            value = loss_fn(probe(x_eval), y_eval).item()
        if not math.isfinite(value):
            stopped = True
            break
        average = RANGE_TEST_BETA * average + (1 - RANGE_TEST_BETA) * value
        current = average / (1 - RANGE_TEST_BETA ** (i + 1))
        if current > RANGE_TEST_STOP_FACTOR * lowest:
            stopped = True
            break
        lowest = min(lowest, current)
        lr = RANGE_TEST_START * growth**i
        lrs.append(lr)
        smoothed.append(current)
        for group in optimizer.param_groups:
            group["lr"] = lr
        if batch < rows:
            if position + batch > rows:
                order = torch.randperm(rows, generator=generator)
                position = 0
            index = order[position : position + batch]
            position += batch
            xb, yb = x[index], y[index]
        else:
            xb, yb = x, y
        optimizer.zero_grad()
        loss_fn(probe(xb), yb).backward()
        optimizer.step()
        check()
    if len(smoothed) < 2:
        return RANGE_TEST_START
    curve = np.array(smoothed)
    best = int(np.argmin(curve))
    if best == len(curve) - 1 and not stopped:
        # the loss never turned up: no edge of stability was found, so take the steepest descent
        slope = np.gradient(curve, np.log(np.array(lrs)))
        return lrs[int(np.argmin(slope))]
    return lrs[best] / RANGE_TEST_DIVISOR
