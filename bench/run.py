"""descent against its peers, side by side, on the same data in the same run.

    python bench/run.py            # every figure (about 3-4 minutes on 2 cores)
    python bench/run.py --quick    # smaller data, fewer repeats (under a minute or two)
    python bench/run.py --only gd,sgd --no-http

Needs the `bench` extra (pandas, scikit-learn, psutil) and redis-server on PATH for the HTTP figures,
which start descent as it runs in production (bench/stack.py: redis-server, gunicorn, `python -m
worker`) on free loopback ports and stop it afterwards. Prints one line per figure and peer: the
figure, descent's number, the peer and its number, the ratio descent/peer, the goal, and whether it
is met. Engine figures call worker.engine.train() exactly as a worker does (fast paths on, a
reporter that ticks once per chunk like the worker's); peers are the issue's: a bare autograd loop,
a hand-written analytic loop, numpy, DataLoader, scikit-learn, torch broadcasting, pandas, RQ.
Not a test: it asserts nothing. Timings are medians or minima of repeats, as each line says; on a
machine shared with other work they move, the ratios much less.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import http.client
import io
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from worker.engine import Signal, TrainConfig, train  # noqa: E402
from worker.engine.losses import HUBER_DELTA  # noqa: E402

# -- output ---------------------------------------------------------------------------------------------


@dataclass
class Line:
    figure: str
    ours: float
    peer: str
    theirs: float | None
    unit: str
    goal: str
    met: bool | None

    def text(self) -> str:
        ratio = "" if self.theirs in (None, 0) else f"{self.ours / self.theirs:.2f}×"
        theirs = "—" if self.theirs is None else _num(self.theirs, self.unit)
        met = "" if self.met is None else ("MET" if self.met else "NOT MET")
        return (
            f"{self.figure:<44} {_num(self.ours, self.unit):>14}  {self.peer:<40} {theirs:>14}  "
            f"{ratio:>7}  {self.goal:<26} {met}"
        )


def _num(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value * 1e3:.2f} ms" if value < 10 else f"{value:.2f} s"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "/s":
        return f"{value / 1e6:.3f} M/s" if value >= 1e5 else f"{value / 1e3:.2f} k/s"
    if unit == "x":
        return f"{value:.2f}×"
    return f"{value:g} {unit}"


LINES: list[Line] = []


def emit(line: Line) -> None:
    LINES.append(line)
    print(line.text(), flush=True)


def note(text: str) -> None:
    print(f"    · {text}", flush=True)


# -- helpers ----------------------------------------------------------------------------------------------


class Clock:
    """A reporter that records when training starts and when each epoch ends (batched ticks, like
    the worker's RedisReporter)."""

    batched_ticks = True

    def __init__(self) -> None:
        self.start = 0.0
        self.ends: list[float] = []
        self.points = 0

    def plan(self, **_: Any) -> None:
        self.start = time.perf_counter()

    def train_point(self, *_: Any) -> None:
        self.points += 1

    def train_points(self, steps: Any, *_: Any) -> None:
        self.points += len(steps)

    def dev_point(self, *_: Any) -> None:
        pass

    def epoch_end(self, *_: Any) -> None:
        self.ends.append(time.perf_counter())

    def search_progress(self, *_: Any) -> None:
        pass

    def tick(self) -> Signal:
        return Signal.CONTINUE

    def save_checkpoint(self, _: Any) -> None:
        pass

    def epoch_seconds(self) -> list[float]:
        marks = [self.start, *self.ends]
        return [b - a for a, b in itertools.pairwise(marks)]


def engine(x: np.ndarray, y: np.ndarray, raw: dict[str, Any], fast: bool | None = None) -> Clock:
    clock = Clock()
    train(x, y, TrainConfig.from_dict(raw), clock, fast=fast)
    return clock


def seconds(f: Callable[[], Any]) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def best_of(f: Callable[[], Any], repeats: int) -> float:
    return min(seconds(f) for _ in range(repeats))


def best_threads(measure: Callable[[], float]) -> float:
    """A torch peer's time at its best intra-op thread count: 1 or PyTorch's default (on a busy
    machine, or on tiny tensors, one thread can be several times faster)."""
    default = torch.get_num_threads()
    results = []
    for threads in sorted({1, default}):
        torch.set_num_threads(threads)
        try:
            results.append(measure())
        finally:
            torch.set_num_threads(default)
    return min(results)


def linear_data(rows: int, features: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, features), dtype=np.float32) * 2 + 1
    w = rng.uniform(-2, 2, features)
    y = (x @ w + 0.5 + 0.3 * rng.standard_normal(rows)).astype(np.float32)
    return x, y


