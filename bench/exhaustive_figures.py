"""The exhaustive-search figures: a 200×200 (w, b) grid on 1e5 samples under mse, mae, huber and
bce, against numpy and torch broadcasting the same costs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from bench.measure import Clock, best_of, best_threads, job_config
from bench.report import Line, emit, note
from worker.engine import train
from worker.engine.losses import HUBER_DELTA


def exhaustive(quick: bool) -> None:
    rows, steps = 100_000, 200
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 3, (rows, 1)).astype(np.float32)
    y = (1.3 * x[:, 0] - 0.4 + 0.5 * rng.standard_normal(rows)).astype(np.float32)
    grid = {"w": {"min": -1, "max": 3, "steps": steps}, "b": {"min": -2, "max": 2, "steps": steps}}
    raw = {"optimizer": {"type": "exhaustive", "grid": grid}}
    config = job_config(raw)
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
        config = job_config({**raw, "loss": loss})
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
    config = job_config({"loss": "bce", "optimizer": {"type": "exhaustive", "grid": sub}})
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
