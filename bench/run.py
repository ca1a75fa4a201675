"""descent against its peers, side by side, on the same data in the same run.

    python bench/run.py            # every figure (about 3-4 minutes on 2 cores)
    python bench/run.py --quick    # smaller data, fewer repeats (under a minute or two)
    python bench/run.py --only gd,sgd --no-http

Needs the `bench` extra (pandas, scikit-learn, psutil) and redis-server on PATH for the HTTP figures,
which start descent as it runs in production (tests/support/stack.py: docker-compose.yml's redis,
API and worker commands, started natively) on free loopback ports and stop it afterwards. Prints one line per figure and peer: the
figure, descent's number, the peer and its number, the ratio descent/peer, the goal, and whether it
is met (report.py). Engine figures (engine_figures.py, exhaustive_figures.py, memory_figure.py,
history_figure.py: the cost of a history point, with the worker's reporter on a throwaway redis-server) call
worker.engine.train() exactly as a worker does (fast paths on, a reporter that ticks once per chunk
like the worker's: measure.py); HTTP figures (http_figures.py) go through the API. Peers are the
issue's: a bare autograd loop, a hand-written analytic loop, numpy, DataLoader, scikit-learn, torch
broadcasting, pandas, RQ. Not a test: it asserts nothing. Timings are medians or minima of repeats,
as each line says; on a machine shared with other work they move, the ratios much less.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # so that worker, descent and bench import, from any directory

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench.e2e_figures import MAX_REQUEST_BYTES, e2e  # noqa: E402
from bench.engine_figures import gd_epoch, minibatch, mlp, sgd  # noqa: E402
from bench.exhaustive_figures import exhaustive  # noqa: E402
from bench.fixed_cost import fixed_cost  # noqa: E402
from bench.history_figure import history  # noqa: E402
from bench.http_figures import Client, csv_text, csv_upload, history_poll, sweep, tiny_job  # noqa: E402
from bench.measure import linear_data  # noqa: E402
from bench.memory_figure import memory  # noqa: E402
from bench.report import LINES  # noqa: E402

ENGINE = {
    "gd": gd_epoch,
    "minibatch": minibatch,
    "sgd": sgd,
    "mlp": mlp,
    "points": history,
    "exhaustive": exhaustive,
    "memory": memory,
}
HTTP = ("tiny", "history", "csv", "sweep", "fixed", "e2e")


def machine() -> str:
    cpu = "?"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    import numba

    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    return (
        f"machine: {cpu}, {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), numpy {np.__version__}, numba "
        f"{numba.__version__}; load average before the run: {load}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data and fewer repeats")
    parser.add_argument("--only", default="", help=f"comma-separated: {', '.join([*ENGINE, *HTTP])}")
    parser.add_argument(
        "--no-http", action="store_true", help="engine figures only (no redis-server, gunicorn)"
    )
    args = parser.parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    print(machine(), flush=True)
    print(
        f"{'figure':<44} {'descent':>14}  {'peer':<40} {'peer value':>14}  {'ratio':>7}  {'goal':<26} met",
        flush=True,
    )
    from worker.start import warm_up

    warm_up()
    for name, figure in ENGINE.items():
        if not only or name in only:
            figure(args.quick)
            gc.collect()
    wanted = [h for h in HTTP if not only or h in only]
    if wanted and not args.no_http:
        from tests.support.stack import Stack

        env = {"DESCENT_API_PROCESSES": "2"}
        if "e2e" in wanted:  # 1M × 10 as CSV is over the default request limit
            env["DESCENT_MAX_REQUEST_BYTES"] = str(MAX_REQUEST_BYTES)
        with Stack(workers=1, env=env) as stack:
            # the worker warms up for seconds after it starts (torch, numba): measured meanwhile, an
            # upload shared the cores with it (1.2-2x slower, in no figure's peer)
            stack.wait_workers(1)
            client = Client(stack.base)
            big = None
            if {"history", "sweep"} & set(wanted):
                x, y = linear_data(100_000, 10, seed=5)
                big = client.request("POST", "/v1/datasets?name=big", csv_text(x, y), "text/csv")["id"]
            if "tiny" in wanted:
                tiny_job(stack, client, args.quick)
            if "history" in wanted:
                history_poll(stack, client, args.quick, big)
            if "csv" in wanted:
                csv_upload(stack, client, args.quick)
            if "sweep" in wanted:
                sweep(stack, client, args.quick, big)
            if "fixed" in wanted:
                fixed_cost(stack, client, args.quick)
            if "e2e" in wanted:
                e2e(stack, client, args.quick)
    met = [line for line in LINES if line.met is not None]
    print(f"goals met: {sum(line.met for line in met)} of {len(met)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
