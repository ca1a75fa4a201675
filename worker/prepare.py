"""From a stored dataset to what the engine trains on: the target encoded, the rows drawn, the
columns encoded.

Why here, before the engine: every statistic of preprocessing comes from the training rows only
(API.md, "Preprocessing"), so the split is drawn first — the engine's `stratified_split`, by class for
a classifier — and the pipeline (descent/preprocess, numpy only: the API's `predict` applies the
same one) is fitted on those rows, then encodes every row. The engine receives float32 x and y and
the rows it drew, exactly as for a dataset of plain numbers, which encodes to its own values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from descent.preprocess import PreprocessError, encode_target, fit_pipeline
from descent.spec import JobConfig
from descent.table import Table
from worker.engine import InvalidData
from worker.engine.data import stratified_split


@dataclass(frozen=True)
class Prepared:
    """The engine's input, and what the job's config and result say about it."""

    x: np.ndarray
    y: np.ndarray
    rows: tuple[np.ndarray, np.ndarray, np.ndarray]
    """(train, dev, test) row indices into x and y."""
    fitted: dict[str, Any]
    """What the features resolved to: the job's `config.features.fitted`."""
    feature_names: list[str]
    classes: list[Any] | None
    rows_dropped: int
    """Rows left out: a missing target, or a missing feature with `impute: drop`."""
    warnings: list[str] = field(default_factory=list)


def prepare(table: Table, config: JobConfig) -> Prepared:
    """Encode `table` for `config`; InvalidData (the job fails with that message) when it cannot be."""
    try:
        return _prepare(table, config)
    except PreprocessError as exc:
        raise InvalidData(f"{exc.field}: {exc}") from None


def _prepare(table: Table, config: JobConfig) -> Prepared:
    target = encode_target(table.column(table.target), config.loss, config.positive)
    labelled = np.flatnonzero(~np.isnan(target.y))
    if labelled.size < 2:
        raise InvalidData(f"the target {table.target!r} has {labelled.size} non-missing value(s); 2 are needed")
    y = np.ascontiguousarray(target.y[labelled])
    train, dev, test = stratified_split(y, config)
    options = config.features
    pipeline = fit_pipeline(
        table,
        labelled[train],
        include=options.include,
        exclude=options.exclude,
        impute=options.impute,
        missing_indicator=options.missing_indicator,
        max_categories=options.max_categories,
    )
    encoded = pipeline.transform({c.name: c for c in table.columns}, table.rows)
    x = encoded.x if labelled.size == table.rows else np.take(encoded.x, labelled, axis=0)
    kept = encoded.kept[labelled]
    rows = (train, dev, test)
    if not kept.all():  # impute "drop": rows with a missing feature leave every split
        position = np.cumsum(kept) - 1
        rows = tuple(position[idx[kept[idx]]] for idx in rows)  # type: ignore[assignment]
        x, y = x[kept], y[kept]
        if rows[0].size == 0:
            raise InvalidData("every training row has a missing feature (features.impute is drop)")
    return Prepared(
        x=np.ascontiguousarray(x, dtype=np.float32),
        y=y,
        rows=rows,
        fitted=pipeline.to_json(),
        feature_names=list(pipeline.feature_names),
        classes=None if target.classes is None else list(target.classes),
        rows_dropped=table.rows - int(y.size),
        warnings=list(encoded.warnings),
    )
