"""How a gradient-descent run updates its parameters: three strategies behind one interface.

Why: the epoch loop (loop.py) is one loop for every job — it draws each epoch's permutation, asks
its `Updates` for the epoch's batches (`update`, or `run` for a chunk of them), and does everything
else once: the history, tick() and its cancel and checkpoints, the deadline, divergence. What
differs is only how an update is computed, chosen from the config alone by `choose_path`:

- AUTOGRAD — zero_grad, forward, loss, backward, step with a torch.optim optimizer: the reference,
  taken by every job with `train(..., fast=False)` and by every job no other path covers (losses
  other than mse, classification).
- COMPILED — a linear model (one output) under mse with gd, sgd or minibatch, without weight decay
  or gradient clipping: every update in numba (kernels.descend), on the split standardized once.
  Full-batch runs keep a feature-major copy; shuffled runs read the rows through each epoch's
  permutation (the autograd path's, drawn from the same generator), so the job holds its raw data
  and at most one copy of it. With a reporter that has `batched_ticks`, one call makes a chunk of
  updates (`chunked`).
- DENSE — any other linear model or MLP under mse: dense.DenseStep, a hand-written backward pass
  and torch.optim's fused optimizer, on the autograd path's batches.

Regularization and schedules (`optimizer.weight_decay`, `clip_norm`, `schedule`): every path takes
a schedule — it only sets the rate between epochs (`set_lr`), which the kernel takes as an
argument and the torch optimizers read from their param group. Weight decay is torch.optim's own
(the optimizer is made with it, fused or not) and clipping is optimizers.clip_gradients between
backward and step, on the AUTOGRAD and DENSE paths alike; the compiled kernel has neither, so a
job with either takes DENSE instead of COMPILED (the simple choice: one implementation of each,
torch's; tests/engine/test_fast_paths_agreement.py says which path each option takes).

COMPILED and DENSE give AUTOGRAD's numbers within float32 rounding (tests/engine/test_fast_paths_agreement.py);
all three are deterministic, so a checkpointed and resumed run equals the uninterrupted run of the
same path bit for bit.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Protocol

import numpy as np
import torch

from descent.spec import JobConfig

from . import kernels
from .data import Part, Scaling
from .dense import DenseStep
from .losses import LossSpec
from .models import EngineModel
from .optimizers import clip_gradients

SMALL_DATA_CELLS = 1 << 22
"""A DENSE run on at most this many training cells (16 MiB of float32) permutes a copy of them
each epoch and slices its batches; a larger one gathers each batch's rows instead (no copy)."""
SMALL_UPDATE_MACS = 1 << 24
"""A DENSE update of at most this many multiply-adds (batch rows × parameters) runs on one
intra-op thread: PyTorch's parallel regions cost more than they save on such small tensors, and
with two workers on two cores (a sweep) they wait for each other's threads."""


class UpdatePath(StrEnum):
    """The strategy a run's updates take (module docstring)."""

    AUTOGRAD = "autograd"
    COMPILED = "compiled"
    DENSE = "dense"


def choose_path(config: JobConfig, loss: LossSpec, outputs: int, fast: bool) -> UpdatePath:
    """AUTOGRAD, COMPILED or DENSE for this job; `fast=False` always takes AUTOGRAD."""
    if not fast or config.loss != "mse" or outputs != 1 or not loss.regression:
        return UpdatePath.AUTOGRAD
    opt = config.optimizer
    plain_steps = opt.weight_decay == 0 and opt.clip_norm is None  # what the kernel computes
    if config.model.type == "linear" and opt.type in ("gd", "sgd", "minibatch") and plain_steps:
        return UpdatePath.COMPILED
    return UpdatePath.DENSE


class Updates(Protocol):
    """A run's parameter updates over the training split, as the epoch loop calls them."""

    chunked: bool
    """True: `run` makes many updates in one call, cheap enough per update that ticks may come
    once per chunk (for a reporter with `batched_ticks`); else the loop calls `update`."""
    threads: int | None
    """The intra-op threads to train with (None: the process's setting), known after `bind`."""

    def features(self) -> np.ndarray:
        """The training features as the model sees them (n, d), in their original order."""
        ...

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The training features and targets as the model sees them, as tensors."""
        ...

    def bind(self, model: EngineModel, optimizer: torch.optim.Optimizer, lr: float) -> None:
        """Update `model`'s parameters with `optimizer` (made for this path) at rate `lr`."""
        ...

    def set_lr(self, lr: float) -> None:
        """Train at rate `lr` from the next update on (a schedule's step, between epochs)."""
        ...

    def start_epoch(self, order: torch.Tensor) -> None:
        """Visit the rows in `order` (the epoch's permutation) from now on; only shuffled runs call it."""
        ...

    def end_epoch(self) -> None:
        """Let go of what only the epoch needed (a permuted copy of the split), so that the next
        epoch's copy, or the final numbers, do not come on top of it."""
        ...

    def update(self, batch: int) -> float:
        """Update on batch `batch` of the epoch; returns its training-space cost before the update."""
        ...

    def run(self, first: int, stop: int, costs: np.ndarray) -> int:
        """Batches first..stop−1 of the epoch (`chunked` strategies only); costs[i] gets the
        training-space cost of the (i+1)-th before its update. Stops after a non-finite cost;
        returns the updates made."""
        ...


