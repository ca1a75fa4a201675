"""Apps with per-tenant limits, for the tests of service/limits.py: fresh tenants on the session's
Redis, and several app instances sharing it (as gunicorn's processes, or API hosts, do) — in this
process (`Tenants`) or as servers of their own (`ApiServer`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import replace
from typing import Any

import requests
from prometheus_client.parser import text_string_to_metric_families

from descent.settings import Settings
from service import create_app

from .api import As
from .processes import ROOT, free_port, wait_for


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
        """Each tenant's `descent_tenant_*` samples on instance `instance`'s /metrics."""
        return usage(self.apps[instance].test_client().get("/metrics").get_data(as_text=True), self.names)


def usage(metrics: str, tenants: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Each of `tenants`' `descent_tenant_*` samples in a /metrics text, by name without the prefix
    (the `limit` label folded in: `requests_limited_total:rate`)."""
    found: dict[str, dict[str, float]] = {name: {} for name in tenants}
    for family in text_string_to_metric_families(metrics):
        for s in family.samples:
            tenant = s.labels.get("tenant")
            if s.name.startswith("descent_tenant_") and tenant in found:
                name = s.name.removeprefix("descent_tenant_")
                found[tenant][name + (":" + s.labels["limit"] if "limit" in s.labels else "")] = s.value
    return found


class ApiServer:
    """`python -m service` (the command docker-compose.yml runs) on a free port, on the given
    Redis with `env` on top: one API host of several sharing a Redis."""

    def __init__(self, redis_url: str, env: dict[str, str]) -> None:
        self.dir = tempfile.mkdtemp(prefix="descent-api-")
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        environ = {
            **os.environ,
            "REDIS_URL": redis_url,
            "DESCENT_BIND": f"127.0.0.1:{port}",
            "PROMETHEUS_MULTIPROC_DIR": os.path.join(self.dir, "metrics"),
            "PYTHONPATH": str(ROOT),
            **env,
        }
        self.log = open(os.path.join(self.dir, "api.log"), "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service"], cwd=ROOT, env=environ, stdout=self.log, stderr=subprocess.STDOUT
        )
        try:
            wait_for(self._up, 120, interval=0.05, what=f"the API at {self.base}")
        except BaseException:
            self.stop()
            raise

    def _up(self) -> bool:
        try:
            return requests.get(self.base + "/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def start_order(jobs: dict[str, Any]) -> list[str]:
    """The names of ended jobs (name → job resource) in the order their last attempt started,
    from their records' `started_at` (one worker starts one job at a time, so no two tie)."""
    return sorted(jobs, key=lambda name: jobs[name]["started_at"])
