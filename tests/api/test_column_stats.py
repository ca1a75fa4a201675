"""The compiled column summary (service/tables/column_stats.py) against numpy: the distinct count of a
sort, numpy's bounds and two-pass moments in float64, and np.histogram's bins read off the sorted
values with the same float32 or float64 edges."""

from __future__ import annotations

import numpy as np
import pytest

from service.tables.column_stats import HISTOGRAM_BINS, number_stats


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
