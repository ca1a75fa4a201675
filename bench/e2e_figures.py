"""Time to a trained model, end to end (issue 15, point 1): the clock runs from the first byte of
the upload to the client holding the trained parameters, against pandas + scikit-learn on the same
bytes in the same run.

descent's side is what a fast client does: POST the file to /v1/datasets, POST the job, then GET
/v1/jobs/{id}?wait=30, which is answered as the job ends (its body then holds `result.params`): the
fastest documented way to learn a job ended, and one that leaves the cores to the worker. The worker is warm (started, and one round of
each figure run untimed first); the dataset is uploaded inside the clock and deleted outside it.

The peer starts from the same bytes in memory: `pandas.read_csv` (or `pd.read_parquet`), the same
80 % of the rows to train on (the other 20 % scored, as descent's result scores its dev split), and
scikit-learn's fit. Minibatch has no scikit-learn peer of its own: `SGDRegressor.partial_fit` per
batch of 256 would pay a Python call per batch (about 20k calls), a slower and so flattering peer;
`SGDRegressor.fit` makes the same 5 passes over the rows, one sample per update, in compiled code,
the fastest way scikit-learn has to fit a linear model by SGD, so that is the peer.

Both sides are sampled alike: each repeat takes descent's better of two runs, as it takes the
peer's better of two (its two BLAS thread counts, `peer_once`); with one run against the better of
two, the peer alone had the machine's noise taken off its figure. The line is the median of the
repeats on each side.

Each line's note also accounts for the CPU time both sides spent (`CpuAccount`): the peer runs on
one core in one process, descent across the client, the API, Redis and a worker, and on two cores
what descent spends beyond the peer's own CPU time is what its end-to-end time can hardly undercut.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from bench.http_figures import Client, csv_text
from bench.measure import linear_data, mlp_data
from bench.report import Line, emit, note

WAIT_SECONDS = 30
"""`GET /v1/jobs/{id}?wait=`: answered as the job ends (service/job_waits.py). The issue measured
with a client polling every 2 ms; on 2 cores those polls took CPU from the worker they waited for."""
DEV = 0.2
FEATURES = 10
MAX_REQUEST_BYTES = 256 * 1024 * 1024
"""The stack's DESCENT_MAX_REQUEST_BYTES for this group: 1M × 10 as CSV is about 105 MB, over the
default 64 MiB."""


def parquet_bytes(x: np.ndarray, y: np.ndarray) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {f"x{j}": x[:, j] for j in range(x.shape[1])} | {"y": y}
    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    return buf.getvalue()


CTYPE = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}


def descent_once(
    client: Client, data: bytes, kind: str, job: dict[str, Any], cpu: CpuAccount | None = None
) -> tuple[float, dict]:
    """Seconds from the upload's first byte to the ended job in hand; the job (for its numbers),
    with `upload`, the upload's round trip, and `submit`, the job's, added. `cpu` counts what the
    stack spent over the same span (not the deletes after it)."""
    if cpu is not None:
        cpu.start()
    start = time.perf_counter()
    dataset = client.request("POST", "/v1/datasets?name=e2e", data, CTYPE[kind])["id"]
    uploaded = time.perf_counter()
    job_id = client.request("POST", "/v1/jobs", {"dataset_id": dataset, **job})["id"]
    while True:
        state = client.request("GET", f"/v1/jobs/{job_id}?wait={WAIT_SECONDS}")
        if state["status"] not in ("queued", "running"):
            break
    elapsed = time.perf_counter() - start
    if cpu is not None:
        cpu.stop()
    assert state["status"] == "succeeded", state
    state["upload"] = uploaded - start
    assert state["result"]["params"], state
    client.request("DELETE", f"/v1/jobs/{job_id}")
    client.request("DELETE", f"/v1/datasets/{dataset}")
    return elapsed, state


def descent_best(
    client: Client, data: bytes, kind: str, job: dict[str, Any], cpu: CpuAccount | None = None
) -> tuple[float, dict]:
    """descent's better of two runs (each after `quiet()`), as `peer_once` is the peer's better of
    two: the same sampling on both sides of a line."""
    runs = []
    for _ in range(2):
        quiet()
        runs.append(descent_once(client, data, kind, job, cpu))
    return min(runs, key=lambda run: run[0])


class CpuAccount:
    """CPU seconds (user + system) the stack's processes and this client spent between `start()`
    and `stop()`, added up over the calls: the kernel counts other processes' time in 10 ms ticks,
    so each is read ±0.01 s (a sum over several runs is the more exact)."""

    def __init__(self, stack: Any) -> None:
        import psutil

        pids = stack.pids()
        self.groups = {
            "client": [],
            "API": [psutil.Process(p) for p in pids["api"]],
            "Redis": [psutil.Process(stack.redis.pid)],
            "worker": [psutil.Process(p) for p in pids["workers"]],
        }
        self.spent = dict.fromkeys(self.groups, 0.0)
        self._at: dict[str, float] = {}

    def _read(self) -> dict[str, float]:
        read = {name: sum(sum(p.cpu_times()[:2]) for p in procs) for name, procs in self.groups.items()}
        read["client"] = time.process_time()
        return read

    def start(self) -> None:
        self._at = self._read()

    def stop(self) -> None:
        for name, seconds in self._read().items():
            self.spent[name] += seconds - self._at[name]

    def text(self, runs: int) -> str:
        """`CPU per run: 123 ms (client 5, API 60, Redis 8, worker 50)`."""
        parts = ", ".join(f"{name} {seconds / runs * 1e3:.0f}" for name, seconds in self.spent.items())
        return f"CPU per run {sum(self.spent.values()) / runs * 1e3:.0f} ms ({parts})"


@dataclass(frozen=True, order=True)
class PeerRun:
    """One run of the peer: its seconds (what `min` compares), CPU seconds and dev MSE."""

    seconds: float
    cpu: float
    dev: float


def quiet(deadline: float = 2.0) -> None:
    """Return once this process's own threads are idle (under 5 % of a core over 20 ms), or after
    `deadline` seconds. Why: after a peer's run OpenBLAS's threads spin for a while waiting for
    more work (measured: ~90 ms of CPU during the descent run that followed an MLP or a 1M peer), a
    core taken from the upload and the worker that no descent client would be spinning."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        before = time.process_time()
        time.sleep(0.02)  # the window the CPU time is read over, not a wait for an event
        if time.process_time() - before < 0.001:
            return


