"""The compiled column summary (service/tables/column_stats.py) against numpy: the distinct count of a
sort, numpy's bounds and two-pass moments in float64, and np.histogram's bins read off the sorted
values with the same float32 or float64 edges."""

from __future__ import annotations

import numpy as np
import pytest

from service.tables.column_stats import (
    _EMPTY32,
    HISTOGRAM_BINS,
    RADIX_FROM,
    SAMPLE,
    _hashed_first_pass,
    _radix_first_pass,
    number_stats,
)


def reference(values: np.ndarray) -> dict[str, object]:
    present = np.sort(values[~np.isnan(values)])
    out: dict[str, object] = {"missing": int(np.isnan(values).sum())}
    out["distinct"] = int(np.count_nonzero(np.diff(present))) + 1 if present.size else 0
    if not present.size:
        return {**out, "low": None, "high": None, "histogram": []}
    low, high = float(present[0]), float(present[-1])
    if high == low:
        histogram = [int(present.size)]
    else:
        edges = (low + (high - low) * np.arange(1, HISTOGRAM_BINS) / HISTOGRAM_BINS).astype(values.dtype)
        below = np.searchsorted(present, edges, side="left")
        histogram = [int(c) for c in np.diff(np.concatenate(([0], below, [present.size])))]
    wide = present.astype(np.float64)
    return {**out, "low": low, "high": high, "mean": wide.mean(), "std": wide.std(), "histogram": histogram}


def columns() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    normal = rng.standard_normal(50_000)
    normal[::9] = np.nan
    rounded = np.round(rng.standard_normal(5_000) * 3)  # many repeats: the hash set's collisions
    rounded[::4] = np.nan
    return [
        normal,
        rounded,
        np.array([-0.0, 0.0, 1.0, np.nan]),  # -0.0 and 0.0 are one value
        np.array([np.nan, np.nan]),  # nothing present
        np.array([5.0, 5.0, 5.0]),  # constant: one bin
        np.array([3.0]),
        np.arange(1_000.0) * 1e30,  # beyond float32 only as float64
        rng.uniform(-1e9, 1e9, 20_000).round(),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", range(len(columns())))
def test_number_stats_equal_numpys(dtype: type, k: int) -> None:
    values = columns()[k]
    if dtype is np.float32 and np.nanmax(np.abs(values), initial=0) > 1e38:
        pytest.skip("not a float32 column")
    values = values.astype(dtype)
    values.flags.writeable = False  # a stored column is a read-only view
    got, want = number_stats(values), reference(values)
    assert (got.missing, got.distinct, got.low, got.high, got.histogram) == (
        want["missing"],
        want["distinct"],
        want["low"],
        want["high"],
        want["histogram"],
    )
    if got.low is None:
        assert got.mean is None and got.std is None
    else:
        assert got.mean == pytest.approx(want["mean"], rel=1e-12, abs=1e-300)
        assert got.std == pytest.approx(want["std"], rel=1e-9, abs=1e-300)


def large_columns() -> dict[str, np.ndarray]:
    """float32 columns long enough for the radix count (RADIX_FROM), and one that stays hashed."""
    rng = np.random.default_rng(11)
    size = RADIX_FROM + 12_345
    normal = rng.standard_normal(size).astype(np.float32)
    normal[::7] = np.nan
    normal[[3, 4, 5]] = [-0.0, 0.0, -0.0]  # one value
    few_then_many = np.concatenate([np.zeros(SAMPLE, np.float32), rng.uniform(-1e6, 1e6, size).astype(np.float32)])
    return {
        "mostly distinct, missing cells": normal,
        "few distinct": rng.integers(0, 1000, size).astype(np.float32),
        "few distinct first, then many": few_then_many,
        # 8,192 high halves (either sign, 32 exponents), none a NaN: many groups, values 2^-31 to 2
        "many high halves": ((np.arange(size, dtype=np.uint32) * np.uint32(8191)) & 0x8FFFFFFF | 0x30000000).view(np.float32),
    }


@pytest.mark.parametrize("name", list(large_columns()))
def test_large_float32_columns_equal_numpys(name: str) -> None:
    values = large_columns()[name]
    values.flags.writeable = False
    got, want = number_stats(values), reference(values)
    assert (got.missing, got.distinct, got.low, got.high, got.histogram) == (
        want["missing"],
        want["distinct"],
        want["low"],
        want["high"],
        want["histogram"],
    )
    assert got.mean == pytest.approx(want["mean"], rel=1e-12) and got.std == pytest.approx(want["std"], rel=1e-9)


@pytest.mark.parametrize("name", list(large_columns()))
def test_the_radix_count_gives_what_the_hash_set_gives(name: str) -> None:
    values = large_columns()[name]
    values.flags.writeable = False
    bits = values.view(np.uint32)
    assert _radix_first_pass(values, bits) == _hashed_first_pass(values, bits, _EMPTY32)  # the sum's bits too
