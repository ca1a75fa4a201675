"""RQ's records of a job that returned, written in one transaction where RQ takes four round trips.

After each job RQ's worker writes the job's heartbeat (a command of its own), then watches the
job's dependents key, reads its dependents, and writes the job finished, its result, the worker's
counters and the execution's cleanup in a MULTI: four round trips and about 1.5 ms of a worker's
time between one job and the next (cProfile, 270 jobs of 10k rows). A descent job has no
dependents to release (the API enqueues none with `depends_on`, and `DescentJob` runs nothing but
descent's task) and no repeats: `write_success` makes RQ's writes, in RQ's order, in one MULTI.
tests/api/test_rq_success_records.py holds them equal to RQ's own calls.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.rate_limit import release_slot


def handled_here(job: Job) -> bool:
    """Whether the job's success is only writes (no repeats to schedule)."""
    return not job.repeats_left


def write_success(worker: Any, job: Job, heartbeat: datetime, execution: Execution) -> None:
    """RQ's `handle_execution_ended` heartbeat and `handle_job_success` writes for `job`, which
    returned, in one transaction; then its rate-limit slot, as RQ frees it after the commit."""
    result_ttl = job.get_result_ttl(worker.default_result_ttl)
    with worker.connection.pipeline() as pipe:
        job.heartbeat(heartbeat, job.success_callback_timeout, pipeline=pipe)
        worker.increment_successful_job_count(pipeline=pipe)
        worker.increment_total_working_time(job.ended_at - job.started_at, pipe)
        if result_ttl != 0:
            job._handle_success(
                result_ttl,
                pipeline=pipe,
                worker_name=worker.name,
                execution_id=execution.id,
                execution_started_at=execution.created_at,
                execution_ended_at=job.ended_at,
            )
        job.cleanup(result_ttl, pipeline=pipe, remove_from_queue=False)
        job._status = JobStatus.FINISHED
        worker.cleanup_execution(job, pipeline=pipe, execution=execution)
        pipe.execute()
    release_slot(job)
