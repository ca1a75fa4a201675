"""The seeded split, the standardization's statistics and the input checks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from descent.spec import Split
from tests.support.engine import config, run
from worker.engine import InvalidData, kernels
from worker.engine.data import (
    CHUNK_ROWS,
    SPLIT_STREAM,
    Scaling,
    generator,
    split_indices,
    split_sizes,
    subsample,
)


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


def test_the_split_is_the_seeded_permutations_slices_sorted() -> None:
    """As np.sort of each slice would give them (the split marks rows instead of sorting)."""
    n, split = 100_003, Split(dev=0.2, test=0.1)
    _, n_dev, n_test = split_sizes(n, split)
    perm = torch.randperm(n, generator=generator(9, SPLIT_STREAM)).numpy()
    expected = (np.sort(perm[n_test + n_dev :]), np.sort(perm[n_test : n_test + n_dev]), np.sort(perm[:n_test]))
    for got, want in zip(split_indices(n, split, seed=9), expected, strict=True):
        assert got.dtype == np.int64 and np.array_equal(got, want)


@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize("counts", [(90, 10), (50, 30, 20), (97, 2, 1), (5, 5)])
def test_a_stratified_split_keeps_the_class_proportions(seed: int, counts: tuple[int, ...]) -> None:
    """Each class holds out its share (within one row) and the sizes are those of a shuffled split;
    compared with scikit-learn's StratifiedShuffleSplit, which keeps the same proportions."""
    from sklearn.model_selection import StratifiedShuffleSplit

    strata = np.repeat(np.arange(len(counts)), counts)[np.random.default_rng(seed).permutation(sum(counts))]
    split = Split(dev=0.2, test=0.1, stratify=True)
    train, dev, test = split_indices(strata.size, split, seed, strata)
    assert sorted([*train, *dev, *test]) == list(range(strata.size))
    assert (train.size, dev.size, test.size) == split_sizes(strata.size, split)
    for k, count in enumerate(counts):
        assert abs(np.sum(strata[dev] == k) - count * 0.2) < 1
        assert abs(np.sum(strata[test] == k) - count * 0.1) < 1
    if min(counts) >= 2:  # scikit-learn refuses a class of one row
        reference = StratifiedShuffleSplit(n_splits=1, test_size=dev.size, random_state=seed)
        ((_, sk_dev),) = reference.split(np.zeros(strata.size), strata)
        for k in range(len(counts)):
            assert abs(np.sum(strata[dev] == k) - np.sum(strata[sk_dev] == k)) <= 1
    again = split_indices(strata.size, split, seed, strata)
    assert all(np.array_equal(a, b) for a, b in zip((train, dev, test), again, strict=True))


def test_a_stratified_split_never_holds_out_more_of_a_class_than_it_has() -> None:
    strata = np.array([0] * 8 + [1, 2])
    train, dev, test = split_indices(10, Split(dev=0.5, test=0.4), 3, strata)
    assert (train.size, dev.size, test.size) == (1, 5, 4)
    assert sorted([*train, *dev, *test]) == list(range(10))


@pytest.mark.parametrize("stratified", [False, True])
@pytest.mark.parametrize("test", [0.0, 0.2])
def test_folds_partition_the_rows_not_in_test(stratified: bool, test: float) -> None:
    n, k = 103, 5
    strata = (np.arange(n) % 3 == 0).astype(np.float32) if stratified else None
    parts = [split_indices(n, Split(test=test, folds=k, fold=i), 7, strata) for i in range(k)]
    tests = {tuple(p[2]) for p in parts}
    assert len(tests) == 1  # every fold's child holds out the same test rows
    (held,) = tests
    devs = [p[1] for p in parts]
    rest = np.setdiff1d(np.arange(n), held)
    np.testing.assert_array_equal(np.sort(np.concatenate(devs)), rest)
    assert max(d.size for d in devs) - min(d.size for d in devs) <= 1
    for train, dev, _ in parts:
        np.testing.assert_array_equal(np.sort(np.concatenate([train, dev])), rest)
        if strata is not None:  # each fold holds each class's share, to a row
            share = strata[rest].mean()
            assert abs(strata[dev].sum() - share * dev.size) <= 1


@pytest.mark.parametrize("stratified", [False, True])
def test_a_training_fraction_is_a_nested_seeded_subset(stratified: bool) -> None:
    train = np.arange(0, 300, 2)
    strata = (np.arange(300) % 4 == 0).astype(np.float32) if stratified else None
    subsets = [subsample(train, f, 3, strata) for f in (0.1, 0.3, 0.7, 1.0)]
    assert [s.size for s in subsets] == [15, 45, 105, 150]
    for small, large in itertools.pairwise(subsets):
        assert set(small) <= set(large)
    np.testing.assert_array_equal(subsets[-1], train)
    if strata is not None:
        assert abs(strata[subsets[1]].sum() - strata[train].mean() * 45) <= 1


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


@pytest.mark.parametrize("rows", [2, CHUNK_ROWS - 1, CHUNK_ROWS + 1, 2 * CHUNK_ROWS + 3])
@pytest.mark.parametrize("cols", [2, 10, 33])
@pytest.mark.parametrize("center", [True, False])
def test_the_compiled_moments_are_numpys_to_the_bit(rows: int, cols: int, center: bool) -> None:
    """Scaling's features' statistics (kernels.moments) against numpy's float64 sums, unrounded."""
    rng = np.random.default_rng(rows + cols)
    a = (rng.standard_normal((rows, cols)) * rng.uniform(0.01, 1000, cols) + rng.uniform(-100, 100, cols))
    a = a.astype(np.float32)
    mean = a.mean(axis=0, dtype=np.float64) if center else np.zeros(cols)
    squares = np.zeros(cols)
    for start in range(0, rows, CHUNK_ROWS):
        deviation = a[start : start + CHUNK_ROWS].astype(np.float64) - mean
        squares += np.square(deviation).sum(axis=0)
    got_mean, got = kernels.moments(a, center, CHUNK_ROWS)
    assert np.array_equal(got_mean, mean)
    assert np.array_equal(got, squares)
    scale = np.sqrt(squares / rows).astype(np.float32).astype(np.float64)
    scale[~(scale > 0)] = 1.0
    assert np.array_equal(Scaling.fit(a, a[:, 0], center=center, scale_target=True).x_scale, scale)
