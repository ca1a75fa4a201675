"""The fast paths: the same training as the plain autograd loop, computed with less overhead.

Why: the plain loop (loop.py's zero_grad, forward, loss, backward, step) is the reference, and it
stays available (`train(..., fast=False)`, or DESCENT_FAST_PATHS=0 for a whole worker). But most
of its time on small models is PyTorch's per-call overhead, not arithmetic. Two fast paths, chosen
by `choose()` from the config alone:

- COMPILED — a linear model (one output) under mse with gd, sgd or minibatch: every update runs in
  numba (kernels.py). For gd the training split is standardized once into a feature-major float32
  copy, which one fused pass per epoch reads; for sgd and minibatch the kernels read the rows of
  the standardized split through each epoch's permutation (the plain loop's, drawn from the same
  generator), so no permuted copy is made: the job holds its raw data and at most one copy of it.
  History windows, the epoch's
  cost sum and the divergence check are folded over a chunk of updates at a time (kernels.fold,
  exact). Reporters that set `batched_ticks` get one tick() per chunk — chunks are sized to take
  about `CHUNK_SECONDS` — and every other reporter one per update, as in the plain loop.
- DENSE — any other linear model or MLP under mse (momentum, adam, or an MLP with any optimizer):
  the forward and backward passes are written out with torch.mm/addmm under no_grad (no autograd
  graph), the gradients are written into the parameters' .grad, and torch.optim's fused
  optimizer (one kernel for all parameters) steps. The optimizer state is torch.optim's, so
  checkpoints are the plain loop's format.

Both give the plain loop's numbers within float32 rounding (tests/engine/test_fast_paths.py) and
are deterministic, so a checkpointed and resumed run equals the uninterrupted run of the same path
bit for bit. Everything else (other losses, classification) takes the plain loop.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch

from descent.spec import JobConfig

from . import kernels
from .data import Scaling
from .losses import LossSpec
from .models import EngineModel

PLAIN = "plain"
COMPILED = "compiled"
DENSE = "dense"

CHUNK_SECONDS = 0.005
"""How long a chunk of compiled updates between two tick() calls should take (batched reporters)."""
MAX_CHUNK_UPDATES = 1 << 20

SMALL_DATA_CELLS = 1 << 22
"""A DENSE run on at most this many training cells (16 MiB of float32) permutes a copy of them
each epoch and slices its batches; a larger one gathers each batch's rows instead (no copy)."""
SMALL_UPDATE_MACS = 1 << 24
"""A DENSE update of at most this many multiply-adds (batch rows × parameters) runs on one
intra-op thread: PyTorch's parallel regions cost more than they save on such small tensors, and
with two workers on two cores (a sweep) they wait for each other's threads."""

ENV_SWITCH = "DESCENT_FAST_PATHS"
"""Set to 0 to train every job with the plain autograd loop."""


def enabled_by_default() -> bool:
    """True unless DESCENT_FAST_PATHS is 0, false, no or off."""
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def choose(config: JobConfig, loss: LossSpec, outputs: int, fast: bool | None) -> str:
    """PLAIN, COMPILED or DENSE for this job (module docstring)."""
    if fast is None:
        fast = enabled_by_default()
    if not fast or config.loss != "mse" or outputs != 1 or not loss.regression:
        return PLAIN
    if config.model.type == "linear" and config.optimizer.type in ("gd", "sgd", "minibatch"):
        return COMPILED
    return DENSE


def dense_threads(model: torch.nn.Module, batch_size: int) -> int | None:
    """The intra-op threads a DENSE run uses: 1 for small updates (SMALL_UPDATE_MACS), else None
    (the process's setting). Decided by the config and data alone, so it reproduces."""
    parameters = sum(p.numel() for p in model.parameters())
    return 1 if batch_size * parameters <= SMALL_UPDATE_MACS else None


@contextmanager
def intra_op_threads(threads: int | None) -> Iterator[None]:
    """Run the block with torch.set_num_threads(threads) (None: leave it), restoring it after.

    The compiled path runs with one: its kernels are single-threaded and its one torch call per
    epoch (randperm, whose shuffle is serial) only wakes OpenMP threads that then spin — with two
    workers on two cores, each job ran 1.4× slower for it."""
    before = torch.get_num_threads()
    if threads is None or threads == before:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class LinearKernel:
    """The compiled path's data and parameters. Full-batch runs (gd, or batches of every row) keep
    the split standardized once into a feature-major copy (`xt`, `yt`), which one fused pass per
    epoch reads. Shuffled runs read the rows of the row-major standardized split (the plain loop's
    `x`, or the raw data itself without standardization: no copy at all) through each epoch's
    permutation. The weight and bias are numpy views of the model's parameters, updated in place."""

    def __init__(
        self, x: np.ndarray, y: np.ndarray, scaling: Scaling, whole: bool, standardize: bool
    ) -> None:
        """x (n, d) and y (n,): the raw training split (read-only views are fine); `whole`: every
        update sees all rows in their order (no shuffling); `standardize`: scaling is not identity."""
        self.xt: np.ndarray | None = None
        self.yt: np.ndarray | None = None
        if whole:
            n, d = x.shape
            self.xt = np.empty((d, n), dtype=np.float32)
            self.yt = np.empty(n, dtype=np.float32)
            kernels.fill(
                x,
                y,
                scaling.x_center.astype(np.float32),
                scaling.x_scale.astype(np.float32),
                np.float32(scaling.y_center),
                np.float32(scaling.y_scale),
                self.xt,
                self.yt,
            )
            self.x, self.y = self.xt.T, self.yt
        elif standardize:
            self.x, self.y = scaling.features(x), scaling.target(y)
        else:
            self.x, self.y = x, y
        self.order = np.arange(x.shape[0], dtype=np.int64)
        self.w = np.zeros(x.shape[1], dtype=np.float32)
        self.b = np.zeros(1, dtype=np.float32)
        self.has_bias = False

    def bind(self, model: EngineModel) -> None:
        """Train `model`'s parameters (a LinearModel with one output) in place."""
        linear = model.linear
        self.w = linear.weight.detach().numpy()[0]
        self.has_bias = linear.bias is not None
        self.b = linear.bias.detach().numpy() if self.has_bias else np.zeros(1, dtype=np.float32)

    def shuffle(self, order: torch.Tensor) -> None:
        """Visit the rows in `order` (a permutation) from now on."""
        self.order = order.numpy()

    def run(self, lr: float, batch: int, first: int, stop: int, costs: np.ndarray) -> int:
        """Batches first..stop−1 of the current order; costs[i] gets the (i+1)-th one's cost."""
        w, b, bias = self.w, self.b, self.has_bias
        if self.xt is not None:
            return int(kernels.descend(self.xt, self.yt, w, b, bias, lr, batch, first, stop, costs))
        if batch == 1:
            return int(
                kernels.descend_one_rows(self.x, self.y, self.order, w, b, bias, lr, first, stop, costs)
            )
        return int(
            kernels.descend_rows(self.x, self.y, self.order, w, b, bias, lr, batch, first, stop, costs)
        )


