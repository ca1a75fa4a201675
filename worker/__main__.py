"""`python -m worker`: an RQ worker on REDIS_URL with PyTorch loaded before the first job."""

from __future__ import annotations

import argparse
import logging
import os

import torch  # imported up front: a job must not pay for it, and no fork follows

import worker.tasks  # noqa: F401  (loads the engine before the first job)
from descent.settings import Settings
from descent.store import Store, connect
from worker.engine import ListReporter, TrainConfig, train
from worker.heartbeat import Heartbeat
from worker.runner import DescentWorker


def warm_up() -> None:
    """Train a 3-row model once so the first real job does not pay PyTorch's first-call costs."""
    import numpy as np

    x = np.array([[1.0], [2.0], [3.0]], dtype=np.float32)
    y = np.array([2.0, 4.0, 6.0], dtype=np.float32)
    for optimizer in ({"type": "gd"}, {"type": "minibatch", "batch_size": 2}):
        config = TrainConfig.from_dict({"optimizer": optimizer, "epochs": 2, "tolerance": 0})
        train(x, y, config, ListReporter())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m worker", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--name", default=None, help="worker name (default: RQ's)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    threads = os.environ.get("DESCENT_TORCH_THREADS")
    if threads:
        torch.set_num_threads(int(threads))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    warm_up()
    redis = connect(settings.redis_url, socket_timeout=None)
    heartbeat = Heartbeat(Store(redis, settings.retention_seconds), settings)
    heartbeat.start()
    worker = DescentWorker([settings.queue_name], connection=redis, name=args.name)
    worker.work(burst=args.burst, logging_level="INFO")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
