"""Helpers of the parser's tests (tests/api/test_parsing_*.py): problems, datasets, statistics."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from descent.settings import Settings
from service.parsing import (
    ParsedDataset,
    describe,
    parse_csv,
    parse_json_dataset,
)
from service.problems import Problem

DEFAULTS = Settings()
F32_MAX = float(np.finfo(np.float32).max)
F32_OVERFLOW = 2.0**128 - 2.0**103  # FLT_MAX + half an ulp: the first value that becomes inf

HOUSES = "a,b,price\n1,2,3\n4,5,6\n7,8,9\n"


def rejected(call: Any, *args: Any, status: int = 400) -> Problem:
    with pytest.raises(Problem) as info:
        call(*args)
    assert info.value.status == status, info.value.body()
    return info.value


def csv_problem(
    data: str | bytes, target: str | None = None, limits: Settings = DEFAULTS, status: int = 400
) -> Problem:
    return rejected(parse_csv, data, target, limits, status=status)


def json_problem(doc: object, limits: Settings = DEFAULTS, status: int = 400) -> Problem:
    return rejected(parse_json_dataset, doc, limits, status=status)


def only(problem: Problem) -> dict[str, Any]:
    assert len(problem.errors) == 1, problem.errors
    return problem.errors[0]


def assert_dataset(ds: ParsedDataset, x: Any, y: Any, features: list[str], target: str) -> None:
    assert ds.x.dtype == np.float32 and ds.y.dtype == np.float32
    assert ds.x.flags.c_contiguous and ds.y.flags.c_contiguous
    assert ds.x.ndim == 2 and ds.y.ndim == 1 and ds.x.shape[0] == ds.y.shape[0]
    np.testing.assert_array_equal(ds.x, np.asarray(x, dtype=np.float32))
    np.testing.assert_array_equal(ds.y, np.asarray(y, dtype=np.float32))
    assert ds.feature_names == features
    assert ds.target_name == target


def check_describe(ds: ParsedDataset) -> None:
    stats = describe(ds)
    assert set(stats) == {"x_mean", "x_std", "y_mean", "y_std", "y_min", "y_max"}
    for value in [
        *stats["x_mean"],
        *stats["x_std"],
        stats["y_mean"],
        stats["y_std"],
        stats["y_min"],
        stats["y_max"],
    ]:
        assert type(value) is float
    x = ds.x.astype(np.float64)
    y = ds.y.astype(np.float64)
    # Two float64 sums of the same values in another order differ by the terms one of them absorbed
    # (0.5 vanishes next to 3e38): the bound is relative to the values' magnitude, not the result's.
    x_scale, y_scale = np.abs(x).max(axis=0), np.abs(y).max()
    np.testing.assert_array_less(np.abs(stats["x_mean"] - x.mean(axis=0)), 1e-12 * x_scale + 1e-300)
    np.testing.assert_array_less(np.abs(stats["x_std"] - x.std(axis=0)), 1e-9 * x_scale + 1e-300)
    assert abs(stats["y_mean"] - y.mean()) < 1e-12 * y_scale + 1e-300
    assert abs(stats["y_std"] - y.std()) < 1e-9 * y_scale + 1e-300
    assert stats["y_min"] == y.min() and stats["y_max"] == y.max()
