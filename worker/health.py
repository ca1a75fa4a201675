"""`python -m worker.health`: exit 0 while this container's worker heartbeat is fresh (healthcheck)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from descent.settings import Settings


def main() -> int:
    settings = Settings.from_env()
    allowed = max(3 * settings.heartbeat_seconds, 10.0)
    beats = Path(settings.heartbeat_file)
    try:
        age = time.time() - beats.stat().st_mtime
    except FileNotFoundError:
        print(f"no heartbeat yet ({beats})")
        return 1
    if age > allowed:
        print(f"heartbeat is {age:.0f}s old (more than {allowed:.0f}s)")
        return 1
    print(f"ok: heartbeat {age:.1f}s old")
    return 0


if __name__ == "__main__":
    sys.exit(main())
