"""The engine stays pure PyTorch: importing it pulls in no Redis, RQ or Flask."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_engine_imports_no_redis_rq_or_flask() -> None:
    code = (
        "import worker.engine, sys; assert not {'redis','rq','flask'} & set(sys.modules), sys.modules.keys()"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
