"""Datasets kept in a worker between jobs, read and preprocessed: a dataset's next job skips the
read from Redis (hundreds of MB/s of bytes decoded into arrays) and the preprocessing.

Why it cannot serve a stale dataset: every use first reads the stored dataset's version (its
description's digest, one small round trip; DatasetStore.version). A deleted dataset has none (the
job fails as it always did); a replaced one has another, so it misses. An entry is only kept when
the columns read are the version asked before (DatasetStore.read_table says which they are).
Entries are the engine's inputs, made read-only, so no job can change what the next one receives;
bounded by DESCENT_DATASET_CACHE_MB, least recently used first out. Before a dataset is read from
Redis, the entries of datasets that were deleted or replaced since they were kept are dropped (one
round trip for all of them): their memory is the first the new read can reuse, not held until LRU
order reaches them.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

from descent.spec import JobConfig
from descent.store import Store
from descent.table import Table
from worker.prepare import Prepared, prepare

PREPARE_FIELDS = {"loss", "positive", "split", "seed", "data", "features"}
"""The config fields `prepare` reads (encode_target, stratified_split, fit_pipeline): jobs that agree
on them receive the same Prepared."""


class DatasetCache:
    """Least-recently-used tables and Prepared inputs, keyed by dataset id and stored version."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.entries: OrderedDict[tuple[Any, ...], tuple[Any, int]] = OrderedDict()
        self.bytes = 0

    def prepared(self, store: Store, dataset_id: str, spec: JobConfig) -> Prepared | None:
        """The engine's input for `spec` on the dataset as stored now; None when it is missing."""
        version = store.datasets.version(dataset_id)
        if version is None:
            return None
        key = ("prepared", dataset_id, version, spec.model_dump_json(include=PREPARE_FIELDS))
        hit = self._get(key)
        if hit is not None:
            return hit
        table, current = self._table(store, dataset_id, version)
        if table is None:
            return None
        data = prepare(table, spec)
        for array in (data.x, data.y, *data.rows):
            array.flags.writeable = False
        if current:
            self._put(key, data, sum(a.nbytes for a in (data.x, data.y, *data.rows)))
        return data

    def _table(self, store: Store, dataset_id: str, version: str) -> tuple[Table | None, bool]:
        """The dataset's columns, and whether they are `version`'s (what the read from Redis read:
        a dataset replaced since `version` was asked is used once, never kept)."""
        key = ("table", dataset_id, version)
        hit = self._get(key)
        if hit is not None:
            return hit, True
        self._drop_stale(store)
        table, read = store.datasets.read_table(dataset_id)
        current = table is not None and read == version
        if table is not None and current:
            size = sum(c.values.nbytes for c in table.columns if isinstance(c.values, np.ndarray))
            self._put(key, table, size)
        return table, current

    def _drop_stale(self, store: Store) -> None:
        """Drop the entries whose dataset is no longer stored as it was when they were kept."""
        held = sorted({key[1] for key in self.entries})  # every entry's key is (kind, id, version, ...)
        if not held:
            return
        current = store.datasets.versions(held)
        for key in [k for k in self.entries if current[k[1]] != k[2]]:
            self.bytes -= self.entries.pop(key)[1]

    def _get(self, key: tuple[Any, ...]) -> Any:
        entry = self.entries.get(key)
        if entry is None:
            return None
        self.entries.move_to_end(key)
        return entry[0]

    def _put(self, key: tuple[Any, ...], value: Any, size: int) -> None:
        if size > self.max_bytes:
            return
        while self.bytes + size > self.max_bytes and self.entries:
            _, (_, freed) = self.entries.popitem(last=False)
            self.bytes -= freed
        self.entries[key] = (value, size)
        self.bytes += size
