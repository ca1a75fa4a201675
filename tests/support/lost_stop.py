"""`python -m tests.support.lost_stop`: a worker's loop (`worker.start.serve`, what `python -m
worker` runs after its warm-up) told to stop without its StopRequested.

Why: RQ's SIGTERM handler raises StopRequested wherever the main thread is, and when that is inside
a logging call (RQ logs each failed try while Redis is away) `logging` swallows it; only STOPPING,
set first, is left. This program leaves exactly that: a line on stdin sets STOPPING and nothing
else. It prints `stopped` once the loop has returned.
"""

from __future__ import annotations

import sys
import threading

from descent.store import connect
from worker.__main__ import SETTINGS  # the settings, exported to the libraries, as `python -m worker`
from worker.heartbeat import STOPPING
from worker.start import serve


def stop_without_raising() -> None:
    sys.stdin.readline()
    STOPPING.set()


def main() -> None:
    threading.Thread(target=stop_without_raising, name="lost-stop", daemon=True).start()
    serve(SETTINGS, connect(SETTINGS.redis_url, socket_timeout=None), None, burst=False)
    print("stopped", flush=True)


if __name__ == "__main__":
    main()