def mlp_data(rows: int, features: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, features), dtype=np.float32)
    y = (np.sin(x @ rng.uniform(-1, 1, features)) + 0.1 * rng.standard_normal(rows)).astype(np.float32)
    return x, y


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


# -- engine figures ---------------------------------------------------------------------------------------


def gd_epoch(quick: bool) -> None:
    rows, features, epochs = 1_000_000, 10, (12 if quick else 40)
    x, y = linear_data(rows, features)
    title = "full-batch GD epoch, 1e6×10 linear MSE"
    clock = engine(x, y, {"optimizer": {"type": "gd", "lr": 0.1}, "epochs": epochs, "tolerance": 0})
    ours = min(clock.epoch_seconds()[1:])
    plain = min(
        engine(
            x, y, {"optimizer": {"type": "gd", "lr": 0.1}, "epochs": 6, "tolerance": 0}, fast=False
        ).epoch_seconds()[1:]
    )
    X, Y = torch.from_numpy(x), torch.from_numpy(y)

    lin = torch.nn.Linear(features, 1)
    opt = torch.optim.SGD(lin.parameters(), lr=0.1)

    def autograd() -> None:
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(lin(X).squeeze(-1), Y)
        loss.backward()
        opt.step()
        loss.item()

    w, b = torch.zeros(features, 1), torch.zeros(1)
    r, g, Y2 = torch.empty(rows, 1), torch.empty(1, features), Y[:, None]

    def analytic() -> None:
        # one matmul for the residual, one for the gradient, in place, float32
        torch.addmm(b, X, w, out=r)
        r.sub_(Y2)
        torch.dot(r[:, 0], r[:, 0]).item()
        torch.mm(r.t(), X, out=g)
        w.sub_(g.t(), alpha=0.2 / rows)
        b.sub_(r.sum() * (0.2 / rows))

    reps = 8 if quick else 20
    peers = {
        "autograd loop (nn.Linear, SGD)": best_threads(lambda: best_of(autograd, reps)),
        "hand-written analytic torch loop": best_threads(lambda: best_of(analytic, reps)),
        "numpy (two BLAS passes)": numpy_gd_epoch(rows, features, reps),
        "descent's plain autograd path": plain,
    }
    for peer, value in peers.items():
        goal = peer == "hand-written analytic torch loop"
        emit(
            Line(
                title,
                ours,
                peer,
                value,
                "ms",
                "≤ 1.0× (best epoch)" if goal else "",
                ours <= value if goal else None,
            )
        )


def numpy_gd_epoch(rows: int, features: int, reps: int) -> float:
    """numpy's epoch, in a subprocess without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE (they slow a
    current numpy where this machine sets them; see the machine notes)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    code = f"""
import time, statistics, numpy as np
rng = np.random.default_rng(0)
x = rng.standard_normal(({rows}, {features}), dtype=np.float32) * 2 + 1
y = (x @ rng.uniform(-2, 2, {features}) + 0.5).astype(np.float32)
w = np.zeros({features}, np.float32); r = np.empty({rows}, np.float32)
def epoch():
    global w
    np.dot(x, w, out=r); np.subtract(r, y, out=r)
    float(r @ r); g = r @ x
    w -= np.float32(0.2 / {rows}) * g
ts = []
for _ in range({reps}):
    t = time.perf_counter(); epoch(); ts.append(time.perf_counter() - t)
