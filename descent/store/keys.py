"""Every Redis key descent uses is spelled here and nowhere else.

Keys are grouped per resource so that deleting a resource is a DEL of the names this module lists.
RQ's own keys (``rq:*``) belong to RQ and are not named here.
"""

PREFIX = "descent:"


def dataset(dataset_id: str) -> str:
    """Hash: tenant, meta (JSON), x and y (packed little-endian float32)."""
    return f"{PREFIX}dataset:{dataset_id}"


def dataset_active_jobs(dataset_id: str) -> str:
    """Set of the ids of queued or running jobs training on the dataset (blocks DELETE)."""
    return f"{PREFIX}dataset:{dataset_id}:active"


def dataset_jobs(dataset_id: str) -> str:
    """Sorted set of every job on the dataset, scored by creation time (the ``dataset_id`` filter)."""
    return f"{PREFIX}dataset:{dataset_id}:jobs"


def tenant_datasets(tenant: str) -> str:
    """Sorted set of a tenant's datasets by creation time, for newest-first listing."""
    return f"{PREFIX}tenant:{tenant}:datasets"


def tenant_open_jobs(tenant: str) -> str:
    """Set of a tenant's queued or running job ids (the open-jobs limit)."""
    return f"{PREFIX}tenant:{tenant}:open"


def tenant_storage(tenant: str) -> str:
    """Hash: the bytes each of a tenant's resources holds, by the resource's key (store/usage.py)."""
    return f"{PREFIX}tenant:{tenant}:storage"


def tenant_storage_parts(tenant: str) -> str:
    """Hash: the keys each counted resource is made of (JSON list, its main key first)."""
    return f"{PREFIX}tenant:{tenant}:storage:parts"


def tenant_storage_checks(tenant: str) -> str:
    """Sorted set: each counted resource scored by when (unix ms) its size is measured again."""
    return f"{PREFIX}tenant:{tenant}:storage:checks"


def tenant_storage_total(tenant: str) -> str:
    """String: the sum of `tenant_storage`'s sizes, kept with it in the same scripts."""
    return f"{PREFIX}tenant:{tenant}:storage:total"


def tenant_rate(tenant: str) -> str:
    """String: the rate limiter's theoretical arrival time (GCRA, unix µs), expiring when idle."""
    return f"{PREFIX}tenant:{tenant}:rate"


def tenant_limited(tenant: str) -> str:
    """Hash: requests of the tenant refused by each limit (rate, open_jobs, storage), for /metrics."""
    return f"{PREFIX}tenant:{tenant}:limited"


def tenant_jobs(tenant: str) -> str:
    """Sorted set of a tenant's jobs by creation time."""
    return f"{PREFIX}tenant:{tenant}:jobs"


def sweep(sweep_id: str) -> str:
    """Hash: tenant, the request, the children (JSON list of id and overrides), the ranking metric."""
    return f"{PREFIX}sweep:{sweep_id}"


def sweep_study(sweep_id: str) -> str:
    """List: a searching sweep's Optuna journal, one JSON log entry per item (store/study.py)."""
    return f"{PREFIX}sweep:{sweep_id}:study"


def sweep_lock(sweep_id: str) -> str:
    """String: held while a process tells the study of ended trials and starts new ones."""
    return f"{PREFIX}sweep:{sweep_id}:lock"


def tenant_sweeps(tenant: str) -> str:
    """Sorted set of a tenant's sweeps by creation time."""
    return f"{PREFIX}tenant:{tenant}:sweeps"


def sweep_jobs(sweep_id: str) -> str:
    """Sorted set of a sweep's child jobs."""
    return f"{PREFIX}sweep:{sweep_id}:jobs"


def job(job_id: str) -> str:
    """Hash: the job record, one field per part so that partial updates are single HSETs."""
    return f"{PREFIX}job:{job_id}"


def job_train_history(job_id: str) -> str:
    """String of fixed-size binary train points, appended with APPEND (see `records`)."""
    return f"{PREFIX}job:{job_id}:train"


