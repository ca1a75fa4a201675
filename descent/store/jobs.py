"""Job records in Redis: creation, the status state machine, leases, listing (a running job's
progress writes: progress.py)."""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.client import Pipeline

from . import keys, scripts, tenants
from .paging import page
from .progress import ProgressWrites
from .records import now, now_score
from .states import CancelOutcome, DeleteOutcome, JobStatus, RequeueOutcome

_JSON_FIELDS = ("config", "progress", "metrics", "result", "error")
OWNERS_KEPT = 64
"""Jobs whose owner and dataset a store remembers from their start (the oldest forgotten first)."""


@dataclass(frozen=True)
class Start:
    """What `JobStore.start` did: started (true), with the record as it was while queued; or not,
    with the status the job was in (None: no such job)."""

    status: str | None
    record: dict[str, str] | None

    def __bool__(self) -> bool:
        return self.record is not None


class OpenJobsLimit(Exception):
    """The tenant already has as many queued or running jobs as it may."""


class JobStore(ProgressWrites):
    """The worker and the API change a job only through these methods (a running job's history
    and checkpoint writes: ProgressWrites, progress.py)."""

    def __init__(self, redis: Redis, retention_seconds: int) -> None:
        super().__init__(redis)
        self.retention_seconds = retention_seconds
        self._create = scripts.KeyedScript(redis, scripts.CREATE_JOB)
        self._transition = scripts.KeyedScript(redis, scripts.TRANSITION)
        self._cancel = scripts.KeyedScript(redis, scripts.CANCEL)
        self._delete = scripts.KeyedScript(redis, scripts.DELETE_JOB)
        self._start = scripts.KeyedScript(redis, scripts.START)
        self._renew = scripts.KeyedScript(redis, scripts.RENEW)
        self._requeue = scripts.KeyedScript(redis, scripts.REQUEUE)
        self._owners: OrderedDict[str, tuple[str, str]] = OrderedDict()
        """job id → (tenant, dataset id), as `start` read them: a job's owner and dataset never
        change, so a worker's status changes need not read them again (an HMGET before its end).
        The last OWNERS_KEPT jobs started through this store (a worker's lives for all its jobs)."""

    # -- creation and reading -------------------------------------------------------------------
    def create(
        self,
        tenant: str,
        job_id: str,
        config: dict[str, Any],
        sweep_id: str | None = None,
        max_open: int = 0,
        dataset_version: str = "",
        then: Callable[[Pipeline], None] | None = None,
    ) -> dict[str, Any] | None:
        """Write a queued job; None when its dataset is missing or another tenant's, or (with
        `dataset_version`, the publish token the request was checked against) published again since.
        `then(pipeline)` queues more commands in the same transaction, after the creation
        (its queueing: descent.queue.queue_created, whose writes check the creation went through).

        Raises OpenJobsLimit when the tenant has `max_open` open jobs already (0: no limit).
        """
        dataset_id = config["dataset_id"]
        fields: dict[str, Any] = {
            "id": job_id,
            "tenant": tenant,
            "dataset_id": dataset_id,
            "sweep_id": sweep_id or "",
            "status": JobStatus.QUEUED,
            "config": json.dumps(config),
            "progress": json.dumps(
                {"epoch": 0, "epochs": config.get("epochs", 0), "step": 0, "fraction": 0.0}
            ),
            "metrics": json.dumps({}),
            "attempt": 0,
            "created_at": now(),
        }
        job_keys = {
            "dataset": keys.dataset(dataset_id),
            "job": keys.job(job_id),
            "tenant_jobs": keys.tenant_jobs(tenant),
            "dataset_jobs": keys.dataset_jobs(dataset_id),
            "dataset_active": keys.dataset_active_jobs(dataset_id),
            "tenant_open": keys.tenant_open_jobs(tenant),
            "stats": keys.job_stats(),  # the script counts the creation: no round trip of its own
        }
        if sweep_id:
            job_keys["sweep_jobs"] = keys.sweep_jobs(sweep_id)
        args: list[Any] = [tenant, job_id, now_score(), max_open, self.retention_seconds, dataset_version]
        for name, value in fields.items():
            args += [name, value]
        pipe = self.redis.pipeline(transaction=True)
        self._create(keys=job_keys, args=args, client=pipe)
        tenants.track(pipe, tenant, tenants.job_parts(job_id))  # left again at once if not created
        if then is not None:
            then(pipe)
        created = pipe.execute()[0]
        if created == -1:
            raise OpenJobsLimit(tenant)
        if not created:
            return None
        return resource({k: str(v) for k, v in fields.items()})

    def fields(self, job_id: str) -> dict[str, str] | None:
        """The raw record with decoded strings (no tenant check)."""
        raw = self.redis.hgetall(keys.job(job_id))
        if not raw:
            return None
        return {k.decode(): v.decode() for k, v in raw.items()}

    def get(self, tenant: str, job_id: str) -> dict[str, Any] | None:
        """The job resource, or None when missing or another tenant's."""
        record = self.fields(job_id)
        if record is None or record.get("tenant") != tenant:
            return None
        return resource(record)

    def list(
        self,
        tenant: str,
        limit: int,
        cursor: str | None,
        status: str | None = None,
        dataset_id: str | None = None,
        sweep_id: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first, filtered; the narrowest index is scanned."""
        if sweep_id:
            index = keys.sweep_jobs(sweep_id)
        elif dataset_id:
            index = keys.dataset_jobs(dataset_id)
        else:
            index = keys.tenant_jobs(tenant)

        def load(ids: list[str]) -> list[dict[str, Any] | None]:
            pipe = self.redis.pipeline(transaction=False)
            for job_id in ids:
                pipe.hgetall(keys.job(job_id))
            out: list[dict[str, Any] | None] = []
            raws = pipe.execute()
            gone = [job_id for job_id, raw in zip(ids, raws, strict=True) if not raw]
            if gone:  # expired records leave their index entries behind; drop them as they are met
                self.redis.zrem(index, *gone)
            for raw in raws:
                record = {k.decode(): v.decode() for k, v in raw.items()}
                keep = (
                    record.get("tenant") == tenant
                    and (status is None or record.get("status") == status)
                    and (dataset_id is None or record.get("dataset_id") == dataset_id)
                    and (sweep_id is None or record.get("sweep_id") == sweep_id)
                )
                out.append(resource(record) if keep else None)
            return out

        return page(self.redis, index, limit, cursor, load)

    # -- state changes --------------------------------------------------------------------------
    def open_count(self, tenant: str) -> int:
        """The tenant's queued plus running jobs."""
        return int(self.redis.scard(keys.tenant_open_jobs(tenant)))

    def cancel(self, tenant: str, job_id: str) -> CancelOutcome:
        """CANCELLED (was queued), REQUESTED (running; the worker stops), ENDED or MISSING."""
        outcome = CancelOutcome(
            self._cancel(keys=self._state_keys(job_id), args=[tenant, now(), self.retention_seconds]).decode()
        )
        return outcome

    def _state_keys(self, job_id: str) -> dict[str, str]:
        """The keys a status change touches (job_end.STATE_KEYS)."""
        known = self._owners.get(job_id)
        if known is None:
            tenant_b, dataset_b = self.redis.hmget(keys.job(job_id), "tenant", "dataset_id")
            known = (tenant_b.decode() if tenant_b else "-", dataset_b.decode() if dataset_b else "-")
        tenant, dataset_id = known
        return {
            "job": keys.job(job_id),
            "dataset_active": keys.dataset_active_jobs(dataset_id),
            "tenant_open": keys.tenant_open_jobs(tenant),
            "train": keys.job_train_history(job_id),
            "dev": keys.job_dev_history(job_id),
            "surface": keys.job_surface(job_id),
            "running": keys.running_jobs(),
            "lease": keys.job_lease(job_id),
            "checkpoint": keys.job_checkpoint(job_id),
            "stats": keys.job_stats(),
            "durations": keys.duration_stats(),
        }

    # -- leases: who runs a job, and taking it back from a worker that died ----------------------
    def start(self, job_id: str, worker: str, lease_ms: int) -> Start:
        """queued → running for `worker`, holding a lease its heartbeat must renew; the record as it
        was while queued comes back from the same script (its tenant and dataset are remembered for
        this store's later status changes of the job)."""
        return self.started(job_id, self._start(keys=_start_keys(job_id), args=[worker, lease_ms, now()]))

    def queue_start(self, pipeline: Pipeline, job_id: str, worker: str, lease_ms: int) -> None:
        """`start`'s script queued on `pipeline` (a worker's transaction of RQ's start-up writes);
        its answer, from `execute`, goes to `started`."""
        self._start(keys=_start_keys(job_id), args=[worker, lease_ms, now()], client=pipeline)

    def started(self, job_id: str, answer: Any) -> Start:
        """What the start script's `answer` says."""
        if not isinstance(answer, list):
            return Start(answer.decode() if answer else None, None)
        record = {answer[i].decode(): answer[i + 1].decode() for i in range(0, len(answer), 2)}
        if record.get("tenant") and record.get("dataset_id"):
            self._owners[job_id] = (record["tenant"], record["dataset_id"])
            if len(self._owners) > OWNERS_KEPT:
                self._owners.popitem(last=False)
        return Start(JobStatus.QUEUED, record)

    def renew(self, job_id: str, worker: str, lease_ms: int) -> bool:
        """Extend the lease; False when the job is no longer this worker's (it was reaped)."""
        job_keys = {"job": keys.job(job_id), "lease": keys.job_lease(job_id)}
        return self._renew(keys=job_keys, args=[worker, lease_ms]) == 1

    def requeue(self, job_id: str, worker: str, max_attempts: int) -> RequeueOutcome:
        """Hand a running job back: by its own worker (`worker`, when it stops) or by the reaper
        (`worker=""`, only once the lease has expired). REQUEUED, LOST (out of attempts:
        failed/worker_lost), ALIVE, NOT_RUNNING or NOT_YOURS.

        REQUEUED moves the job to queued and, in the same script, records that its RQ queue entry
        is owed (`owed_enqueues`); the caller then writes the entry and calls `enqueued`. Whatever
        fails in between, the owed entry stays listed until someone writes it.
        """
        job_keys = {**self._state_keys(job_id), "owed_enqueues": keys.owed_enqueues()}
        args = [worker, max_attempts, now(), self.retention_seconds, time.time()]
        return RequeueOutcome(self._requeue(keys=job_keys, args=args).decode())

    def owed_enqueues(self, older_than_seconds: float = 0.0) -> list[str]:
        """Requeued jobs whose queue entry is owed, requeued at least `older_than_seconds` ago."""
        latest = time.time() - older_than_seconds
        return [m.decode() for m in self.redis.zrangebyscore(keys.owed_enqueues(), "-inf", latest)]

    def enqueued(self, job_id: str) -> None:
        """The requeued job's queue entry is written (or no longer needed): nothing is owed."""
        self.redis.zrem(keys.owed_enqueues(), job_id)

    def running_ids(self) -> list[str]:
        return [m.decode() for m in self.redis.smembers(keys.running_jobs())]

    def checkpoint(self, job_id: str) -> bytes | None:
        return self.redis.get(keys.job_checkpoint(job_id))

    def delete(self, tenant: str, job_id: str) -> DeleteOutcome:
        """DELETED, OPEN (queued or running: cancel it first) or MISSING."""
        dataset_id, sweep_id = self.redis.hmget(keys.job(job_id), "dataset_id", "sweep_id")
        job_keys = {
            "job": keys.job(job_id),
            "train": keys.job_train_history(job_id),
            "dev": keys.job_dev_history(job_id),
            "surface": keys.job_surface(job_id),
            "tenant_jobs": keys.tenant_jobs(tenant),
            "dataset_jobs": keys.dataset_jobs(dataset_id.decode() if dataset_id else "-"),
        }
        if sweep_id:
            job_keys["sweep_jobs"] = keys.sweep_jobs(sweep_id.decode())
        pipe = self.redis.pipeline(transaction=True)
        self._delete(keys=job_keys, args=[tenant, job_id], client=pipe)
        tenants.recheck(pipe, tenant, keys.job(job_id))
        return DeleteOutcome(pipe.execute()[0].decode())

    def transition(
        self,
        job_id: str,
        allowed: tuple[JobStatus, ...],
        status: JobStatus,
        count_attempt: bool = False,
        worker: str = "",
        **fields: Any,
    ) -> bool:
        """Move the job to `status` if it is in one of `allowed`; set `fields` in the same step."""
        call = self._transition_call(job_id, allowed, status, count_attempt, worker, fields)
        return self._transition(**call) == 1

    def queue_transition(
        self,
        pipe: Pipeline,
        job_id: str,
        allowed: tuple[JobStatus, ...],
        status: JobStatus,
        worker: str = "",
        **fields: Any,
    ) -> None:
        """`transition`, queued on `pipe` (a job's last flush and its end in one round trip):
        `pipe.execute()` answers 1 where `transition` returns True."""
        self._transition(**self._transition_call(job_id, allowed, status, False, worker, fields), client=pipe)

    def _transition_call(
        self,
        job_id: str,
        allowed: tuple[JobStatus, ...],
        status: JobStatus,
        count_attempt: bool,
        worker: str,
        fields: dict[str, Any],
    ) -> dict[str, Any]:
        """The TRANSITION script's keys and arguments."""
        status = JobStatus(status)
        args: list[Any] = [
            ",".join(allowed),
            status,
            "1" if count_attempt else "0",
            self.retention_seconds,
            worker,
        ]
        if status.ended:
            fields.setdefault("finished_at", now())
        for name, value in fields.items():
            args += [name, json.dumps(value) if name in _JSON_FIELDS else str(value)]
        return {"keys": self._state_keys(job_id), "args": args}


def resource(record: dict[str, str]) -> dict[str, Any]:
    """The public job resource of API.md from a stored record."""

    def load(name: str) -> Any:
        value = record.get(name)
        return json.loads(value) if value else None

    return {
        "id": record["id"],
        "dataset_id": record["dataset_id"],
        "sweep_id": record.get("sweep_id") or None,
        "status": record["status"],
        "config": load("config"),
        "progress": load("progress"),
        "metrics": load("metrics") or {},
        "result": load("result"),
        "error": load("error"),
        "attempt": int(record.get("attempt") or 0),
        "created_at": record.get("created_at"),
        "started_at": record.get("started_at") or None,
        "finished_at": record.get("finished_at") or None,
    }


def _start_keys(job_id: str) -> dict[str, str]:
    return {
        "job": keys.job(job_id),
        "running": keys.running_jobs(),
        "lease": keys.job_lease(job_id),
        "stats": keys.job_stats(),
    }