print(min(ts))
"""
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def minibatch(quick: bool) -> None:
    rows, features, batch = (300_000 if quick else 1_000_000), 10, 256
    x, y = linear_data(rows, features)
    title = f"mini-batch {batch}, linear, {rows:.0e}×10 (samples/s)"
    epochs = 3
    clock = engine(
        x,
        y,
        {
            "optimizer": {"type": "minibatch", "lr": 0.01, "batch_size": batch},
            "epochs": epochs,
            "tolerance": 0,
        },
    )
    ours = rows * epochs / (clock.ends[-1] - clock.start)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)

    def autograd_epoch(batches: Any) -> None:
        lin = torch.nn.Linear(features, 1)
        opt = torch.optim.SGD(lin.parameters(), lr=0.01)
        for xb, yb in batches:
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(lin(xb).squeeze(-1), yb)
            loss.backward()
            opt.step()
            loss.item()

    def hand() -> Any:
        perm = torch.randperm(rows)
        xp, yp = X[perm], Y[perm]  # one permuted copy, contiguous slices
        return ((xp[i : i + batch], yp[i : i + batch]) for i in range(0, rows, batch))

    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, Y), batch_size=batch, shuffle=True)
    sub = rows // (10 if quick else 5)
    loader_sub = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(X[:sub], Y[:sub]), batch_size=batch, shuffle=True
    )
    del loader
    peers = {
        "DataLoader + autograd": sub / best_threads(lambda: best_of(lambda: autograd_epoch(loader_sub), 1)),
        "best hand loop (permuted copy, slices)": rows
        / best_threads(lambda: best_of(lambda: autograd_epoch(hand()), 2)),
    }
    for peer, value in peers.items():
        goal = peer.startswith("best hand loop")
        emit(Line(title, ours, peer, value, "/s", "≥ 1.0×" if goal else "", ours >= value if goal else None))


def sgd(quick: bool) -> None:
    rows, features, epochs = (100_000 if quick else 200_000), 10, 5
    x, y = linear_data(rows, features)
    title = "SGD batch 1, linear, 10 features (updates/s)"
    raw = {"optimizer": {"type": "sgd", "lr": 0.001}, "epochs": epochs, "tolerance": 0}
    ours = max(rows * epochs / (c.ends[-1] - c.start) for c in (engine(x, y, raw), engine(x, y, raw)))

    lin = torch.nn.Linear(features, 1)
    opt = torch.optim.SGD(lin.parameters(), lr=0.001)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    updates = 5000 if quick else 20000

    def autograd() -> None:
        perm = torch.randperm(rows)
        for i in perm[:updates].tolist():
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(lin(X[i : i + 1]).squeeze(-1), Y[i : i + 1])
            loss.backward()
            opt.step()
            loss.item()

    from sklearn.linear_model import SGDRegressor

    def sklearn() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            SGDRegressor(
                penalty=None, learning_rate="constant", eta0=0.001, max_iter=epochs, tol=None, random_state=0
            ).fit(x, y)

    peers = {
        "autograd loop": updates / best_threads(lambda: best_of(autograd, 1)),
        "scikit-learn SGDRegressor": rows * epochs / best_of(sklearn, 3),
    }
    for peer, value in peers.items():
        goal = peer.startswith("scikit")
        emit(Line(title, ours, peer, value, "/s", "≥ 1.0×" if goal else "", ours >= value if goal else None))


def mlp(quick: bool) -> None:
    rows, features, batch, epochs = (40_000 if quick else 100_000), 10, 256, 3
    x, y = mlp_data(rows, features)
    title = "MLP 10-64-64-1, Adam, batch 256 (samples/s)"
    raw = {
        "model": {"type": "mlp", "hidden": [64, 64], "activation": "relu"},
        "optimizer": {"type": "adam", "lr": 0.001, "batch_size": batch},
        "epochs": epochs,
        "tolerance": 0,
    }
    ours = max(rows * epochs / (c.ends[-1] - c.start) for c in (engine(x, y, raw), engine(x, y, raw)))
    X, Y = torch.from_numpy(x), torch.from_numpy(y)

    def bare() -> None:
        net = torch.nn.Sequential(
            torch.nn.Linear(features, 64),
            torch.nn.ReLU(),
            torch.nn.Linear(64, 64),
            torch.nn.ReLU(),
            torch.nn.Linear(64, 1),
        )
        opt = torch.optim.Adam(net.parameters(), lr=0.001)
        for _ in range(epochs):
            perm = torch.randperm(rows)
            xp, yp = X[perm], Y[perm]
            for i in range(0, rows, batch):
                opt.zero_grad()
                loss = torch.nn.functional.mse_loss(net(xp[i : i + batch]).squeeze(-1), yp[i : i + batch])
                loss.backward()
                opt.step()
                loss.item()

    from sklearn.neural_network import MLPRegressor

    def sklearn() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            MLPRegressor(
                hidden_layer_sizes=(64, 64),
                batch_size=batch,
                max_iter=epochs,
                learning_rate_init=0.001,
                tol=0.0,
                n_iter_no_change=10**9,
                random_state=0,
            ).fit(x, y)

    peers = {
        "bare torch loop (autograd, Adam)": rows * epochs / best_threads(lambda: best_of(bare, 1)),
        "scikit-learn MLPRegressor": rows * epochs / best_of(sklearn, 2),
    }
    for peer, value in peers.items():
        goal = peer.startswith("scikit")
        emit(
            Line(
                title,
                ours,
                peer,
                value,
                "/s",
                "≥ 1.5×" if goal else "",
                ours >= 1.5 * value if goal else None,
            )
        )


def exhaustive(quick: bool) -> None:
    rows, steps = 100_000, 200
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 3, (rows, 1)).astype(np.float32)
    y = (1.3 * x[:, 0] - 0.4 + 0.5 * rng.standard_normal(rows)).astype(np.float32)
    grid = {"w": {"min": -1, "max": 3, "steps": steps}, "b": {"min": -2, "max": 2, "steps": steps}}
    raw = {"optimizer": {"type": "exhaustive", "grid": grid}}
    config = TrainConfig.from_dict(raw)
    ours = best_of(lambda: train(x, y, config, Clock()), 5)
    title = "exhaustive 200×200 (w, b), 1e5 samples, MSE"
    w = np.linspace(-1, 3, steps)
    b = np.linspace(-2, 2, steps)
    part = 20 if quick else steps  # quick: a tenth of the grid, scaled up

    def numpy_broadcast() -> None:
        x64, y64 = x[:, 0].astype(np.float64), y.astype(np.float64)
        for wi in w[:part]:  # one w at a time: (200 b × 1e5) float64 at once
            ((wi * x64[None, :] + b[:, None] - y64[None, :]) ** 2).mean(axis=1)

    X, Y, B = torch.from_numpy(x[:, 0]), torch.from_numpy(y), torch.from_numpy(b.astype(np.float32))

    def torch_broadcast() -> None:
        for wi in w[:part]:
            ((float(wi) * X[None, :] + B[:, None] - Y[None, :]) ** 2).mean(dim=1)

    peers = {
        "numpy broadcasting": best_of(numpy_broadcast, 1) * steps / part,
        "torch broadcasting": best_threads(lambda: best_of(torch_broadcast, 1)) * steps / part,
    }
    for peer, value in peers.items():
        goal = peer == "torch broadcasting"
        emit(Line(title, ours, peer, value, "ms", "≤ 5 ms" if goal else "", ours <= 0.005 if goal else None))
    # mae and huber: the engine's histogram over the bias grid, the whole grid, against the same
    # broadcasting in torch (float32) of the loss as torch defines it, `part` of the w rows, scaled
    per_w = {
        "mae": lambda pred: (pred - Y[None, :]).abs().mean(dim=1),
        "huber": lambda pred: torch.nn.functional.huber_loss(
            pred, Y.expand_as(pred), reduction="none", delta=HUBER_DELTA
        ).mean(dim=1),
    }
    names = {"mae": "MAE", "huber": "Huber"}
    for loss, cost in per_w.items():
        config = TrainConfig.from_dict({**raw, "loss": loss})
        ours = best_of(lambda config=config: train(x, y, config, Clock()), 3)

        def torch_loss(cost: Callable[[torch.Tensor], torch.Tensor] = cost) -> None:
            for wi in w[:part]:
                cost(float(wi) * X[None, :] + B[:, None])

        theirs = best_threads(lambda: best_of(torch_loss, 1)) * steps / part
        emit(
            Line(
                f"exhaustive 200×200 (w, b), 1e5 samples, {names[loss]}",
                ours,
                "torch broadcasting",
                theirs,
                "ms",
                "≤ 1.0× torch broadcasting",
                ours <= theirs,
            )
        )
    # bce has no such shortcut: both sides broadcast (descent in float64) over a few w rows, scaled
    rng = np.random.default_rng(1)
    labels = (1.3 * x[:, 0] - 0.4 + rng.logistic(size=rows) > 0).astype(np.float32)
    rows_b = 4 if quick else 10
    sub = {"w": {"min": -1, "max": float(w[rows_b - 1]), "steps": rows_b}, "b": grid["b"]}
    config = TrainConfig.from_dict({"loss": "bce", "optimizer": {"type": "exhaustive", "grid": sub}})
    ours = best_of(lambda: train(x, labels, config, Clock()), 2) * steps / rows_b
    L = torch.from_numpy(labels)

    def torch_bce() -> None:
        for wi in w[:rows_b]:
            logits = float(wi) * X[None, :] + B[:, None]
            torch.nn.functional.binary_cross_entropy_with_logits(
                logits, L.expand_as(logits), reduction="none"
            ).mean(dim=1)

    theirs = best_threads(lambda: best_of(torch_bce, 1)) * steps / rows_b
    note(f"BCE: descent and torch each on {rows_b} of the 200 w rows (200 b each), times {steps / rows_b:g}")
    emit(
        Line(
            "exhaustive 200×200 (w, b), 1e5 samples, BCE",
            ours,
            "torch broadcasting",
            theirs,
            "ms",
            "≤ 1.0× torch broadcasting",
            ours <= theirs,
        )
    )


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
from worker.__main__ import warm_up
warm_up()
import numpy as np
from worker.engine import ListReporter, TrainConfig, train
rng = np.random.default_rng(0)
x = rng.standard_normal(({rows}, 10), dtype=np.float32)
y = (x @ rng.uniform(-2, 2, 10)).astype(np.float32)
blob_x, blob_y = x.tobytes(), y.tobytes()  # what redis-py hands the worker
del x, y
xs = np.frombuffer(blob_x, dtype="<f4").reshape({rows}, 10)
ys = np.frombuffer(blob_y, dtype="<f4")
raw = json.loads({json.dumps(raw)!r})
fast = raw.pop("fast", None)
Path("/proc/self/clear_refs").write_text("5")
base = status("VmRSS") - len(blob_x) - len(blob_y)
class Counting(ListReporter):  # keeps no points (the worker's reporter writes them to Redis as it goes)
    def train_point(self, *args): pass
    def train_points(self, *args): pass
train(xs, ys, TrainConfig.from_dict({{**raw, "tolerance": 0}}), Counting(batched_ticks=True), fast=fast)
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


# -- HTTP figures -----------------------------------------------------------------------------------------


class Client:
    """One keep-alive HTTP/1.1 connection, like a dashboard's."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=120)

    def request(self, method: str, path: str, body: Any = None, ctype: str = "application/json") -> Any:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        headers = {"Content-Type": ctype} if data is not None else {}
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        except (ConnectionError, http.client.HTTPException):
            self.conn.close()  # the server closed an idle keep-alive connection: open a new one
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        raw = response.read()
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {raw[:300]!r}")
        return json.loads(raw)


