"""The ways training can end without a result, as typed exceptions.

Why: the worker turns each one into the job's `error` (or the `cancelled` status) by its `.kind`,
without parsing messages; the message is written for the user who reads it in the job resource.
"""

from __future__ import annotations


class EngineError(Exception):
    """Training stopped without a result. `kind` is the API's `error.type` (or "cancelled", or
    "suspended": not a failure, the job is to be resumed)."""

    kind: str = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Diverged(EngineError):
    """The cost became NaN or infinite, or grew far past the first epoch's cost."""

    kind = "diverged"

    def __init__(self, message: str, epoch: int | None = None, step: int | None = None) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.step = step

    # `bound`, when known (a linear model under mse), is 2/L: the largest learning rate for which
    # full-batch gradient descent is stable (lr_auto.mse_stability_bound); the message names it.

    @classmethod
    def non_finite(cls, epoch: int, step: int, lr: float, bound: float | None = None) -> Diverged:
        """A single update's cost was NaN or infinite."""
        return cls(
            f"training diverged in epoch {epoch}: the cost became NaN or infinite at step {step}; "
            + _advice(lr, bound),
            epoch,
            step,
        )

    @classmethod
    def grew(
        cls, epoch: int, step: int, cost: float, first: float, lr: float, bound: float | None = None
    ) -> Diverged:
        """An epoch's cost exceeded DIVERGENCE_FACTOR times the first epoch's cost."""
        return cls(
            f"training diverged in epoch {epoch}: the cost grew to {cost:.3g}, more than 10^4 "
            f"times the first epoch's cost ({first:.3g}); " + _advice(lr, bound),
            epoch,
            step,
        )

    @classmethod
    def bad_params(cls, epoch: int, step: int, lr: float, bound: float | None = None) -> Diverged:
        """Training ended with NaN or infinite parameters (never reported as a success)."""
        return cls(
            f"training diverged in epoch {epoch}: the parameters became NaN or infinite; "
            + _advice(lr, bound),
            epoch,
            step,
        )


class TimedOut(EngineError):
    """The job ran past its `max_runtime_seconds`."""

    kind = "timeout"

    @classmethod
    def after(cls, limit: float, where: str) -> TimedOut:
        """The message names the limit and how far training got."""
        return cls(
            f"training stopped at its time limit, max_runtime_seconds = {limit:g}, {where}; "
            "allow more time or ask for less work (fewer epochs, a smaller grid)"
        )


class Cancelled(EngineError):
    """The reporter asked to stop (a cancel request reached the worker)."""

    kind = "cancelled"


class Suspended(EngineError):
    """The reporter asked training to stop so the job can continue elsewhere (Signal.SUSPEND).

    A run hands its checkpoint to `reporter.save_checkpoint` just before raising this (resume from
    it); an exhaustive search, or a run still choosing its "auto" learning rate, has nothing to
    checkpoint, saves none, and the job restarts from the beginning.
    """

    kind = "suspended"


class InvalidData(EngineError):
    """The arrays do not fit the config (shapes, non-finite values, grid ranges per feature)."""

    kind = "invalid_data"


DIVERGENCE_FACTOR = 1e4
"""An epoch cost above this multiple of the first epoch's cost counts as divergence."""


def _advice(lr: float, bound: float | None = None) -> str:
    """The hint every divergence message ends with: the step size is the usual culprit.

    With the stability bound 2/L known, the message states it, and suggests lr/10 or, when that is
    still above half the bound, 1/L (the rate "auto" picks for gradient descent).
    """
    if bound is None:
        return f"the learning rate {_short(lr)} is too large — try a smaller one such as {_short(lr / 10)}"
    suggestion = min(lr / 10, bound / 2)
    return (
        f"the learning rate {_short(lr)} is too large — the largest stable learning rate here is about "
        f"{_short(bound)} (2/L for full-batch gradient descent) — try a smaller one such as "
        f"{_short(suggestion)}"
    )


def _short(value: float) -> str:
    """3 significant digits, printed as Python prints a float: 1.0, 0.1, 0.003, 1e-05."""
    return repr(float(f"{value:.3g}"))
