"""The datasets an API process has checked job requests against, kept: a job's POST on a dataset
this process has seen reads nothing before the job's creation.

Why: a job request is checked against its dataset's description (`meta`: 3 KB at 10 features,
54 KB at 200), one round trip and a JSON parse on every submit (0.26 ms at 10 features, 0.81 ms at
200, in process) on the way from the POST to the worker's start. A description never changes under
its id (an upload takes a new id); a dataset can be deleted, or (a store operation no API route
makes) published again. So an entry keeps the publish token it was read with, and the job's
creation script checks the dataset still has it, and still has the caller as its owner, in the step
that writes the job: a stale entry creates nothing, and the view reads the dataset again and checks
the request against what it read (`service/jobs.py`). Bounded by the descriptions' bytes, least
recently used first out; one per app, shared by its threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import Flask

from descent.store import Store
from descent.store.datasets import Described

MAX_BYTES = 8 << 20
"""The descriptions an API process keeps, in bytes as stored (about 2,500 datasets of 10 features)."""


class DatasetRecords:
    """Described datasets by id, least recently used first out past `max_bytes`."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, Described] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def described(self, store: Store, dataset_id: str, fresh: bool = False) -> tuple[Described | None, bool]:
        """The dataset as kept, or (`fresh`, or not kept) as read now; and whether it came from
        what was kept. None: missing or unpublished (nothing is kept for it)."""
        if not fresh:
            with self._lock:
                kept = self._entries.get(dataset_id)
                if kept is not None:
                    self._entries.move_to_end(dataset_id)
                    return kept, True
        read = store.datasets.described(dataset_id)
        with self._lock:
            self._drop(dataset_id)
            if read is not None and read.size <= self.max_bytes:
                self._entries[dataset_id] = read
                self._bytes += read.size
                while self._bytes > self.max_bytes:
                    self._bytes -= self._entries.popitem(last=False)[1].size
        return read, False

    def forget(self, dataset_id: str) -> None:
        """Drop what is kept of `dataset_id` (it was deleted through this process)."""
        with self._lock:
            self._drop(dataset_id)

    def _drop(self, dataset_id: str) -> None:
        dropped = self._entries.pop(dataset_id, None)
        if dropped is not None:
            self._bytes -= dropped.size


def init_app(app: Flask) -> None:
    app.extensions["descent.dataset_records"] = DatasetRecords()
