"""The worker-memory figure: a worker process's peak memory while training on 1e6 × 10 rows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.report import Line, emit

ROOT = Path(__file__).resolve().parent.parent


def memory(quick: bool) -> None:
    """A worker process's peak memory while training on 1e6 × 10: its resident size before the
    data arrives (torch, the engine, the warm-up) plus what training adds, against 3× the data.
    The data reach the engine as the worker's do: read-only float32 views of one bytes object."""
    rows = 300_000 if quick else 1_000_000
    jobs = {
        "gd": {"optimizer": {"type": "gd", "lr": 0.1}, "epochs": 5},
        "sgd": {"optimizer": {"type": "sgd", "lr": 0.001}, "epochs": 1},
        "minibatch": {"optimizer": {"type": "minibatch", "lr": 0.01, "batch_size": 256}, "epochs": 2},
        "adam (linear)": {"optimizer": {"type": "adam", "lr": 0.01, "batch_size": 256}, "epochs": 1},
        "gd, plain path": {"optimizer": {"type": "gd", "lr": 0.1}, "epochs": 5, "fast": False},
    }
    for name, raw in jobs.items():
        code = f"""
import json, sys
sys.path.insert(0, {str(ROOT)!r})
from pathlib import Path
def status(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
from worker.start import warm_up
warm_up()
import numpy as np
from bench.measure import job_config
from worker.engine import ListReporter, train
rng = np.random.default_rng(0)
x = rng.standard_normal(({rows}, 10), dtype=np.float32)
y = (x @ rng.uniform(-2, 2, 10)).astype(np.float32)
blob_x, blob_y = x.tobytes(), y.tobytes()  # what redis-py hands the worker
del x, y
xs = np.frombuffer(blob_x, dtype="<f4").reshape({rows}, 10)
ys = np.frombuffer(blob_y, dtype="<f4")
raw = json.loads({json.dumps(raw)!r})
fast = raw.pop("fast", True)
Path("/proc/self/clear_refs").write_text("5")
base = status("VmRSS") - len(blob_x) - len(blob_y)
class Counting(ListReporter):  # keeps no points (the worker's reporter writes them to Redis as it goes)
    def train_point(self, *args): pass
    def train_points(self, *args): pass
train(xs, ys, job_config({{**raw, "tolerance": 0}}), Counting(batched_ticks=True), fast=fast)
print(base, status("VmHWM") - base, len(blob_x) + len(blob_y))
"""
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        base, added, data = (int(v) for v in done.stdout.split()[-3:])
        ratio = added / data
        goal = "plain" not in name  # the plain path is shown for reference
        emit(
            Line(
                f"worker memory, {rows:.0e}×10, {name}",
                ratio,
                f"the data ({data / 1e6:.0f} MB; base {base / 1e6:.0f} MB)",
                1.0,
                "x",
                "≤ 3× above base" if goal else "",
                ratio <= 3 if goal else None,
            )
        )
