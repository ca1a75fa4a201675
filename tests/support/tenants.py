"""Apps with per-tenant limits, for the tests of service/limits.py: fresh tenants on the session's
Redis, and several app instances sharing it (as gunicorn's processes, or API hosts, do)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from descent.settings import Settings
from service import create_app

from .api import As


class Tenants:
    """Two fresh tenants (`a`, `b`) and `instances` apps on one Redis, all with `limits` (Settings
    fields). Jobs go to a queue no worker takes: they stay queued, i.e. open."""

    def __init__(self, settings: Settings, instances: int = 1, **limits: Any) -> None:
        self.names = ("a" + uuid.uuid4().hex[:12], "b" + uuid.uuid4().hex[:12])
        api_keys = ",".join(f"{name}:key-{name}" for name in self.names)
        self.settings = replace(
            settings, api_keys=api_keys, queue_name=settings.queue_name + "-unserved", **limits
        )
        self.apps = [create_app({"SETTINGS": self.settings}) for _ in range(instances)]

    def add(self, **limits: Any) -> int:
        """One more app instance on the same Redis and tenants, with other `limits`; its index."""
        self.apps.append(create_app({"SETTINGS": replace(self.settings, **limits)}))
        return len(self.apps) - 1

    def client(self, tenant: int = 0, instance: int = 0) -> As:
        """A client of tenant `tenant` (0: a, 1: b) on app instance `instance`."""
        return As(self.apps[instance], f"key-{self.names[tenant]}")

    def usage(self, instance: int = 0) -> dict[str, dict[str, float]]:
        """Each tenant's samples on /metrics (`descent_tenant_*`, the `limit` label folded into the
        name: `requests_limited_total:rate`)."""
        text = self.apps[instance].test_client().get("/metrics").get_data(as_text=True)
        found: dict[str, dict[str, float]] = {name: {} for name in self.names}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                tenant = s.labels.get("tenant")
                if s.name.startswith("descent_tenant_") and tenant in found:
                    name = s.name.removeprefix("descent_tenant_")
                    found[tenant][name + (":" + s.labels["limit"] if "limit" in s.labels else "")] = s.value
        return found
