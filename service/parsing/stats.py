"""Column statistics of a parsed dataset (`describe`): two compiled passes over row pieces."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from .common import _PIECE_CELLS, ParsedDataset, _map_pieces


def describe(ds: ParsedDataset) -> dict[str, Any]:
    """Column statistics in float64 (population standard deviation), as plain Python floats.

    ``{"x_mean": [...], "x_std": [...], "y_mean", "y_std", "y_min", "y_max"}``. Two compiled passes
    (sums, then squared deviations from the mean) over row pieces on the shared pool: no float64
    copy of ``x`` is made.
    """
    x_mean, x_std = _mean_std(ds.x)
    y_mean, y_std = _mean_std(ds.y.reshape(-1, 1))
    return {
        "x_mean": [float(v) for v in x_mean],
        "x_std": [float(v) for v in x_std],
        "y_mean": float(y_mean[0]),
        "y_std": float(y_std[0]),
        "y_min": float(ds.y.min()),
        "y_max": float(ds.y.max()),
    }


def _mean_std(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and population std of a 2-D float32 array, computed in float64."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    rows, cols = a.shape
    step = max(1, _PIECE_CELLS // max(cols, 1))
    count = -(-rows // step)
    chunks = [a[k * step : (k + 1) * step] for k in range(count)]

    def sums(k: int) -> np.ndarray:
        out = np.zeros(cols, dtype=np.float64)
        _column_sums(chunks[k], out)
        return out

    mean = np.sum(_map_pieces(sums, count), axis=0) / rows

    def squares(k: int) -> np.ndarray:
        out = np.zeros(cols, dtype=np.float64)
        _column_squares(chunks[k], mean, out)
        return out

    return mean, np.sqrt(np.sum(_map_pieces(squares, count), axis=0) / rows)


@numba.njit("void(float32[:, ::1], float64[::1])", cache=True, nogil=True)
def _column_sums(a, out):  # pragma: no cover - compiled
    """out[j] += Σᵢ a[i, j] in float64."""
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[j] += a[i, j]


@numba.njit("void(float32[:, ::1], float64[::1], float64[::1])", cache=True, nogil=True)
def _column_squares(a, mean, out):  # pragma: no cover - compiled
    """out[j] += Σᵢ (a[i, j] − mean[j])² in float64."""
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            d = a[i, j] - mean[j]
            out[j] += d * d