_ACTIVATIONS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], str]] = {
    "relu": (torch.relu_, "relu"),
    "tanh": (torch.tanh_, "tanh"),
    "sigmoid": (torch.sigmoid_, "sigmoid"),
    "identity": (lambda h: h, "identity"),
}


class DenseStep:
    """One update of a dense net (a linear model or an MLP) under mse, without autograd.

    Forward: h₀ = x, zᵢ = hᵢ₋₁Wᵢᵀ + bᵢ, hᵢ = act(zᵢ) between layers, out = z_L. With r = out − y
    and m rows, the loss is mean(r²) and the backward pass is δ_L = 2r/m, ∇W_i = δᵢᵀhᵢ₋₁,
    ∇bᵢ = Σδᵢ, δᵢ₋₁ = (δᵢWᵢ) ⊙ act'(hᵢ₋₁), with act' from the activation's output: 1 for identity,
    [h > 0] for relu (aten's threshold_backward, as autograd), 1 − h² for tanh, h(1 − h) for
    sigmoid. The gradients go into .grad; then the optimizer steps. A fused Adam steps through
    torch._fused_adam_ directly — the call its step() makes, without the per-step bookkeeping
    around it (~20 µs instead of ~90 µs for an MLP's six tensors; its state stays torch.optim's).
    Returns the batch's loss as a float.
    """

    def __init__(self, model: EngineModel, optimizer: torch.optim.Optimizer) -> None:
        self.layers = model.linear_layers()
        self.optimizer = optimizer
        self.act, self.kind = _ACTIVATIONS[model.activation]
        for lin in self.layers:
            for p in lin.parameters():
                p.grad = torch.zeros_like(p)
        group = optimizer.param_groups[0]
        self.direct_adam = (
            isinstance(optimizer, torch.optim.Adam)
            and len(optimizer.param_groups) == 1
            and bool(group.get("fused"))
            and not group["amsgrad"]
            and not group["maximize"]
            and not group.get("decoupled_weight_decay", False)
            and group["weight_decay"] == 0
            and not isinstance(group["lr"], torch.Tensor)
        )

    def __call__(self, xb: torch.Tensor, yb: torch.Tensor) -> float:
        layers = self.layers
        last = len(layers) - 1
        with torch.no_grad():
            hs = [xb]
            h = xb
            for i, lin in enumerate(layers):
                bias = lin.bias
                h = torch.mm(h, lin.weight.t()) if bias is None else torch.addmm(bias, h, lin.weight.t())
                if i < last:
                    h = self.act(h)
                    hs.append(h)
            r = h.squeeze(1) - yb
            m = r.shape[0]
            loss = torch.dot(r, r)
            delta = r.mul_(2.0 / m).unsqueeze(1)
            for i in range(last, -1, -1):
                lin = layers[i]
                torch.mm(delta.t(), hs[i], out=lin.weight.grad)
                if lin.bias is not None:
                    torch.sum(delta, 0, out=lin.bias.grad)
                if i > 0:
                    delta = self._backward_activation(torch.mm(delta, lin.weight), hs[i])
            self._step()
        return loss.item() / m

    def _step(self) -> None:
        optimizer = self.optimizer
        group = optimizer.param_groups[0]
        params = group["params"]
        if not self.direct_adam or len(optimizer.state) != len(params):
            optimizer.step()  # the first step creates the state
            return
        states = [optimizer.state[p] for p in params]
        steps = [s["step"] for s in states]
        beta1, beta2 = group["betas"]
        torch._foreach_add_(steps, 1)
        torch._fused_adam_(
            params,
            [p.grad for p in params],
            [s["exp_avg"] for s in states],
            [s["exp_avg_sq"] for s in states],
            [],
            steps,
            amsgrad=False,
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            weight_decay=0.0,
            eps=group["eps"],
            maximize=False,
            grad_scale=None,
            found_inf=None,
        )

    def _backward_activation(self, delta: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """delta ⊙ act'(z), from the activation's output h."""
        if self.kind == "relu":
            return torch.ops.aten.threshold_backward(delta, h, 0.0)
        if self.kind == "tanh":
            return delta.mul_(1.0 - h * h)
        if self.kind == "sigmoid":
            return delta.mul_(h * (1.0 - h))
        return delta
