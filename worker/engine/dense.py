"""The dense updates: a hand-written forward and backward pass, then torch.optim's fused step.

Why: for a linear model or an MLP under mse, most of an autograd update's time on small models is
PyTorch's per-call overhead (building the graph, the optimizer's per-tensor loop), not arithmetic.
Written out with torch.mm/addmm under no_grad, with the gradients put in the parameters' .grad and
one fused optimizer kernel for all parameters, the same update costs a fraction of it and gives
the autograd loop's numbers within float32 rounding (tests/engine/test_fast_paths_agreement.py). The
optimizer and its state are torch.optim's, so checkpoints have the autograd path's format.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .models import EngineModel
from .optimizers import clip_gradients

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
    sigmoid. The gradients go into .grad, are clipped to `clip_norm` (optimizers.clip_gradients, as
    the autograd step does); then the optimizer steps, with its weight decay. A fused Adam steps
    through torch._fused_adam_ directly — the call its step() makes (weight decay included),
    without the per-step bookkeeping around it (~20 µs instead of ~90 µs for an MLP's six tensors;
    its state stays torch.optim's).
    Returns the batch's loss as a float.
    """

    def __init__(
        self, model: EngineModel, optimizer: torch.optim.Optimizer, clip_norm: float | None = None
    ) -> None:
        self.layers = model.linear_layers()
        self.optimizer = optimizer
        self.clip_norm = clip_norm
        self.parameters = list(model.parameters())
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
            clip_gradients(self.parameters, self.clip_norm)
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
            weight_decay=group["weight_decay"],
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
