"""gunicorn settings for the API (loaded from the working directory by `gunicorn service:create_app()`).

Threads, not processes, carry the concurrency: requests wait on Redis, not on the CPU, and a long
poll or an upload must not block other clients.
"""

import os

bind = os.environ.get("DESCENT_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("DESCENT_API_PROCESSES", "2"))
worker_class = "gthread"
threads = int(os.environ.get("DESCENT_API_THREADS", "8"))
# The app is imported once, in the master, before the workers fork: every worker is ready at the same
# moment (a client that opens its keep-alive connections as soon as /healthz answers would otherwise
# land them all on the first worker up), and the imported code is shared copy-on-write.
preload_app = True
timeout = 60
graceful_timeout = 20
# One access-log line per request costs about a fifth of a poll's CPU (formatting under the logging
# lock) and, at a thousand polls a second, a disk's worth of lines; request counts and latencies are
# in /metrics. DESCENT_ACCESS_LOG=1 turns the lines on.
_access_log = os.environ.get("DESCENT_ACCESS_LOG", "0") == "1"
accesslog = "-" if _access_log else None
errorlog = "-"
# JSON lines like the workers' (descent.logs); DESCENT_LOG_FORMAT=text for plain ones.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "descent.logs.JsonFormatter"}
        if os.environ.get("DESCENT_LOG_FORMAT", "json") == "json"
        else {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
        # gunicorn logs access lines whenever a logging config exists: the level is the switch
        "gunicorn.access": {
            "level": "INFO" if _access_log else "WARNING",
            "handlers": ["console"],
            "propagate": False,
        },
    },
}


# prometheus_client's multiprocess mode: each gunicorn process writes its HTTP latency samples here
# and /metrics merges them. A fresh directory per start (stale files would double count).
_metrics_dir = os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", f"/tmp/descent-metrics-{os.getpid()}")
os.makedirs(_metrics_dir, exist_ok=True)
for _stale in os.listdir(_metrics_dir):
    os.remove(os.path.join(_metrics_dir, _stale))


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def pre_fork(server, worker):
    """Everything the preloaded app allocated moves to the collector's permanent generation: a worker's
    full collections then scan only what requests allocate (tens of milliseconds less per pause on
    this app's import-time heap), and the shared pages stay shared."""
    import gc

    gc.freeze()