def wait_job(client: Client, job: str, interval: float = 0.005, timeout: float = 300) -> tuple[dict, float]:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        state = client.request("GET", f"/v1/jobs/{job}")
        if state["status"] not in ("queued", "running"):
            return state, time.perf_counter()
        time.sleep(interval)
    raise RuntimeError(f"job {job} did not end")


def csv_text(x: np.ndarray, y: np.ndarray) -> bytes:
    header = ",".join([*(f"x{j}" for j in range(x.shape[1])), "y"])
    buf = io.StringIO()
    np.savetxt(buf, np.c_[x, y], fmt="%.7g", delimiter=",", header=header, comments="")
    return buf.getvalue().encode()


def tiny_job(stack: Any, client: Client, quick: bool) -> None:
    ds = client.request("POST", "/v1/datasets?name=course", b"x,y\n1,2\n2,4\n3,6\n", "text/csv")["id"]
    body = {
        "dataset_id": ds,
        "model": {"type": "linear", "bias": False},
        "optimizer": {"type": "gd", "lr": 0.01},
        "epochs": 100,
        "tolerance": 0,
        "standardize": False,
    }
    latencies = []
    for _ in range(15 if quick else 40):
        start = time.perf_counter()
        job = client.request("POST", "/v1/jobs", body)["id"]
        state, seen = wait_job(client, job)
        assert state["status"] == "succeeded", state
        latencies.append(seen - start)
    ours = statistics.median(latencies)
    note(
        f"tiny job latencies: p50 {ours * 1e3:.1f} ms, p90 {percentile(latencies, 90) * 1e3:.1f} ms, "
        f"max {max(latencies) * 1e3:.1f} ms over {len(latencies)} jobs"
    )
    peers = rq_peers(stack.redis_url, quick)
    title = "tiny job, submit → succeeded (poll 5 ms), p50"
    for peer, value in peers.items():
        emit(Line(title, ours, peer, value, "ms", "p50 ≤ 30 ms", ours <= 0.030))