def job_train_staged(job_id: str) -> str:
    """String: a large flush's train points, SET next to the flush script in one transaction and
    moved (or appended) into the train history by it; never outlives the transaction."""
    return f"{PREFIX}job:{job_id}:train-staged"


def job_dev_history(job_id: str) -> str:
    """String of fixed-size binary dev points."""
    return f"{PREFIX}job:{job_id}:dev"


def job_surface(job_id: str) -> str:
    """Hash: axes (JSON) and cost (packed float64) of an exhaustive search."""
    return f"{PREFIX}job:{job_id}:surface"


def idempotency(tenant: str, route: str, key_digest: str) -> str:
    """String: the first answer to a POST with this Idempotency-Key (JSON), per tenant and route."""
    return f"{PREFIX}idem:{tenant}:{route}:{key_digest}"


def running_jobs() -> str:
    """Set of every running job id, across tenants: what the reaper looks at."""
    return f"{PREFIX}running"


def job_lease(job_id: str) -> str:
    """String: the name of the worker running the job, with a short TTL its heartbeat renews."""
    return f"{PREFIX}job:{job_id}:lease"


def job_checkpoint(job_id: str) -> str:
    """String: the job's latest training checkpoint (safetensors bytes)."""
    return f"{PREFIX}job:{job_id}:checkpoint"


def owed_enqueues() -> str:
    """Sorted set of requeued job ids whose RQ queue entry may not be written yet, scored by when
    they were requeued (unix seconds): see `JobStore.requeue`."""
    return f"{PREFIX}owed-enqueues"


def queue_ready(queue_name: str) -> str:
    """Sorted set: the RQ queues of `queue_name`'s family (one per tenant, and the shared one)
    that hold entries, scored by the turn each was last served at: a worker takes from the lowest
    (descent/store/fairness.py)."""
    return f"{PREFIX}queue:{queue_name}:ready"


def queue_turns(queue_name: str) -> str:
    """Hash: RQ queue name → the turn it was last served at, kept while it has no entries, so a
    tenant that comes back takes its old place in the rotation, not the front."""
    return f"{PREFIX}queue:{queue_name}:turns"


def queue_clock(queue_name: str) -> str:
    """String: the family's turn counter (INCR per job taken)."""
    return f"{PREFIX}queue:{queue_name}:clock"


def queue_doorbell(queue_name: str) -> str:
    """List of at most one token: pushed when entries arrive, popped (BLPOP) by an idle worker."""
    return f"{PREFIX}queue:{queue_name}:doorbell"


def workers() -> str:
    """Sorted set of worker names scored by their last heartbeat (unix seconds): /readyz, /metrics."""
    return f"{PREFIX}workers"


def store_probe() -> str:
    """String: a few bytes /readyz and /metrics rewrite to learn whether Redis still takes writes
    (a full Redis refuses it: `OpsStore.fullness`); it expires by itself."""
    return f"{PREFIX}probe"


JOBS_ENDED = f"{PREFIX}jobs:ended"
"""Pub/sub channel (not a key): each job's id as it ends (the API's ``?wait=`` listeners)."""


def job_stats() -> str:
    """Hash: jobs that reached each status, ever (monotonic counters for /metrics)."""
    return f"{PREFIX}stats:jobs"


def duration_stats() -> str:
    """Hash: a histogram of finished jobs' training seconds: bucket upper bound → count, plus sum."""
    return f"{PREFIX}stats:duration"


def test_hold(dataset_id: str) -> str:
    """String: the step at which workers with DESCENT_TEST_HOOKS=1 hold jobs on the dataset (tests only)."""
    return f"{PREFIX}test:hold:{dataset_id}"


def test_hold_phase(dataset_id: str, phase: str) -> str:
    """String: workers with DESCENT_TEST_HOOKS=1 hold jobs on the dataset at `phase` ("start": popped,
    before any start-up write; "end": the job's end written, before RQ's records of it) (tests only)."""
    return f"{PREFIX}test:hold:{phase}:{dataset_id}"