def make_updates(
    path: UpdatePath,
    part: Part,
    scaling: Scaling,
    loss: LossSpec,
    train_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    config: JobConfig,
    batch_size: int,
) -> Updates:
    """The strategy for `path` on the raw training split `part` (`train_loss`: AUTOGRAD's loss),
    with the job's `standardize` and `optimizer.clip_norm` (which COMPILED does not take)."""
    standardize, clip_norm = config.standardize, config.optimizer.clip_norm
    if path == UpdatePath.COMPILED:
        return CompiledUpdates(part.x, part.y, scaling, standardize, batch_size)
    if standardize:
        x = torch.from_numpy(scaling.features(part.x))
        y = scaling.target(part.y) if loss.regression else part.y
    else:
        x, y = tensor_view(part.x), part.y
    targets = loss.targets(y) if loss.multiclass else tensor_view(y)
    dense = path == UpdatePath.DENSE
    return TorchUpdates(
        x, targets, batch_size, dense, train_loss, dense and x.numel() > SMALL_DATA_CELLS, clip_norm
    )


class TorchUpdates:
    """AUTOGRAD and DENSE: one torch update per batch of the (permuted) split.

    An epoch's batches are slices of a permuted copy of the split, or with `gather` — a DENSE run
    on more than SMALL_DATA_CELLS — rows gathered through the permutation (the same batches, no copy)."""

    chunked = False

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        batch_size: int,
        dense: bool,
        train_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        gather: bool = False,
        clip_norm: float | None = None,
    ) -> None:
        self.x, self.y = x, y
        self.batch_size = batch_size
        self.dense = dense
        self.train_loss = train_loss
        self.gather = gather
        self.clip_norm = clip_norm
        self.optimizer: torch.optim.Optimizer | None = None
        self.threads: int | None = None
        self._x, self._y = x, y
        self._order: torch.Tensor | None = None
        self._step: Callable[[torch.Tensor, torch.Tensor], float] = _unbound

    def features(self) -> np.ndarray:
        return self.x.numpy()

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x, self.y

    def bind(self, model: EngineModel, optimizer: torch.optim.Optimizer, lr: float) -> None:
        self.optimizer = optimizer
        if self.dense:
            self._step = DenseStep(model, optimizer, self.clip_norm)
            self.threads = dense_threads(model, self.batch_size)
        else:
            self._step = AutogradStep(model, optimizer, self.train_loss, self.clip_norm)

    def set_lr(self, lr: float) -> None:
        """The rate is the optimizer's: both steps read it from its param group at each update."""
        assert self.optimizer is not None, "bind() first"
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def start_epoch(self, order: torch.Tensor) -> None:
        if self.gather:
            self._order = order
        else:
            self._x, self._y = self.x[order], self.y[order]

    def end_epoch(self) -> None:
        self._x, self._y, self._order = self.x, self.y, None

    def update(self, batch: int) -> float:
        start = batch * self.batch_size
        stop = start + self.batch_size
        if self._order is None:
            return self._step(self._x[start:stop], self._y[start:stop])
        rows = self._order[start:stop]
        return self._step(self._x.index_select(0, rows), self._y.index_select(0, rows))

    def run(self, first: int, stop: int, costs: np.ndarray) -> int:
        raise NotImplementedError("TorchUpdates is not chunked: the loop calls update()")


class AutogradStep:
    """The reference update: zero_grad, forward, loss, backward, (clip,) step; returns the batch's loss."""

    def __init__(
        self,
        model: EngineModel,
        optimizer: torch.optim.Optimizer,
        train_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        clip_norm: float | None = None,
    ) -> None:
        self.model, self.optimizer, self.train_loss = model, optimizer, train_loss
        self.clip_norm = clip_norm
        self.parameters = list(model.parameters())

    def __call__(self, xb: torch.Tensor, yb: torch.Tensor) -> float:
        self.optimizer.zero_grad()
        loss = self.train_loss(self.model(xb), yb)
        loss.backward()
        clip_gradients(self.parameters, self.clip_norm)
        self.optimizer.step()
        return loss.item()


