"""The engine's figures: a full-batch gd epoch, mini-batch and sgd throughput, an MLP under Adam.

Each runs descent's engine (`measure.engine`) and its peers on the same data in the same run: a
bare autograd loop, a hand-written analytic loop, numpy, DataLoader, scikit-learn.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from typing import Any

import torch

from bench.measure import best_of, best_threads, engine, linear_data, mlp_data
from bench.report import Line, emit


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
