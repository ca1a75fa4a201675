"""Models: the torch module that is trained, and its parameters in the dataset's original units.

Why two representations: training happens in float32 in the (maybe standardized) training space,
but the API reports, predicts with and evaluates plain parameters in original units. `Params`
objects are that form: JSON-ready and evaluated in float64 numpy, so a client applying the
reported parameters to the raw data gets exactly the reported cost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from .config import ModelConfig
from .data import Scaling

PREDICT_CHUNK_ROWS = 65_536
"""Rows per float64 matrix product when predicting: bounds the float64 copy of big data."""


class Params(Protocol):
    """A trained model in original units."""

    def predict(self, x: np.ndarray) -> np.ndarray:
        """float64 predictions (for classifiers: the output before the link function)."""
        ...

    def is_finite(self) -> bool:
        """False when any parameter is NaN or infinite."""
        ...

    def to_json(self) -> dict[str, Any]:
        """The API's `params` object, plain Python floats."""
        ...


@dataclass(frozen=True)
class LinearParams:
    """ŷ = weights·x + bias, float64."""

    weights: np.ndarray
    bias: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        out = np.empty(x.shape[0], dtype=np.float64)
        for start in range(0, x.shape[0], PREDICT_CHUNK_ROWS):
            rows = x[start : start + PREDICT_CHUNK_ROWS].astype(np.float64)
            out[start : start + PREDICT_CHUNK_ROWS] = rows @ self.weights + self.bias
        return out

    def is_finite(self) -> bool:
        return bool(np.isfinite(self.weights).all()) and bool(np.isfinite(self.bias))

    def to_json(self) -> dict[str, Any]:
        return {"weights": [float(v) for v in self.weights], "bias": float(self.bias)}


class EngineModel(nn.Module):
    """An nn.Module that can express its parameters in original units."""

    def original_params(self, scaling: Scaling) -> Params:
        """The trained parameters mapped back through the standardization."""
        raise NotImplementedError


class LinearModel(EngineModel):
    """ŷ = w·x + b as one nn.Linear, every parameter starting at zero (as in the course)."""

    def __init__(self, n_features: int, bias: bool) -> None:
        super().__init__()
        self.linear = nn.Linear(n_features, 1, bias=bias)
        with torch.no_grad():
            for p in self.linear.parameters():
                p.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).squeeze(-1)

    def original_params(self, scaling: Scaling) -> LinearParams:
        """w_j = w'_j·y_scale/x_scale_j and b = y_center + y_scale·b' − Σ w_j·x_center_j."""
        with torch.no_grad():
            w_std = self.linear.weight.detach().to(torch.float64).numpy().reshape(-1)
            b_std = 0.0 if self.linear.bias is None else float(self.linear.bias.detach()[0])
        weights = w_std * scaling.y_scale / scaling.x_scale
        if self.linear.bias is None:
            return LinearParams(weights, 0.0)
        bias = scaling.y_center + scaling.y_scale * b_std - float(weights @ scaling.x_center)
        return LinearParams(weights, bias)


@dataclass(frozen=True)
class ModelSpec:
    """How to build a model type, and whether it has an intercept (decides centering)."""

    build: Callable[[ModelConfig, int], EngineModel]
    has_intercept: Callable[[ModelConfig], bool]


MODELS: dict[str, ModelSpec] = {
    "linear": ModelSpec(
        build=lambda cfg, n_features: LinearModel(n_features, cfg.bias),
        has_intercept=lambda cfg: cfg.bias,
    ),
}
"""Every model type of config.MODEL_TYPES."""
