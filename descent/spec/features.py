"""A job's `features`: which columns it trains on and how they are encoded (API.md, "Preprocessing").

The options are written here once; descent/preprocess fits them on a job's training rows and
returns what they resolved to (the columns used, their kinds, imputed values, kept categories),
which the worker writes into the job's config as `features.fitted` once training starts.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import Field

from .base import Int, Strict

Impute = Literal["mean", "median", "zero", "drop"]
IMPUTE_STRATEGIES: tuple[Impute, ...] = get_args(Impute)
MAX_COLUMNS_NAMED = 10_000
"""Names one `include` or `exclude` may list (more than any dataset's DESCENT_MAX_FEATURES)."""


class Features(Strict):
    """Columns and encodings: every number, category and datetime column but the target by default."""

    include: list[str] | None = Field(
        None,
        max_length=MAX_COLUMNS_NAMED,
        description="the feature columns to use; default every number, category and datetime column "
        "but the target",
    )
    exclude: list[str] = Field(
        default_factory=list, max_length=MAX_COLUMNS_NAMED, description="columns to leave out"
    )
    impute: Impute = Field(
        "mean",
        description="missing numbers (and datetime parts) take the training split's mean, median or "
        "zero; `drop` leaves rows with a missing feature out (counted in result.rows_dropped)",
    )
    missing_indicator: bool = Field(
        False, description="add a 0/1 column per number column that had missing cells in training"
    )
    max_categories: Int = Field(
        20,
        ge=1,
        le=1000,
        description="one-hot columns per category column: the most frequent in the training split, "
        "the rest folded into one `(other)` column",
    )


class FeaturesConfig(Features):
    """The options as a job's config shows them, with what they resolved to once training started."""

    fitted: dict[str, Any] | None = Field(
        None,
        description="set once training starts: the columns used, their kinds, imputed values and "
        "kept categories, and the name of each encoded feature",
        exclude_if=lambda value: value is None,
    )
