"""Reading loss histories and exhaustive-search surfaces back out of Redis."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from redis import Redis

from . import keys, scripts
from .records import DEV_POINT, TRAIN_FORMATS, implied_steps
from .states import JobStatus


class HistoryStore:
    """A poll costs what it returns: one script call, one GETRANGE per series."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._read = scripts.KeyedScript(redis, scripts.READ_HISTORY)

    def read(self, job_id: str, after: int, limit: int, tenant: str = "") -> dict[str, Any] | None:
        """Train points with step > after (at most `limit`), dev points up to the page's end; None
        when the job is missing or, given a tenant, another tenant's (checked in the same call)."""
        reply = self._read(
            keys={
                "job": keys.job(job_id),
                "train": keys.job_train_history(job_id),
                "dev": keys.job_dev_history(job_id),
            },
            args=[after, limit, DEV_POINT.itemsize, tenant, *(d.itemsize for d in TRAIN_FORMATS.values())],
        )
        if reply is None:
            return None
        status, train_raw, dev_raw, count, first_index, train_format, config, log_every, per_epoch, progress = reply
        fetched = np.frombuffer(train_raw, dtype=TRAIN_FORMATS[int(train_format)])
        if "step" in fetched.dtype.names:
            steps, epochs = fetched["step"], fetched["epoch"]
        else:  # compact records: the plan and the job's last step say where each point is
            last = json.loads(progress).get("step", 0) if progress else 0
            steps = implied_steps(int(first_index), len(fetched), int(log_every), int(last))
            epochs = (steps - np.uint64(1)) // np.uint64(max(int(per_epoch), 1))
        seen = int(np.count_nonzero(steps <= after))
        train = fetched[seen : seen + limit]
        steps, epochs = steps[seen : seen + limit], epochs[seen : seen + limit]
        next_step = int(steps[-1]) if len(train) else after
        dev = np.frombuffer(dev_raw, dtype=DEV_POINT)
        dev = dev[(dev["step"] > after) & (dev["step"] <= next_step)]
        unread = int(count) - (int(first_index) + seen + len(train))
        complete = JobStatus(status.decode()).ended and unread <= 0
        return {
            "train": {
                "step": steps.tolist(),
                "epoch": epochs.tolist(),
                "loss": train["loss"].tolist(),
                "smoothed": train["smoothed"].tolist(),
                "lr": train["lr"].tolist() if "lr" in train.dtype.names else [_one_rate(config)] * len(train),
            },
            "dev": {
                "step": dev["step"].tolist(),
                "epoch": dev["epoch"].tolist(),
                "loss": dev["loss"].tolist(),
            },
            "next": next_step,
            "complete": complete,
        }

    def put_surface(self, job_id: str, axes: dict[str, list[float]], cost: np.ndarray) -> None:
        self.redis.hset(
            keys.job_surface(job_id),
            mapping={
                "axes": json.dumps(axes),
                "cost": np.ascontiguousarray(cost, dtype="<f8").tobytes(),
            },
        )

    def surface(self, job_id: str) -> dict[str, Any] | None:
        """Axes and the cost array (nested lists, C order over the axes)."""
        axes_raw, cost_raw = self.redis.hmget(keys.job_surface(job_id), "axes", "cost")
        if axes_raw is None or cost_raw is None:
            return None
        axes = json.loads(axes_raw)
        shape = tuple(len(v) for v in axes.values())
        cost = np.frombuffer(cost_raw, dtype="<f8").reshape(shape)
        return {"axes": axes, "cost": cost.tolist()}


def _one_rate(config: bytes | None) -> float | None:
    """The rate of every point of a history whose records hold none (formats 1 and 3): the job's
    `optimizer.lr`, its only rate (the config shows the one "auto" chose)."""
    lr = json.loads(config).get("optimizer", {}).get("lr") if config else None
    return float(lr) if isinstance(lr, int | float) and not isinstance(lr, bool) else None
