"""The seeded split and the input checks."""

from __future__ import annotations

import numpy as np
import pytest

from descent.spec import Split
from tests.support.engine import config, run
from worker.engine import InvalidData
from worker.engine.data import split_indices, split_sizes


@pytest.mark.parametrize(
    "n, dev, test, sizes",
    [
        (100, 0.2, 0.1, (70, 20, 10)),
        (10, 0.25, 0.15, (7, 2, 1)),  # 2.5 → 2 and 1.5 → 1, rounded down
        (100, 0.29, 0.0, (71, 29, 0)),  # 0.29 × 100 is 28.999… in floating point
        (3, 0.5, 0.4, (1, 1, 1)),  # 1.5 → 1 and 1.2 → 1
        (2, 0.5, 0.4999999999, (1, 1, 0)),  # the training split keeps a row
        (5, 0.0, 0.0, (5, 0, 0)),
    ],
)
def test_split_sizes(n: int, dev: float, test: float, sizes: tuple[int, int, int]) -> None:
    assert split_sizes(n, Split(dev=dev, test=test)) == sizes


def test_split_is_a_seeded_partition() -> None:
    split = Split(dev=0.3, test=0.2)
    train, dev, test = split_indices(50, split, seed=4)
    assert sorted([*train, *dev, *test]) == list(range(50))
    assert (len(train), len(dev), len(test)) == (25, 15, 10)
    again = split_indices(50, split, seed=4)
    other = split_indices(50, split, seed=5)
    assert all(np.array_equal(a, b) for a, b in zip((train, dev, test), again, strict=True))
    assert not np.array_equal(dev, other[1])


@pytest.mark.parametrize(
    "x, y, message",
    [
        (np.zeros((3, 1)), np.zeros(4), "one value per row"),
        (np.zeros(3), np.zeros(3), "2-D"),
        (np.array([[1.0], [np.nan]]), np.zeros(2), "NaN"),
    ],
)
def test_bad_arrays_are_invalid_data(x: np.ndarray, y: np.ndarray, message: str) -> None:
    with pytest.raises(InvalidData, match=message):
        run(x, y, config({"type": "gd", "lr": 0.1}))


def test_read_only_float64_input_is_accepted() -> None:
    # the worker may hand over np.frombuffer views (read-only); other dtypes are converted
    x = np.frombuffer(np.arange(10, dtype=np.float32).tobytes(), dtype=np.float32).reshape(10, 1)
    y = 2 * np.arange(10, dtype=np.float64)
    out, _ = run(x, y, config({"type": "gd", "lr": 0.01}, standardize=False, epochs=2))
    assert out.steps == 2
