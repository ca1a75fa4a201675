"""Faults of an upload, collected into one 400 that names where each is (row and column).

Every reader reports through here, so a CSV's broken line, a Parquet file's unsupported column and
a JSON document's bad cell come back in the same problem+json shape: `errors` lists the first
`MAX_ERRORS` faults and `detail` says how many there were.
"""

from __future__ import annotations

from typing import Any

from service.problems import Problem, invalid

MAX_ERRORS = 20
SHOWN_NAMES = 30


class Faults:
    """The first `MAX_ERRORS` faults found, and how many there were in all."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.total = 0

    def add(self, error: dict[str, Any]) -> None:
        self.total += 1
        if len(self.items) < MAX_ERRORS:
            self.items.append(error)

    @classmethod
    def merged(cls, parts: list[Faults]) -> Faults:
        """The faults of `parts`, in their order (each column's, found on its own thread)."""
        out = cls()
        for part in parts:
            for item in part.items:
                out.add(item)
            out.total += part.total - len(part.items)
        return out

    def raise_if_any(self, what: str = "dataset") -> None:
        if not self.total:
            return
        first = self.items[0]["message"]
        if self.total == 1:
            raise invalid(f"The {what} was rejected: {first}.", self.items)
        listed = "all are listed in errors" if self.total <= len(self.items) else f"the first {len(self.items)} are listed in errors"
        raise invalid(
            f"The {what} was rejected: {self.total} problems were found ({listed}); the first: {first}.",
            self.items,
        )


def fail(detail: str, field: str, message: str, **extra: Any) -> Problem:
    """A single structural fault (empty data, too few rows, …): nothing else is worth listing."""
    return invalid(detail, [{"field": field, **extra, "message": message}])


def show(value: str, limit: int = 40) -> str:
    """repr() of a cell for a message, cut short when long."""
    return repr(value[:limit]) + "…" if len(value) > limit else repr(value)


def list_names(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN_NAMES])
    return shown + (f", … ({len(names)} columns in all)" if len(names) > SHOWN_NAMES else "")
