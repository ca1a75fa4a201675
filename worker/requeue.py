"""Handing a running job back to the queue: the one copy of "requeue, then enqueue".

Used by a stopping worker for its own job (`worker.tasks`) and by the reaper for the jobs of dead
workers (`worker.heartbeat`). It is two steps, because the RQ queue entry is RQ's to write:

1. `JobStore.requeue` — one Lua script: running → queued, and the job's queue entry recorded as
   owed (the `owed_enqueues` set), atomically.
2. `enqueue_owed` — write the RQ entry, then strike the debt.

Redis failing, or the process dying, between the two leaves the debt on record, and every worker's
heartbeat pays owed entries older than a beat (`pay_owed_enqueues`): a requeued job never stays
queued with nothing on the queue. Paying twice is harmless — a worker that pops a job no longer
queued skips it (`worker.tasks.run`) — so the repair needs no lock.
"""

from __future__ import annotations

import json
import logging

from descent.queue import enqueue_training
from descent.settings import Settings
from descent.store import JobStatus, RequeueOutcome, Store

log = logging.getLogger("descent.worker")


def requeue(store: Store, settings: Settings, job_id: str, worker: str = "") -> RequeueOutcome:
    """Hand `job_id` back (step 1) and put it on the RQ queue (step 2). `worker` is the stopping
    worker handing back its own job; "" is the reaper, which acts only once the lease has expired.
    A failure of step 2 is logged and left to `pay_owed_enqueues`; one of step 1 propagates."""
    outcome = store.jobs.requeue(job_id, worker, settings.max_attempts)
    if outcome is RequeueOutcome.REQUEUED:
        try:
            enqueue_owed(store, settings, job_id)
        except Exception as exc:
            log.warning(
                "job %s: requeued, queue entry not written yet (%s); a heartbeat retries", job_id, exc
            )
    return outcome


def enqueue_owed(store: Store, settings: Settings, job_id: str) -> bool:
    """Step 2 for one requeued job: its RQ entry, then the debt struck. False when the job is no
    longer queued (cancelled meanwhile, say): nothing is owed then."""
    fields = store.jobs.fields(job_id)
    if fields is None or fields.get("status") != JobStatus.QUEUED:
        store.jobs.enqueued(job_id)
        return False
    config = json.loads(fields.get("config", "{}"))
    enqueue_training(
        store.redis,
        settings.queue_name,
        fields.get("tenant", ""),
        job_id,
        int(config.get("max_runtime_seconds", 3600)),
        int(fields.get("attempt", "0")),
    )
    store.jobs.enqueued(job_id)
    return True


def pay_owed_enqueues(store: Store, settings: Settings) -> list[str]:
    """Step 2 for every job requeued more than a heartbeat ago whose entry is still owed (the
    requeuer failed or died between the steps); returns the ids put on the queue."""
    paid = []
    for job_id in store.jobs.owed_enqueues(older_than_seconds=settings.heartbeat_seconds):
        if enqueue_owed(store, settings, job_id):
            log.warning("job %s: requeued earlier without a queue entry; enqueued now", job_id)
            paid.append(job_id)
    return paid