def rq_peers(redis_url: str, quick: bool) -> dict[str, float]:
    """RQ itself, on the same Redis: a no-op job on a SimpleWorker, a job importing torch on a
    forking Worker, and a no-op on a forking Worker whose parent imported torch first."""
    import redis
    from rq import Queue

    conn = redis.Redis.from_url(redis_url)
    out = {}
    kinds = [
        ("RQ SimpleWorker, no-op job", "SimpleWorker", False, "time.sleep", (0,), 15 if quick else 30),
        ("RQ forking Worker, torch imported first", "Worker", True, "time.sleep", (0,), 8 if quick else 15),
        (
            "RQ forking Worker, job imports torch",
            "Worker",
            False,
            "importlib.import_module",
            ("torch",),
            3 if quick else 5,
        ),
    ]
    for name, cls, preload, func, args, count in kinds:
        queue_name = f"bench-peer-{cls}-{preload}"
        code = (
            ("import torch\n" if preload else "")
            + f"import redis, rq\nw = rq.{cls}([{queue_name!r}], connection=redis.Redis.from_url({redis_url!r}))\n"
            + "w.work(logging_level='WARNING')\n"
        )
        proc = subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            queue = Queue(queue_name, connection=conn)
            warm = queue.enqueue("time.sleep", 0)
            deadline = time.monotonic() + 60
            while warm.get_status(refresh=True) != "finished" and time.monotonic() < deadline:
                time.sleep(0.05)
            latencies = []
            for _ in range(count):
                start = time.perf_counter()
                job = queue.enqueue(func, *args)
                while job.get_status(refresh=True) not in ("finished", "failed"):
                    time.sleep(0.005)
                latencies.append(time.perf_counter() - start)
            out[name] = statistics.median(latencies)
        finally:
            proc.terminate()
            proc.wait(30)
    return out


