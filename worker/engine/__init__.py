"""descent's training engine: pure PyTorch, no Redis, RQ or Flask.

    config = JobConfig.model_validate_json(stored)  # descent.spec: the job's config, checked
    out = train(x, y, config, reporter)             # x float32 (n, d), y float32 (n,)
    out.to_result()                                 # the API's `result` object

The reporter (callbacks.Reporter) receives the plan (with the learning rate used, which "auto"
chose), history points, dev points, epoch metrics and search progress, and steers training through
`tick()`'s `Signal`: go on, cancel, checkpoint, or checkpoint and suspend. A checkpoint reaches
`reporter.save_checkpoint(data, train_points, dev_points)` as bytes (checkpoint.py: safetensors
with a JSON header), and

    out = train(x, y, config, reporter, resume=decode_checkpoint(data))

continues the run exactly where it was taken. `train(..., fast=False)` trains with the autograd
loop only (updates.py: the compiled and dense updates are the default). Failures are EngineError
subclasses with a `.kind` (Suspended's is "suspended": not a failure, the job is to be resumed).
Models: linear and MLP; losses: mse, mae, huber, bce, cross_entropy; optimizers: exhaustive, gd,
sgd, minibatch, momentum, adam (descent.spec names them and their keys). Parameters come back in original units and are applied
by descent.predict (numpy), which the service uses for predictions too.

The modules, from the entry point down: loop.py (train(), the epoch loop), epoch_end.py,
updates.py (compiled, dense and autograd updates) with kernels.py and dense.py, search.py
(exhaustive search), lr_auto.py, history.py, checkpoint.py (the codec) and resume.py (does a
checkpoint fit this job), run_state.py (the state a checkpoint holds), callbacks.py (Reporter,
Signal), errors.py, and the pieces they share: data, models, losses, optimizers, result (with
metrics.py, the evaluation per split).
"""

from .callbacks import ListReporter, Reporter, SavedCheckpoint, Signal
from .checkpoint import decode_checkpoint, encode_checkpoint
from .errors import Cancelled, Diverged, EngineError, InvalidData, Suspended, TimedOut
from .loop import train
from .result import TrainOutput
from .run_state import RunState

__all__ = [
    "Cancelled",
    "Diverged",
    "EngineError",
    "InvalidData",
    "ListReporter",
    "Reporter",
    "RunState",
    "SavedCheckpoint",
    "Signal",
    "Suspended",
    "TimedOut",
    "TrainOutput",
    "decode_checkpoint",
    "encode_checkpoint",
    "train",
]
