"""The one exception type that leaves the API as application/problem+json (RFC 9457).

Views and helpers raise `Problem`; the handler in `service.errors` renders it. Keeping the shape in
one class means a 400 from validation, a 413 from a size limit and a 404 from a lookup cannot drift
apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROBLEM_BASE = "urn:descent:problem:"


@dataclass
class Problem(Exception):
    """An error answered to the client: status, a short title, a detail that says how to fix it."""

    status: int
    title: str
    detail: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    slug: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    """Extension members of the document (RFC 9457 §3.2): a limit's variable, value and use."""

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    def body(self) -> dict[str, Any]:
        """The problem+json document."""
        slug = self.slug or self.title.lower().replace(" ", "-")
        doc: dict[str, Any] = {
            "type": PROBLEM_BASE + slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            doc["errors"] = self.errors
        doc.update(self.extra)
        return doc


def invalid(detail: str, errors: list[dict[str, Any]] | None = None) -> Problem:
    """400: the request was understood but its content is wrong."""
    return Problem(400, "Invalid request", detail, errors or [], slug="invalid-request")


def too_large(limit_name: str, limit_value: int | float, detail: str) -> Problem:
    """413: a size limit was exceeded; the detail names the limit and its value."""
    return Problem(
        413,
        "Payload too large",
        f"{detail} (limit {limit_name} = {limit_value})",
        [{"field": "body", "message": f"exceeds {limit_name} = {limit_value}"}],
        slug="too-large",
    )
