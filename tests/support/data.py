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


def noisy_cubic(rows: int = 600, seed: int = 0) -> str:
    """y = x³ − 2x plus noise of variance 1 (the best dev cost), x uniform on [−2, 2], as CSV: the
    learning-curve data (an over-sized MLP over-fits a few rows of it)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, rows)
    y = x**3 - 2 * x + rng.normal(0, 1.0, rows)
    return "x,y\n" + "".join(f"{a:.6f},{b:.6f}\n" for a, b in zip(x, y, strict=True))


def noisy_classes(rows: int = 300, seed: int = 1) -> str:
    """Two features and a yes/no label that depends on them with noise, as CSV: a bce classifier's
    data whose splits all hold both classes."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 2))
    label = np.where(x[:, 0] + 0.5 * x[:, 1] + rng.normal(0, 0.5, rows) > 0, "yes", "no")
    return "a,b,label\n" + "".join(f"{a:.5f},{b:.5f},{c}\n" for (a, b), c in zip(x, label, strict=True))
