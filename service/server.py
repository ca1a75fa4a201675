"""`python -m service`: gunicorn serving `create_app()`, configured from `Settings` in this package.

The configuration lives here rather than in a gunicorn.conf.py beside the code: gunicorn reads that
file from the directory it is started in only, and from anywhere else it silently served with its
defaults (127.0.0.1:8000, one sync worker). gunicorn's `BaseApplication` takes the options below
and nothing from the working directory, so the command behaves the same wherever it is started.

The options: processes for CPU (DESCENT_API_PROCESSES), threads for the concurrency
(DESCENT_API_THREADS: requests wait on Redis, not on the CPU, and a long poll or an upload must not
block other clients), the app preloaded in the master, JSON logs like the workers', and
prometheus_client's multiprocess mode so that /metrics merges every process's samples.
"""

from __future__ import annotations

import gc
import os
import tempfile
from dataclasses import replace
from typing import Any

from gunicorn.app.base import BaseApplication

from descent.logs import OWN_LOGGERS, library_level
from descent.settings import Settings, export_for_libraries

KEEPALIVE_SECONDS = 75
"""How long gunicorn keeps an idle keep-alive connection: longer than the proxy's upstream
keepalive_timeout (tests/e2e/test_proxy_config.py checks the two)."""

STARTED = False
"""True in a process started by `python -m service` (create_app warns under a bare gunicorn)."""


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """gunicorn's settings for `settings` (its metrics_dir already chosen)."""
    log_format: dict[str, Any] = (
        {"()": "descent.logs.JsonFormatter"}
        if settings.log_format == "json"
        else {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}
    )
    metrics_dir = settings.metrics_dir

    def child_exit(server: Any, worker: Any) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, metrics_dir)

    def pre_fork(server: Any, worker: Any) -> None:
        """Everything the preloaded app allocated moves to the collector's permanent generation: a
        worker's full collections then scan only what requests allocate (tens of milliseconds less
        per pause on this app's import-time heap), and the shared pages stay shared."""
        gc.freeze()

    def post_worker_init(worker: Any) -> None:
        """Warm the serving process before its first request (service/warm.py: threads do not
        survive the fork, and the first upload would otherwise start them and Arrow's readers)."""
        from service.warm import warm_up

        try:
            seconds = warm_up(settings, worker.wsgi.extensions.get("descent.redis"))
            worker.log.info("serving process %s warmed up in %.0f ms", worker.pid, seconds * 1e3)
        except Exception:  # a warm-up is an optimisation: the process serves either way
            worker.log.exception("serving process %s: warm-up failed", worker.pid)

    return {
        "bind": [settings.bind],
        "workers": settings.api_processes,
        # gthread, with gunicorn's own error pages (414, 431, 400 before the app) in problem+json
        "worker_class": "service.gunicorn_worker.ProblemThreadWorker",
        "threads": settings.api_threads,
        # Longer than the proxy keeps an idle upstream connection (keepalive_timeout 60s in
        # deploy/nginx/nginx.conf.template): nginx closes first, so it never sends a request on a
        # connection gunicorn is closing at that moment (a 502 for nothing). An idle keep-alive
        # connection waits in gthread's poller, not in a thread.
        "keepalive": KEEPALIVE_SECONDS,
        # Wider than the proxy's large_client_header_buffers (4 × 8k: a request line or one header
        # line up to 8 KiB), so that nginx, not gunicorn, answers an oversized request: gunicorn
        # counts a header line with its CRLF, and its request-line limit is at most 8190.
        "limit_request_line": 8190,
        "limit_request_field_size": 16384,
        "limit_request_fields": 1000,
        # The app is imported once, in the master, before the workers fork: every worker is ready
        # at the same moment (a client that opens its keep-alive connections as soon as /healthz
        # answers would otherwise land them all on the first worker up), and the imported code is
        # shared copy-on-write.
        "preload_app": True,
        "timeout": 60,
        "graceful_timeout": 20,
        # One access-log line per request costs about a fifth of a poll's CPU (formatting under the
        # logging lock) and, at a thousand polls a second, a disk's worth of lines; request counts
        # and latencies are in /metrics. DESCENT_ACCESS_LOG=1 turns the lines on.
        "accesslog": "-" if settings.access_log else None,
        "errorlog": "-",
        "logconfig_dict": {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"json": log_format},
            "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
            "root": {"level": library_level(settings.log_level), "handlers": ["console"]},
            "loggers": {
                OWN_LOGGERS: {"level": settings.log_level},
                "gunicorn.error": {"level": library_level(settings.log_level), "handlers": ["console"], "propagate": False},
                # gunicorn logs access lines whenever a logging config exists: the level is the switch
                "gunicorn.access": {
                    "level": "INFO" if settings.access_log else "WARNING",
                    "handlers": ["console"],
                    "propagate": False,
                },
            },
        },
        "child_exit": child_exit,
        "pre_fork": pre_fork,
        "post_worker_init": post_worker_init,
    }


def metrics_dir(settings: Settings) -> Settings:
    """`settings` with an empty multiprocess metrics directory: the one given (stale files of an
    earlier start removed: they would double count), or a fresh one."""
    path = settings.metrics_dir or tempfile.mkdtemp(prefix="descent-metrics-")
    os.makedirs(path, exist_ok=True)
    for stale in os.listdir(path):
        os.remove(os.path.join(path, stale))
    return replace(settings, metrics_dir=path)


class Server(BaseApplication):
    """gunicorn with `gunicorn_options`, serving the app built from the same settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        for name, value in gunicorn_options(self.settings).items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        from service import create_app

        return create_app({"SETTINGS": self.settings})


def main() -> int:
    """Read the settings, hand the libraries their variables before they are imported (the app
    imports prometheus_client and numba), and serve until gunicorn is told to stop."""
    global STARTED
    STARTED = True
    settings = metrics_dir(Settings.from_env())
    export_for_libraries(settings)
    Server(settings).run()
    return 0
