"""Calling the API as one tenant: a test client that sends that tenant's key with every request."""

from __future__ import annotations

from typing import Any


class As:
    """A test client that sends one tenant's key (None: no key at all)."""

    def __init__(self, app: Any, key: str | None) -> None:
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def __getattr__(self, method: str) -> Any:
        call = getattr(self.client, method)
        return lambda *a, **kw: call(*a, headers={**self.headers, **kw.pop("headers", {})}, **kw)


def start_order(jobs: dict[str, Any]) -> list[str]:
    """The names of ended jobs (name → job resource) in the order their last attempt started,
    from their records' `started_at` (one worker starts one job at a time, so no two tie)."""
    return sorted(jobs, key=lambda name: jobs[name]["started_at"])