def history_poll(stack: Any, client: Client, quick: bool, big_dataset: str) -> None:
    import redis

    jobs = {}
    ds = client.request("POST", "/v1/datasets?name=course", b"x,y\n1,2\n2,4\n3,6\n", "text/csv")["id"]
    short = {"dataset_id": ds, "optimizer": {"type": "gd", "lr": 0.01}, "epochs": 1000, "tolerance": 0}
    jobs["1e3 points"] = client.request("POST", "/v1/jobs", short)["id"]
    long = {
        "dataset_id": big_dataset,
        "optimizer": {"type": "sgd", "lr": 0.0001},
        "epochs": 1,
        "tolerance": 0,
    }
    jobs["1e5 points"] = client.request("POST", "/v1/jobs", long)["id"]
    conn = redis.Redis.from_url(stack.redis_url)
    packed = np.arange(1_000_000, dtype=np.float32).tobytes()
    conn.set("bench:packed", packed)
    peer = statistics.median(
        seconds(lambda: np.frombuffer(conn.get("bench:packed"), dtype=np.float32)) for _ in range(20)
    )
    for label, job in jobs.items():
        state, _ = wait_job(client, job, 0.05)
        steps, every = state["progress"]["step"], state["config"]["log_every"]
        after = max(0, steps - 100 * every)
        path = f"/v1/jobs/{job}/history?after={after}&limit=100"
        assert len(client.request("GET", path)["train"]["step"]) == min(100, steps // every)
        times = [seconds(lambda p=path: client.request("GET", p)) for _ in range(60 if quick else 200)]
        ours = statistics.median(times)
        title = f"poll of the newest 100 points, job of {label}"
        emit(
            Line(title, ours, "read 1e6 packed float32 (redis GET)", peer, "ms", "p50 ≤ 5 ms", ours <= 0.005)
        )


def csv_upload(stack: Any, client: Client, quick: bool) -> None:
    import pandas as pd

    rows = 200_000
    x, y = linear_data(rows, 10, seed=3)
    text = csv_text(x, y)
    pandas_time = best_of(lambda: pd.read_csv(io.BytesIO(text)), 3)
    api = stack.pids()["api"]
    times, peaks = [], []
    for _ in range(2 if quick else 4):
        before = {}
        for pid in api:
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets the peak RSS (VmHWM)
            before[pid] = _status(pid)["VmRSS"]
        times.append(seconds(lambda: client.request("POST", "/v1/datasets?name=bench", text, "text/csv")))
        peaks.append(max(_status(pid)["VmHWM"] - before[pid] for pid in api))
    ours = min(times)
    title = f"CSV upload, 200k × 10 (+ target), {len(text) / 1e6:.1f} MB"
    emit(
        Line(title, ours, "pandas.read_csv (no HTTP)", pandas_time, "ms", "≤ 1.5×", ours <= 1.5 * pandas_time)
    )
    peak = max(peaks) / len(text)
    emit(
        Line(
            "CSV upload, peak memory of the API process", peak, "the file's size", 1.0, "x", "≤ 3×", peak <= 3
        )
    )


def _status(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            out[key] = int(value.split()[0]) * 1024
    return out


def sweep(stack: Any, client: Client, quick: bool, big_dataset: str) -> None:
    epochs = 100 if quick else 300
    body = {
        "dataset_id": big_dataset,
        "base": {"optimizer": {"type": "sgd", "lr": 0.001}, "epochs": epochs, "tolerance": 0},
        "grid": {"optimizer.lr": [0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.003, 0.004, 0.005]},
    }

    def run() -> float:
        start = time.perf_counter()
        sweep_id = client.request("POST", "/v1/sweeps", body)["id"]
        while True:
            state = client.request("GET", f"/v1/sweeps/{sweep_id}")
            if all(j["status"] not in ("queued", "running") for j in state["jobs"]):
                assert all(j["status"] == "succeeded" for j in state["jobs"]), state
                return time.perf_counter() - start
            time.sleep(0.02)

    one = run()
    stack.add_worker()
    stack.wait_workers(2)
    two = run()
    title = "sweep of 8 jobs (sgd, 1e5×10), 2 workers"
    emit(Line(title, two, "1 worker", one, "s", "≤ 0.6×", two <= 0.6 * one))


# -- main -------------------------------------------------------------------------------------------------

ENGINE = {
    "gd": gd_epoch,
    "minibatch": minibatch,
    "sgd": sgd,
    "mlp": mlp,
    "exhaustive": exhaustive,
    "memory": memory,
}
HTTP = ("tiny", "history", "csv", "sweep")


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
    from worker.__main__ import warm_up

    warm_up()
    for name, figure in ENGINE.items():
        if not only or name in only:
            figure(args.quick)
            gc.collect()
    wanted = [h for h in HTTP if not only or h in only]
    if wanted and not args.no_http:
        sys.path.insert(0, str(ROOT / "bench"))
        from stack import Stack

        with Stack(workers=1) as stack:
            client = Client(stack.url)
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
    met = [line for line in LINES if line.met is not None]
    print(f"goals met: {sum(line.met for line in met)} of {len(met)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