def peer_once(data: bytes, kind: str, make: Callable[[], Any]) -> PeerRun:
    """The peer at its best BLAS thread count this time, one thread or the default (as
    measure.best_threads does for torch): on a busy machine two OpenBLAS threads fighting for the
    cores made MLPRegressor 4-30× slower, a flattering peer."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        one = _peer(data, kind, make)
    return min(one, _peer(data, kind, make))


def _peer(data: bytes, kind: str, make: Callable[[], Any]) -> PeerRun:
    """pandas reads the bytes, the estimator fits the first 80 % and scores the rest."""
    import pandas as pd

    cpu = time.process_time()
    start = time.perf_counter()
    frame = pd.read_csv(io.BytesIO(data)) if kind == "csv" else pd.read_parquet(io.BytesIO(data))
    values = frame.to_numpy(dtype=np.float32)
    x, y = values[:, :-1], values[:, -1]
    cut = int(len(y) * (1 - DEV))
    model = make().fit(x[:cut], y[:cut])
    dev = float(np.mean((model.predict(x[cut:]) - y[cut:]) ** 2))
    return PeerRun(time.perf_counter() - start, time.process_time() - cpu, dev)


def sgd_peer() -> Any:
    from sklearn.linear_model import SGDRegressor

    return SGDRegressor(
        penalty=None, learning_rate="constant", eta0=0.001, max_iter=5, tol=None, random_state=0
    )


def mlp_peer() -> Any:
    from sklearn.neural_network import MLPRegressor

    return MLPRegressor(
        hidden_layer_sizes=(64, 64), solver="adam", max_iter=5, batch_size=256, tol=0,
        learning_rate_init=0.001, random_state=0,
    )


def _warnings_off() -> None:
    """max_iter=5 is the point: scikit-learn's ConvergenceWarning would print on every fit."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)


