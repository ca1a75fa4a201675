"""`python -m worker.health`: exit 0 while this container's worker heartbeat is fresh (healthcheck)."""

from __future__ import annotations

import sys
import time

from descent.settings import Settings
from worker.heartbeat import HEARTBEAT_FILE


def main() -> int:
    allowed = max(3 * Settings.from_env().heartbeat_seconds, 10.0)
    try:
        age = time.time() - HEARTBEAT_FILE.stat().st_mtime
    except FileNotFoundError:
        print(f"no heartbeat yet ({HEARTBEAT_FILE})")
        return 1
    if age > allowed:
        print(f"heartbeat is {age:.0f}s old (more than {allowed:.0f}s)")
        return 1
    print(f"ok: heartbeat {age:.1f}s old")
    return 0


if __name__ == "__main__":
    sys.exit(main())
