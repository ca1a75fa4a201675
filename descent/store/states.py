"""The words the store speaks: job statuses and what each state-changing script answered.

They are `StrEnum`s, so a value is its own string on the wire, in Redis and in JSON (the Lua scripts
write and return these same strings), while Python code names them instead of spelling them.
"""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    """Where a job is: queued → running → succeeded | failed | cancelled (and running → queued when
    its worker stops or dies)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def ended(self) -> bool:
        """True for the three statuses a job never leaves."""
        return self in TERMINAL_STATUSES


OPEN_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
TERMINAL_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
STATUSES = OPEN_STATUSES + TERMINAL_STATUSES


class RequeueOutcome(StrEnum):
    """What handing a running job back to the queue did (scripts.REQUEUE)."""

    REQUEUED = "requeued"
    """Back to queued; its queue entry is owed (see `JobStore.requeue`)."""
    LOST = "lost"
    """Out of attempts: failed as worker_lost."""
    ALIVE = "alive"
    """The reaper found the lease still held: its worker is alive."""
    NOT_RUNNING = "not_running"
    """The job had already left running."""
    NOT_YOURS = "not_yours"
    """Another worker holds the job now."""


class CancelOutcome(StrEnum):
    """What a cancel request did (scripts.CANCEL)."""

    CANCELLED = "cancelled"
    """It was queued: cancelled at once."""
    REQUESTED = "requested"
    """It is running: its worker stops within a flush."""
    ENDED = "ended"
    MISSING = "missing"


class DeleteOutcome(StrEnum):
    """What deleting a job or a dataset did (scripts.DELETE_JOB, scripts.DELETE_DATASET)."""

    DELETED = "deleted"
    OPEN = "open"
    """A job that is queued or running: cancel it first."""
    IN_USE = "in_use"
    """A dataset that open jobs train on."""
    MISSING = "missing"


class SweepStatus(StrEnum):
    """A sweep is running while any child is open, then done."""

    RUNNING = "running"
    DONE = "done"


MISSING_CHILD = "missing"
"""A sweep child's status once its job record has expired or been deleted."""