def figures(quick: bool) -> list[tuple[str, bytes, str, dict[str, Any], Callable[[], Any], str]]:
    """(title, bytes, kind, descent's job, the peer's estimator, the peer's name) per figure."""
    rows, big = (20_000, 200_000) if quick else (100_000, 1_000_000)
    split = {"split": {"dev": DEV}, "tolerance": 0, "epochs": 5}
    sgd = {"optimizer": {"type": "sgd", "lr": 0.001}, **split}
    mini = {"optimizer": {"type": "minibatch", "lr": 0.01, "batch_size": 256}, **split}
    mlp = {"model": {"type": "mlp", "hidden": [64, 64]}, "optimizer": {"type": "adam", "batch_size": 256}, **split}
    x, y = linear_data(rows, FEATURES, seed=11)
    xb, yb = linear_data(big, FEATURES, seed=12)
    xm, ym = mlp_data(rows, FEATURES, seed=13)
    k, kb = f"{rows // 1000}k", f"{big // 1000}k" if big < 1_000_000 else f"{big // 1_000_000}M"
    big_csv = csv_text(xb, yb)
    return [
        (f"e2e SGD 5 ep, {k}×10 CSV", csv_text(x, y), "csv", sgd, sgd_peer, "read_csv + SGDRegressor.fit"),
        (f"e2e minibatch 5 ep, {kb}×10 Parquet", parquet_bytes(xb, yb), "parquet", mini, sgd_peer,
         "read_parquet + SGDRegressor.fit"),
        (f"e2e minibatch 5 ep, {kb}×10 CSV", big_csv, "csv", mini, sgd_peer, "read_csv + SGDRegressor.fit"),
        (f"e2e MLP 64-64 Adam 5 ep, {k}×10 CSV", csv_text(xm, ym), "csv", mlp, mlp_peer,
         "read_csv + MLPRegressor(adam)"),
    ]


def e2e(stack: Any, client: Client, quick: bool) -> None:
    """One line per figure: descent's median against the peer's median, measured alternately."""
    _warnings_off()
    stack.wait_workers(1)
    repeats = 2 if quick else 5
    for title, data, kind, job, make, peer_name in figures(quick):
        descent_once(client, data, kind, job)  # warm: this dataset's size through every path once
        peer_once(data, kind, make)
        ours, states, peers = [], [], []
        cpu = CpuAccount(stack)
        for _ in range(repeats):
            seconds, state = descent_best(client, data, kind, job, cpu)
            ours.append(seconds)
            states.append(state)
            peers.append(peer_once(data, kind, make))
        theirs = [p.seconds for p in peers]
        note(
            f"{title} ({len(data) / 1e6:.1f} MB): descent {_ms(ours)} = {_parts(states)}, "
            f"dev loss {states[-1]['result']['dev_loss']:.4g}; peer {_ms(theirs)}, dev MSE {peers[-1].dev:.4g}"
        )
        peer_cpu = statistics.mean(p.cpu for p in peers) * 1e3
        note(f"  {cpu.text(2 * repeats)}; the peer's {peer_cpu:.0f} ms")
        ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
        emit(Line(title, ours_s, peer_name, theirs_s, "ms", "≤ 1.0× (median)", ours_s <= theirs_s))


def _parts(states: list[dict]) -> str:
    """The medians of the parts of descent's time: the upload's round trip, the API's job record to
    the worker's start, the worker's time around the engine (the dataset's load and preparation, the
    writes), the engine, and the rest (the job's POST, the poll that saw it ended)."""
    def median(f: Callable[[dict], float]) -> float:
        return statistics.median(f(s) for s in states) * 1e3

    def stamp(s: dict, key: str) -> float:
        return datetime.strptime(s[key], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()

    upload = median(lambda s: s["upload"])
    to_start = median(lambda s: stamp(s, "started_at") - stamp(s, "created_at"))
    engine = median(lambda s: s["result"]["seconds"])
    around = median(lambda s: stamp(s, "finished_at") - stamp(s, "started_at") - s["result"]["seconds"])
    return (
        f"upload {upload:.0f} + to start {to_start:.0f} + worker around the engine {around:.0f} "
        f"+ engine {engine:.0f} + the rest"
    )


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:.0f} ms ({min(values) * 1e3:.0f}–{max(values) * 1e3:.0f})"
