"""GET /metrics in Prometheus' text format, and the HTTP latency of every route.

Job counts, job durations, queue depth, live workers and how full Redis is are read from Redis at
scrape time, so every API process reports the same numbers whichever one is scraped. HTTP latency
is measured in the process; with Settings.metrics_dir (PROMETHEUS_MULTIPROC_DIR, which `python -m
service` sets before prometheus_client is imported) every gunicorn process's samples are merged.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from descent.queue import queue_depth
from descent.settings import Settings
from descent.store.job_end import DURATION_BUCKETS

from .auth import OPEN_TENANT
from .job_waits import WAITED_ROUTE
from .openapi import parts as apidoc

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class StoreCollector:
    """The numbers that live in Redis, collected when /metrics is read."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        store = self.app.extensions["descent.store"]
        settings = self.app.config["SETTINGS"]
        events = CounterMetricFamily(
            "descent_jobs", "Job events: created, started, requeued, and each end status", labels=["event"]
        )
        for event, count in sorted(store.ops.job_counts().items()):
            events.add_metric([event], count)
        yield events
        running = GaugeMetricFamily("descent_jobs_running", "Jobs running right now")
        running.add_metric([], store.ops.running_count())
        yield running
        depth = GaugeMetricFamily("descent_queue_depth", "Jobs waiting on the training queues (every tenant's)")
        depth.add_metric([], queue_depth(store.redis, settings.queue_name))
        yield depth
        workers = GaugeMetricFamily("descent_workers_live", "Workers whose heartbeat is recent")
        workers.add_metric([], len(store.ops.live_workers(settings.worker_live_seconds)))
        yield workers
        fullness = store.ops.fullness()
        for name, doc, value in (
            ("descent_store_used_bytes", "Redis's used_memory (INFO memory)", fullness.used_bytes),
            ("descent_store_max_bytes", "Redis's maxmemory (0: no limit)", fullness.max_bytes),
            ("descent_store_full", "1 while Redis refuses writes (maxmemory reached), else 0", int(fullness.full)),
        ):
            gauge = GaugeMetricFamily(name, doc)
            gauge.add_metric([], value)
            yield gauge
        durations = store.ops.durations()
        buckets = [(repr(b), durations.get(repr(b), 0.0)) for b in DURATION_BUCKETS]
        buckets.append(("+Inf", durations.get("+Inf", 0.0)))
        histogram = HistogramMetricFamily(
            "descent_job_duration_seconds", "Wall time of ended jobs from start"
        )
        histogram.add_metric([], buckets, durations.get("sum", 0.0))
        yield histogram
        yield from self._tenants(store)

    def _tenants(self, store: Any) -> Iterator[Metric]:
        """Each configured tenant's use of its limits (labels: the tenants of DESCENT_API_KEYS, or
        the one open tenant): a bounded set, whatever clients send."""
        keys = self.app.extensions.get("descent.keys") or []
        tenants = sorted({tenant for tenant, _ in keys}) or [OPEN_TENANT]
        stored = GaugeMetricFamily(
            "descent_tenant_stored_bytes", "Bytes a tenant keeps in Redis (datasets, jobs, histories, checkpoints)",
            labels=["tenant"],
        )
        quota = GaugeMetricFamily(
            "descent_tenant_storage_quota_bytes", "DESCENT_TENANT_STORAGE_BYTES (0: none)", labels=["tenant"]
        )
        open_jobs = GaugeMetricFamily("descent_tenant_open_jobs", "A tenant's queued plus running jobs", labels=["tenant"])
        refused = CounterMetricFamily(
            "descent_tenant_requests_limited",
            "A tenant's requests refused by a limit: rate (429), concurrency (429), open_jobs (429), storage (403)",
            labels=["tenant", "limit"],
        )
        for tenant in tenants:
            stored.add_metric([tenant], store.tenants.stored_for_metrics(tenant))
            quota.add_metric([tenant], self.app.config["SETTINGS"].tenant_storage_bytes)
            open_jobs.add_metric([tenant], store.jobs.open_count(tenant))
            for limit, count in store.tenants.refusals(tenant).items():
                refused.add_metric([tenant, limit], count)
        yield from (stored, quota, open_jobs, refused)


def init_app(app: Flask) -> None:
    metrics_dir = app.config["SETTINGS"].metrics_dir
    multiprocess = bool(metrics_dir)
    registry = CollectorRegistry(auto_describe=False)
    latency = Histogram(
        "descent_http_request_duration_seconds",
        "HTTP request latency by route",
        ["method", "route", "status"],
        buckets=LATENCY_BUCKETS,
        registry=None if multiprocess else registry,
    )
    registry.register(StoreCollector(app))
    app.extensions["descent.http_latency"] = latency

    @app.before_request
    def _start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("started")
        if started is not None:
            route = request.url_rule.rule if request.url_rule else "unmatched"
            if request.endpoint == "jobs.get" and request.args.get("wait"):
                route = WAITED_ROUTE
            latency.labels(request.method, route, str(response.status_code)).observe(
                time.perf_counter() - started
            )
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        scrape = registry
        if multiprocess:
            scrape = CollectorRegistry(auto_describe=False)
            MultiProcessCollector(scrape, path=metrics_dir)
            scrape.register(StoreCollector(app))
        return Response(generate_latest(scrape), mimetype=CONTENT_TYPE_LATEST)


@apidoc.documents("/metrics", "get")
def _metrics_doc(settings: Settings) -> dict[str, Any]:
    return {
        "operationId": "metrics",
        "summary": "Prometheus metrics (text exposition format)",
        "security": [],
        "responses": apidoc.responses(
            {
                "200": {
                    "description": "metrics",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
            {},
            public=True,
        ),
    }
