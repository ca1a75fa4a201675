"""gunicorn settings for the API (loaded from the working directory by `gunicorn service:create_app()`).

Threads, not processes, carry the concurrency: requests wait on Redis, not on the CPU, and a long
poll or an upload must not block other clients.
"""

import os

bind = os.environ.get("DESCENT_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("DESCENT_API_PROCESSES", "2"))
worker_class = "gthread"
threads = int(os.environ.get("DESCENT_API_THREADS", "8"))
timeout = 60
graceful_timeout = 20
accesslog = "-"
errorlog = "-"
