"""The `optimizer.schedule` of a job: how the learning rate changes from epoch to epoch.

Why these four, with these names: they are torch.optim.lr_scheduler's StepLR, ExponentialLR,
CosineAnnealingLR and ReduceLROnPlateau, the schedules a PyTorch user reaches for first, and each
is stepped once per epoch as PyTorch's examples step them (after the epoch's dev loss). Their keys
and defaults are torch's (`gamma` 0.1 for step, `factor` 0.1 and `patience` 10 for plateau), but
for cosine's `t_max`, which torch requires and a job leaves to its `epochs` (one half-cosine over
the run). What torch has that a job does not set keeps torch's default: eta_min 0; plateau's
mode "min", threshold 1e-4 (relative), cooldown 0, min_lr 0, eps 1e-8. The engine implements them
(worker/engine/schedules.py) and a test holds each to torch's sequence.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field

from .base import Int, Strict, bounded_int


class StepSchedule(Strict):
    """lr × gamma every `step_size` epochs (torch.optim.lr_scheduler.StepLR)."""

    type: Literal["step"]
    step_size: Int = Field(ge=1, description="epochs between two decays")
    gamma: float = Field(0.1, gt=0, le=1, allow_inf_nan=False, description="factor of each decay")


class ExponentialSchedule(Strict):
    """lr × gamma after every epoch (torch.optim.lr_scheduler.ExponentialLR)."""

    type: Literal["exponential"]
    gamma: float = Field(gt=0, le=1, allow_inf_nan=False, description="factor of each epoch's decay")


class CosineSchedule(Strict):
    """From lr down to 0 along a half cosine over `t_max` epochs, and back up past them
    (torch.optim.lr_scheduler.CosineAnnealingLR with eta_min 0)."""

    type: Literal["cosine"]
    t_max: bounded_int(ge=1) | None = Field(  # type: ignore[valid-type]
        None, description="epochs of the half cosine; default the job's `epochs` (the config shows it)"
    )


class PlateauSchedule(Strict):
    """lr × factor once the dev loss has not improved for more than `patience` epochs
    (torch.optim.lr_scheduler.ReduceLROnPlateau on the dev loss; needs a dev split)."""

    type: Literal["plateau"]
    factor: float = Field(0.1, gt=0, lt=1, allow_inf_nan=False, description="factor of each reduction")
    patience: Int = Field(10, ge=0, description="epochs without improvement that are tolerated")


SCHEDULE_CLASSES: tuple[type[Strict], ...] = (
    StepSchedule,
    ExponentialSchedule,
    CosineSchedule,
    PlateauSchedule,
)
SCHEDULE_TYPES: tuple[str, ...] = tuple(
    name for cls in SCHEDULE_CLASSES for name in get_args(cls.model_fields["type"].annotation)
)
"""Every schedule's `type`, read from its class."""

Schedule = Annotated[
    StepSchedule | ExponentialSchedule | CosineSchedule | PlateauSchedule, Field(discriminator="type")
]
"""Any schedule, told apart by `type`."""
