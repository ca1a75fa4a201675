"""A sweep child's job request: the sweep's `base` with dotted-path overrides set.

Shared by the API (grid and cross-validation children, checked before anything is stored) and by
whichever process starts a search's next trial (descent/search.py): one way to read a path.
"""

from __future__ import annotations

import copy
from typing import Any


def child_request(base: dict[str, Any], dataset_id: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """`base` with each override set, and the sweep's dataset."""
    doc = copy.deepcopy(base)
    for path, value in overrides.items():
        set_path(doc, path, value)
    doc["dataset_id"] = dataset_id
    return doc


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    """doc['a']['b'] = value for path 'a.b', creating (or replacing non-object) levels."""
    *parents, last = path.split(".")
    for part in parents:
        if not isinstance(doc.get(part), dict):
            doc[part] = {}
        doc = doc[part]
    doc[last] = copy.deepcopy(value)