class CompiledUpdates:
    """COMPILED: kernels.descend on the linear model's weight and bias, updated in place.

    Full-batch runs (gd, or batches of every row) keep the split standardized once into a
    feature-major copy (`xt`, and `y`), which one fused pass per epoch reads. Shuffled runs read the
    rows of the row-major standardized split (or the raw data itself without standardization: no
    copy at all) through each epoch's permutation."""

    chunked = True
    threads = 1
    """The kernel is single-threaded, and the run's one torch call per epoch (randperm, whose
    shuffle is serial) would only wake OpenMP threads that then spin — with two workers on two
    cores, each job ran 1.4× slower for it."""

    def __init__(
        self, x: np.ndarray, y: np.ndarray, scaling: Scaling, standardize: bool, batch_size: int
    ) -> None:
        """x (n, d) and y (n,): the raw training split (read-only views are fine)."""
        n, d = x.shape
        self.batch_size = batch_size
        self.xt: np.ndarray | None = None
        if batch_size >= n:
            self.xt = np.empty((d, n), dtype=np.float32)
            self.y = np.empty(n, dtype=np.float32)
            kernels.fill(
                x,
                y,
                scaling.x_center.astype(np.float32),
                scaling.x_scale.astype(np.float32),
                np.float32(scaling.y_center),
                np.float32(scaling.y_scale),
                self.xt,
                self.y,
            )
            self.x = self.xt.T
        elif standardize:
            self.x, self.y = scaling.features(x), scaling.target(y)
        else:
            self.x, self.y = x, y
        self.order: np.ndarray | None = None if self.xt is not None else np.arange(n, dtype=np.int64)
        self.w = np.zeros(d, dtype=np.float32)
        self.b = np.zeros(1, dtype=np.float32)
        self.has_bias = False
        self.lr = 0.0
        self._one = np.empty(1)

    def features(self) -> np.ndarray:
        return self.x

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        return tensor_view(self.x), tensor_view(self.y)

    def bind(self, model: EngineModel, optimizer: torch.optim.Optimizer, lr: float) -> None:
        """Train `model`'s parameters (a LinearModel with one output) in place; plain gradient
        steps keep no optimizer state, so `optimizer` has nothing to do."""
        linear = model.linear
        self.w = linear.weight.detach().numpy()[0]
        self.has_bias = linear.bias is not None
        self.b = linear.bias.detach().numpy() if self.has_bias else np.zeros(1, dtype=np.float32)
        self.lr = lr

    def set_lr(self, lr: float) -> None:
        self.lr = lr

    def start_epoch(self, order: torch.Tensor) -> None:
        self.order = order.numpy()

    def end_epoch(self) -> None:
        pass  # the permutation is all it holds (8 bytes a row), and the next epoch replaces it

    def update(self, batch: int) -> float:
        self.run(batch, batch + 1, self._one)
        return float(self._one[0])

    def run(self, first: int, stop: int, costs: np.ndarray) -> int:
        data = self.x if self.xt is None else self.xt
        return int(
            kernels.descend(
                data,
                self.y,
                self.order,
                self.w,
                self.b,
                self.has_bias,
                self.lr,
                self.batch_size,
                first,
                stop,
                costs,
            )
        )


def _unbound(xb: torch.Tensor, yb: torch.Tensor) -> float:
    raise RuntimeError("TorchUpdates.bind() first")


def tensor_view(a: np.ndarray) -> torch.Tensor:
    """A tensor sharing `a`'s memory; read-only arrays (np.frombuffer) are fine: none is written."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(a)


def dense_threads(model: torch.nn.Module, batch_size: int) -> int | None:
    """The intra-op threads a DENSE run uses: 1 for small updates (SMALL_UPDATE_MACS), else None
    (the process's setting). Decided by the config and data alone, so it reproduces."""
    parameters = sum(p.numel() for p in model.parameters())
    return 1 if batch_size * parameters <= SMALL_UPDATE_MACS else None


@contextmanager
def intra_op_threads(threads: int | None) -> Iterator[None]:
    """Run the block with torch.set_num_threads(threads) (None: leave it), restoring it after."""
    before = torch.get_num_threads()
    if threads is None or threads == before:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
