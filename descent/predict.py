"""Predictions from a trained job's parameters, numpy only, in float64 on raw features.

Why here and why numpy: the HTTP service answers `/predict` with these functions and must never
import torch; the training engine computes every final number it reports (losses, r2, accuracy)
with the same `forward`, so a prediction the service makes is exactly what the result measured.
Standardization is folded into the parameters: they are applied to the dataset's raw features.

Parameters (a job result's `params`) and the `model` dict of the job's config:
- `{"type": "linear", ...}` with one output (regression, bce):
  `{"weights": [w_1, …, w_d], "bias": b}` → output x·w + b, shape (n,).
- `{"type": "linear", ...}` with K outputs (cross_entropy):
  `{"weights": [[…d…] × K], "bias": [b_1, …, b_K]}` → output x·Wᵀ + b, shape (n, K).
- `{"type": "mlp", "hidden": [...], "activation": ...}`: a list of layers
  `[{"weight": [[…in…] × out], "bias": [out]}, …]` in nn.Linear's convention
  (h ← h·weightᵀ + bias), with `activation` between layers and none after the last.

How an output becomes a prediction depends on the loss: regression (mse, mae, huber) predicts the
output itself; `bce` reads it as a logit, P(y = 1) = sigmoid(output), class 1 where P ≥ 0.5;
`cross_entropy` reads K logits, class probabilities softmax(output), class = argmax.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from descent.spec import CLASSIFICATION_LOSSES, DEFAULT_ACTIVATION

CHUNK_ROWS = 65_536
"""Rows per float64 block: bounds the float64 copy of a big float32 feature matrix."""


def sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^−z) without overflow: e^−|z| never exceeds 1."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (n, K) logits, shifted by each row's maximum so exp never overflows."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _relu(h: np.ndarray) -> np.ndarray:
    return np.maximum(h, 0.0)


def _identity(h: np.ndarray) -> np.ndarray:
    return h


ACTIVATION_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": _relu,
    "sigmoid": sigmoid,
    "tanh": np.tanh,
    "identity": _identity,
}
"""Each of the spec's MLP activations (descent.spec.ACTIVATIONS), as torch.nn defines it (ReLU,
Sigmoid, Tanh, Identity); a test holds the two to the same names."""


def layers(params: Any, model: Mapping[str, Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The parameters as float64 (weight (out, in), bias (out,)) pairs; ValueError if malformed."""
    kind = model.get("type", "linear")
    if kind == "linear":
        if not isinstance(params, Mapping) or "weights" not in params or "bias" not in params:
            raise ValueError('linear params must be {"weights": [...], "bias": ...}')
        weights = np.asarray(params["weights"], dtype=np.float64)
        bias = np.asarray(params["bias"], dtype=np.float64)
        if weights.ndim == 1:
            weights = weights.reshape(1, -1)
        bias = bias.reshape(-1)
        pairs = [(weights, bias)]
    elif kind == "mlp":
        if not isinstance(params, Sequence) or not params:
            raise ValueError('mlp params must be a non-empty list of {"weight": [[...]], "bias": [...]}')
        pairs = [
            (np.asarray(p["weight"], dtype=np.float64), np.asarray(p["bias"], dtype=np.float64))
            for p in params
        ]
        hidden = model.get("hidden")
        if hidden is not None and [w.shape[0] for w, _ in pairs[:-1]] != list(hidden):
            raise ValueError(
                f"mlp params have layers of widths {[w.shape[0] for w, _ in pairs]}, hidden={hidden}"
            )
    else:
        raise ValueError(f"unknown model type {kind!r}")
    for i, (w, b) in enumerate(pairs):
        if w.ndim != 2 or b.shape != (w.shape[0],):
            raise ValueError(f"layer {i}: weight {w.shape} and bias {b.shape} do not fit")
        if i and w.shape[1] != pairs[i - 1][0].shape[0]:
            raise ValueError(
                f"layer {i} takes {w.shape[1]} inputs, layer {i - 1} gives {pairs[i - 1][0].shape[0]}"
            )
    return pairs


def n_features(params: Any, model: Mapping[str, Any]) -> int:
    """How many features a row must have."""
    return int(layers(params, model)[0][0].shape[1])


def forward(params: Any, model: Mapping[str, Any], x: np.ndarray) -> np.ndarray:
    """The raw model output in float64: (n,) for one output, (n, K) for K outputs.

    `x` is (n, d) raw features (any real dtype; converted block by block). ValueError on a wrong
    shape. For an MLP, `model["activation"]` (the spec's default if absent) is applied between layers.
    """
    pairs = layers(params, model)
    x = np.asarray(x)
    d = pairs[0][0].shape[1]
    if x.ndim != 2 or x.shape[1] != d:
        raise ValueError(f"x must have shape (rows, {d}): the model takes {d} features, got {x.shape}")
    mlp = model.get("type") == "mlp"
    activation = ACTIVATION_FUNCTIONS[model.get("activation", DEFAULT_ACTIVATION)] if mlp else _identity
    width = pairs[-1][0].shape[0]
    rows = x.shape[0]
    if len(pairs) == 1 and width == 1:
        # one linear output: a matrix-vector product, as a client writes x @ w + b
        w, b = pairs[0][0][0], float(pairs[0][1][0])
        out = np.empty(rows, dtype=np.float64)
        for start in range(0, rows, CHUNK_ROWS):
            block = x[start : start + CHUNK_ROWS].astype(np.float64)
            # np.dot: BLAS's matrix-vector product; numpy's matmul takes a slow generic loop when
            # there is one feature (10× slower), and for one feature both are the exact product
            out[start : start + CHUNK_ROWS] = (np.dot(block, w) if d == 1 else block @ w) + b
        return out
    full = np.empty((rows, width), dtype=np.float64)
    last = len(pairs) - 1
    for start in range(0, rows, CHUNK_ROWS):
        h = x[start : start + CHUNK_ROWS].astype(np.float64)
        for i, (w, b) in enumerate(pairs):
            h = h @ w.T + b
            if i < last:
                h = activation(h)
        full[start : start + CHUNK_ROWS] = h
    return full[:, 0] if width == 1 else full


def classify(output: np.ndarray, loss: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(y, probability) from a model output: see the module docstring. y is float64."""
    if loss not in CLASSIFICATION_LOSSES:
        return np.asarray(output, dtype=np.float64), None
    if loss == "bce":
        probability = sigmoid(output)
        return np.where(probability >= 0.5, 1.0, 0.0), probability
    logits = output.reshape(output.shape[0], -1)  # cross_entropy: one logit per class
    probability = softmax(logits)
    return np.argmax(logits, axis=1).astype(np.float64), probability


def predict(params: Any, model: Mapping[str, Any], loss: str, x: np.ndarray) -> dict[str, Any]:
    """`{"y": [...], "probability": [...] or None}` as plain JSON lists.

    Regression: y is the output and probability None. bce: probability is P(y = 1) per row.
    cross_entropy: probability is one list of K class probabilities per row.
    """
    y, probability = classify(forward(params, model, x), loss)
    return {"y": y.tolist(), "probability": None if probability is None else probability.tolist()}
