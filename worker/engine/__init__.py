"""descent's training engine: pure PyTorch, no Redis, RQ or Flask.

    config = JobConfig.model_validate_json(stored)  # descent.spec: the job's config, checked
    out = train(x, y, config, reporter)             # x float32 (n, d), y float32 (n,)
    out.to_result()                                 # the API's `result` object

The reporter (see `Reporter`) receives the plan (with the learning rate used, which "auto" chose),
history points, dev points, epoch metrics and search progress, and steers training through
`tick()`'s `Signal`: go on, cancel, checkpoint, or checkpoint and suspend. A checkpoint goes to
`reporter.save_checkpoint`; `Checkpoint.to_bytes()`/`from_bytes()` store it (safetensors), and

    out = train(x, y, config, reporter, resume=Checkpoint.from_bytes(data))

continues the run exactly where it was taken (checkpoint.py). Failures are EngineError subclasses
with a `.kind` (Suspended's is "suspended": not a failure, the job is to be resumed). Models:
linear and MLP; losses: mse, mae, huber, bce, cross_entropy; optimizers: exhaustive, gd, sgd,
minibatch, momentum, adam (descent.spec names them and their keys). Parameters come back in
original units and are applied by descent.predict (numpy), which the service uses for predictions
too.
"""

from .checkpoint import Checkpoint
from .errors import Cancelled, Diverged, EngineError, InvalidData, Suspended, TimedOut
from .loop import train
from .reporting import ListReporter, Reporter, Signal
from .result import TrainOutput

__all__ = [
    "Cancelled",
    "Checkpoint",
    "Diverged",
    "EngineError",
    "InvalidData",
    "ListReporter",
    "Reporter",
    "Signal",
    "Suspended",
    "TimedOut",
    "TrainOutput",
    "train",
]
