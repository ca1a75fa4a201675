"""The datasets tests train on."""

from __future__ import annotations

import functools

import numpy as np

WORKED = "x,y\n1,2\n2,4\n3,6\n"
"""The course's worked example: y = 2·x."""


@functools.cache
def diabetes() -> tuple[str, np.ndarray, np.ndarray]:
    """scikit-learn's diabetes data (442 rows, 10 features) as CSV text, and its x and y in float64
    (the float32 values the CSV holds)."""
    from sklearn.datasets import load_diabetes

    data = load_diabetes()
    x = data.data.astype(np.float32)
    y = data.target.astype(np.float32)
    lines = [",".join([*data.feature_names, "target"])]
    lines += [",".join(repr(float(v)) for v in [*row, t]) for row, t in zip(x, y, strict=True)]
    return "\n".join(lines) + "\n", x.astype(np.float64), y.astype(np.float64)
