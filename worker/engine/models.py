"""Models: the torch module that is trained, and its parameters in the dataset's original units.

Why two representations: training happens in float32 in the (maybe standardized) training space,
but the API reports, predicts with and evaluates plain parameters in original units. `Params` is
that form: float64 layers with the standardization folded in, evaluated by descent.predict.forward
(numpy, the function the service predicts with), so a client applying the reported parameters to
the raw data gets exactly the reported cost.

Folding (x' = (x − x_center)/x_scale and y' = (y − y_center)/y_scale, see data.Scaling): the first
layer becomes W₁' = W₁/x_scale (column-wise) and b₁' = b₁ − W₁'·x_center; for a regression target
the last layer becomes W_L' = W_L·y_scale and b_L' = b_L·y_scale + y_center. A linear model is one
layer, so both apply to it. Shapes of `Params.to_json()`:
- linear, one output (regression, bce): {"weights": [d], "bias": b}
- linear, K outputs (cross_entropy): {"weights": [[d] × K], "bias": [K]}
- mlp: [{"weight": [[in] × out], "bias": [out]}, …] in nn.Linear's convention.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import torch
from torch import nn

from descent.predict import forward
from descent.spec import Model

from .data import Scaling

ACTIVATION_MODULES: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
}
"""torch modules of descent.spec.ACTIVATIONS; `identity` puts nothing between the layers."""


@dataclass(frozen=True)
class Params:
    """A trained model in original units: float64 (weight (out, in), bias (out,)) layers."""

    kind: str
    """"linear" or "mlp"."""
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]
    activation: str = "identity"
    nested: bool = False
    """Linear only: report weights as K rows (cross_entropy) even when K = 1."""

    @classmethod
    def linear(cls, weights: np.ndarray, bias: float) -> Params:
        """ŷ = weights·x + bias with one output."""
        w = np.asarray(weights, dtype=np.float64).reshape(1, -1)
        return cls("linear", ((w, np.array([float(bias)])),))

    @property
    def model(self) -> dict[str, Any]:
        """The model dict descent.predict reads."""
        if self.kind == "mlp":
            return {"type": "mlp", "activation": self.activation}
        return {"type": "linear"}

    def tree(self) -> Any:
        """The API's `params` shape with numpy arrays in it (what forward() reads)."""
        if self.kind == "mlp":
            return [{"weight": w, "bias": b} for w, b in self.layers]
        ((w, b),) = self.layers
        if self.nested:
            return {"weights": w, "bias": b}
        return {"weights": w[0], "bias": float(b[0])}

    def predict(self, x: np.ndarray) -> np.ndarray:
        """float64 raw outputs on raw features: (n,) for one output, (n, K) for K."""
        return forward(self.tree(), self.model, x)

    def is_finite(self) -> bool:
        """False when any parameter is NaN or infinite."""
        return all(bool(np.isfinite(w).all() and np.isfinite(b).all()) for w, b in self.layers)

    def to_json(self) -> Any:
        """The API's `params`, plain Python floats."""
        return _plain(self.tree())


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return float(value)


class EngineModel(nn.Module):
    """An nn.Module that can express its parameters in original units."""

    kind = "linear"
    activation = "identity"
    nested = False
    regression_target = True
    """False for classification: the last layer gets no target scaling."""

    def linear_layers(self) -> list[nn.Linear]:
        """The nn.Linear layers, input to output."""
        return [m for m in self.modules() if isinstance(m, nn.Linear)]

    def original_params(self, scaling: Scaling) -> Params:
        """The trained parameters mapped back through the standardization (float64)."""
        layers = []
        for lin in self.linear_layers():
            w = lin.weight.detach().to(torch.float64).numpy().copy()
            b = (
                np.zeros(w.shape[0])
                if lin.bias is None
                else lin.bias.detach().to(torch.float64).numpy().copy()
            )
            layers.append([w, b])
        if self.regression_target:
            w, b = layers[-1]
            layers[-1] = [w * scaling.y_scale, b * scaling.y_scale + scaling.y_center]
        w, b = layers[0]
        w = w / scaling.x_scale
        layers[0] = [w, b - w @ scaling.x_center]
        return Params(self.kind, tuple((w, b) for w, b in layers), self.activation, self.nested)


class LinearModel(EngineModel):
    """ŷ = w·x + b as one nn.Linear, every parameter starting at zero (as in the course).

    One output (squeezed to (n,)) for regression and bce; K outputs for cross_entropy.
    """

    def __init__(self, n_features: int, outputs: int, bias: bool, multiclass: bool, regression: bool) -> None:
        super().__init__()
        self.linear = nn.Linear(n_features, outputs, bias=bias)
        self.squeeze = not multiclass
        self.nested = multiclass
        self.regression_target = regression
        with torch.no_grad():
            for p in self.linear.parameters():
                p.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.linear(x)
        return out.squeeze(-1) if self.squeeze else out


class MLP(EngineModel):
    """nn.Linear layers n_features → hidden… → outputs with the activation between them.

    Initialised as nn.Linear.reset_parameters does (weights and biases uniform in ±1/√fan_in),
    but drawn from `generator`, so a seed gives the same network bit for bit.
    """

    kind = "mlp"

    def __init__(
        self,
        n_features: int,
        hidden: tuple[int, ...],
        activation: str,
        outputs: int,
        multiclass: bool,
        regression: bool,
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        self.activation = activation
        self.squeeze = not multiclass
        self.regression_target = regression
        widths = [n_features, *hidden, outputs]
        modules: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(pairwise(widths)):
            lin = nn.utils.skip_init(nn.Linear, fan_in, fan_out)
            _default_init(lin, generator)
            modules.append(lin)
            if i < len(widths) - 2 and activation in ACTIVATION_MODULES:
                modules.append(ACTIVATION_MODULES[activation]())
        self.net = nn.Sequential(*modules)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        return out.squeeze(-1) if self.squeeze else out


def _default_init(lin: nn.Linear, generator: torch.Generator) -> None:
    """nn.Linear.reset_parameters with an explicit generator (kaiming_uniform_ with a = √5)."""
    with torch.no_grad():
        nn.init.kaiming_uniform_(lin.weight, a=math.sqrt(5), generator=generator)
        bound = 1 / math.sqrt(lin.in_features) if lin.in_features > 0 else 0.0
        nn.init.uniform_(lin.bias, -bound, bound, generator=generator)


@dataclass(frozen=True)
class ModelSpec:
    """How to build a model type, and whether it has an intercept (decides centering)."""

    build: Callable[[Model, int, int, bool, bool, torch.Generator], EngineModel]
    """(config, n_features, outputs, multiclass, regression, init generator) → model."""
    has_intercept: Callable[[Model], bool]


MODELS: dict[str, ModelSpec] = {
    "linear": ModelSpec(
        build=lambda cfg, d, k, multi, reg, gen: LinearModel(d, k, cfg.bias, multi, reg),
        has_intercept=lambda cfg: cfg.bias,
    ),
    "mlp": ModelSpec(
        build=lambda cfg, d, k, multi, reg, gen: MLP(d, cfg.hidden, cfg.activation, k, multi, reg, gen),
        has_intercept=lambda cfg: True,
    ),
}
"""Every model type of descent.spec.MODEL_TYPES."""
