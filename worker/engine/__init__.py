"""descent's training engine: pure PyTorch, no Redis, RQ or Flask.

    config = TrainConfig.from_dict(job_config)     # ValueError on an inconsistent dict
    out = train(x, y, config, reporter)            # x float32 (n, d), y float32 (n,)
    out.to_result()                                # the API's `result` object

The reporter (see `Reporter`) receives the plan (with the learning rate used, which "auto" chose),
history points, dev points, epoch metrics and search progress, and can cancel through `tick()`.
Failures are EngineError subclasses with a `.kind`. Models: linear and MLP; losses: mse, mae,
huber, bce, cross_entropy; optimizers: exhaustive, gd, sgd, minibatch, momentum, adam (config.py).
Parameters come back in original units and are applied by descent.predict (numpy), which the
service uses for predictions too.
"""

from .config import TrainConfig
from .errors import Cancelled, Diverged, EngineError, InvalidData, TimedOut
from .loop import train
from .reporting import ListReporter, Reporter
from .result import TrainOutput

__all__ = [
    "Cancelled",
    "Diverged",
    "EngineError",
    "InvalidData",
    "ListReporter",
    "Reporter",
    "TimedOut",
    "TrainConfig",
    "TrainOutput",
    "train",
]
