"""Every environment variable descent reads, in one place.

Each setting is a default plus a variable that overrides it: `DESCENT_<FIELD>` unless the field
names another (`REDIS_URL`, `NUMBA_CACHE_DIR`, `PROMETHEUS_MULTIPROC_DIR`). The README's
Configuration table lists them all. Reading happens in `Settings.from_env()` (the service and the
workers) and `ClientSettings.from_env()` (the `descent` command), so tests build their own
instances. This is also the one module that writes the process environment: `export_for_libraries`
hands the two variables that libraries read themselves (numba, prometheus_client) to them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
"""Where Redis is when REDIS_URL is unset: the local server of a developer machine."""
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
"""DESCENT_LOG_LEVEL's values, as `logging` names them."""

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def parse_bool(name: str, text: str) -> bool:
    """`1/true/yes/on` or `0/false/no/off` (any case); anything else is an error naming the variable
    (``bool("0")`` is True, so a plain cast would turn every value on)."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}={text!r} is not a boolean (use 1 or 0)")


def _env(name: str) -> Any:
    """Field metadata: the variable a field is read from, when it is not DESCENT_<FIELD>."""
    return {"env": name}


def variable(f: Any) -> str:
    """The environment variable a Settings or ClientSettings field is read from."""
    return f.metadata.get("env") or "DESCENT_" + f.name.upper()


def _from_env(cls: Any, environ: Mapping[str, str] | None) -> Any:
    """An instance of the dataclass `cls`: defaults, overridden by each field's non-empty variable."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for f in fields(cls):
        name = variable(f)
        if env.get(name, "") == "":
            continue
        kind = type(f.default)
        if kind is bool:
            values[f.name] = parse_bool(name, env[name])
            continue
        try:
            values[f.name] = kind(env[name])
        except ValueError as exc:
            raise ValueError(f"{name}={env[name]!r} is not a valid {kind.__name__}") from exc
    return cls(**values)


@dataclass(frozen=True)
class Settings:
    """Limits and knobs. Field name ``max_request_bytes`` is read from ``DESCENT_MAX_REQUEST_BYTES``."""

    redis_url: str = field(default=DEFAULT_REDIS_URL, repr=False, metadata=_env("REDIS_URL"))
    queue_name: str = "descent"
    api_keys: str = field(default="", repr=False)
    """``tenant:key,…``; empty runs the service open, as one tenant."""
    max_open_jobs: int = 100
    """Queued plus running jobs of one tenant; one more is a 429 with Retry-After."""
    tenant_storage_bytes: int = 0
    """Bytes one tenant may keep in Redis (datasets, job records, histories, checkpoints); an upload
    that would pass it is a 403. 0: no quota."""
    rate_limit: float = 0.0
    """Requests per second one tenant may make (all API processes together); more are a 429 with
    Retry-After. 0: no limit."""
    rate_burst: int = 0
    """Requests a tenant may make at once before DESCENT_RATE_LIMIT paces it (the bucket's size);
    0: one second's worth of the rate (at least 1)."""
    tenant_concurrency: int = 0
    """Requests one tenant may have in flight in one API process at once; more are a 429 with
    Retry-After at once (threads are shared: a flooding tenant must not hold them all). 0: half of
    DESCENT_API_THREADS, at least 2, when API keys name tenants; no cap when the service runs open
    (one tenant: no one to be fair to, and 200 dashboards of one team must not be refused)."""
    retention_seconds: int = 7 * 24 * 3600
    """How long ended jobs (with their histories) and unused datasets are kept."""
    idempotency_seconds: int = 24 * 3600
    """How long an Idempotency-Key is remembered."""
    max_request_bytes: int = 64 * 1024 * 1024
    """Largest request body; larger ones get 413."""
    max_dataset_cells: int = 20_000_000
    """rows × (features + 1) of one dataset."""
    max_features: int = 1_000
    max_categories: int = 100
    """Distinct values a string column may have and still be a category (more: a text column)."""
    max_column_name_length: int = 256
    """Characters of one column name of an upload."""
    max_epochs: int = 100_000
    max_runtime_seconds: int = 86_400
    """Upper bound for a job's ``max_runtime_seconds``."""
    max_mlp_parameters: int = 1_000_000
    """Weights and biases of one MLP."""
    max_classes: int = 1_000
    """Classes of a cross_entropy target."""
    max_sweep_children: int = 64
    """Jobs one sweep may create."""
    max_predict_rows: int = 100_000
    """Rows of one predict request."""
    max_grid_points: int = 4_000_000
    """Grid points of one exhaustive search."""
    max_surface_points: int = 1_000_000
    """Largest exhaustive grid whose costs are kept for ``/surface``."""
    max_history_points: int = 100_000
    """Train points one job keeps; longer jobs log the mean of windows of ``log_every`` updates."""
    history_page_size: int = 10_000
    """Default and maximum ``limit`` of ``GET /v1/jobs/{id}/history``."""
    list_page_size: int = 50
    """Default ``limit`` of the list endpoints (maximum 500)."""
    heartbeat_seconds: float = 2.0
    """How often a worker renews the lease of its running job and looks for jobs of dead workers."""
    lease_seconds: float = 10.0
    """A running job whose lease is this old has lost its worker and is requeued."""
    max_attempts: int = 3
    """Starts of one job (its worker died in the others) before it fails as worker_lost."""
    checkpoint_seconds: float = 5.0
    """How often a running job saves a checkpoint to resume from."""
    stop_wait_seconds: float = 20.0
    """How long a worker told to stop (SIGTERM) while Redis is full waits for room to write its job's
    newest points and checkpoint before it hands the job back without them (the next attempt then
    resumes from the last checkpoint Redis took). Below compose's stop_grace_period (30 s)."""
    sse_seconds: float = 60.0
    """How long one /events stream lasts before the client reconnects (frees a server thread)."""
    max_sse_streams: int = 4
    """Live /events streams one API process serves at once; more are a 503 with Retry-After. Each
    stream holds a server thread, so this keeps threads (DESCENT_API_THREADS, 8) free for polls."""
    max_job_waits: int = 4
    """Requests one API process holds open with ``GET /v1/jobs/{id}?wait=`` (until the job ends)
    at once; one more is answered at once. Each holds a server thread (DESCENT_API_THREADS, 8)."""
    uploads_per_process: int = 2
    """Dataset uploads one API process reads and parses at once. A 64 MiB CSV peaks at about
    120 MiB while it is parsed: 2 processes × 2 uploads stay well inside compose's 1 GiB for the API.
    One more waits up to DESCENT_UPLOAD_WAIT_SECONDS for its turn, then gets a 503 with Retry-After."""
    upload_wait_seconds: float = 10.0
    """How long an upload over DESCENT_UPLOADS_PER_PROCESS waits for a turn (0: a 503 at once)."""
    upload_spool_dir: str = ""
    """Where upload bodies over 1 MiB are written while they are parsed (unlinked files, mapped for
    pyarrow: page cache, not process memory); empty: the system temp directory. Put it on a disk:
    on a tmpfs the bodies are memory again."""
    flush_seconds: float = 0.2
    """How often a worker writes buffered history and progress to Redis and checks for a cancel."""
    test_hooks: bool = False
    """For test suites, never a deployment: workers honour holds (``descent.store.holds``), which keep
    a running job at a step until the test releases it, so "still running" is the test's fact, not a
    bet on how fast the machine trains."""

    # -- the worker process -----------------------------------------------------------------------
    torch_threads: int = 0
    """Intra-op threads of a training worker; 0 keeps PyTorch's default."""
    worker_nice: int = 10
    """Niceness a training worker adds to itself, so that on a host shared with the API the API's
    polls get the CPU first (0 keeps the default priority)."""
    dataset_cache_mb: int = 512
    """Memory a training worker keeps datasets in, read and preprocessed, between jobs (0: none):
    a dataset's next job skips the read from Redis and the preprocessing. Entries are keyed by the
    stored dataset's version, so a deleted or replaced dataset is never used from here."""
    fast_paths: bool = True
    """False trains every job with the plain autograd loop (the fast paths' reference)."""
    heartbeat_file: str = "/tmp/descent-worker-heartbeat"
    """Touched by a worker's heartbeat; `python -m worker.health` checks its age."""
    numba_cache_dir: str = field(
        default=os.path.join(tempfile.gettempdir(), "descent-numba-cache"), metadata=_env("NUMBA_CACHE_DIR")
    )
    """Where numba caches compiled kernels (it would write beside the code, read-only in the image)."""
    numba_cache_seed: str = ""
    """Compiled kernels copied into numba_cache_dir at start when it lacks them (the image's: a
    container starts without compiling; descent/numba_seed.py). Empty: none."""

    # -- the API server (`python -m service`, gunicorn) -----------------------------------------
    bind: str = "0.0.0.0:8000"
    api_processes: int = 2
    """gunicorn worker processes."""
    api_threads: int = 8
    """Threads per gunicorn process: requests wait on Redis, not on the CPU."""
    access_log: bool = False
    """One gunicorn access-log line per request (off: counts and latencies are in /metrics)."""
    metrics_dir: str = field(default="", metadata=_env("PROMETHEUS_MULTIPROC_DIR"))
    """prometheus_client's multiprocess directory; `python -m service` makes a fresh one when unset."""

    # -- every process ----------------------------------------------------------------------------
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"
    """descent's own loggers' level; the libraries' stay at INFO or above (descent.logs). DEBUG adds
    a line per job naming where its time went outside the engine (worker/spans.py)."""

    def __post_init__(self) -> None:
        if self.log_format not in ("json", "text"):
            raise ValueError(f"DESCENT_LOG_FORMAT={self.log_format!r} is not json or text")
        if self.log_level.upper() not in LOG_LEVELS:
            raise ValueError(f"DESCENT_LOG_LEVEL={self.log_level!r} is not one of {', '.join(LOG_LEVELS)}")
        object.__setattr__(self, "log_level", self.log_level.upper())  # `debug` is DEBUG
        for name, value in (
            ("DESCENT_TENANT_STORAGE_BYTES", self.tenant_storage_bytes),
            ("DESCENT_RATE_LIMIT", self.rate_limit),
            ("DESCENT_RATE_BURST", self.rate_burst),
            ("DESCENT_TENANT_CONCURRENCY", self.tenant_concurrency),
        ):
            if not 0 <= value < float("inf"):  # NaN too
                raise ValueError(f"{name}={value!r} must be a finite number >= 0 (0 turns it off)")

    @property
    def burst(self) -> int:
        """The rate limiter's bucket: DESCENT_RATE_BURST, or one second's worth of requests."""
        return self.rate_burst if self.rate_burst > 0 else max(1, round(self.rate_limit))

    @property
    def concurrency(self) -> int:
        """Requests one tenant may have in flight per API process: DESCENT_TENANT_CONCURRENCY, or
        half of DESCENT_API_THREADS (at least 2) with API keys; 0 (no cap) when the service runs open."""
        if self.tenant_concurrency > 0:
            return self.tenant_concurrency
        return max(2, self.api_threads // 2) if self.api_keys else 0

    @property
    def worker_live_seconds(self) -> float:
        """A worker whose last heartbeat is older than this is not counted live (three missed beats)."""
        return 3 * self.heartbeat_seconds + 1

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Defaults, overridden by each field's variable (empty counts as unset)."""
        return _from_env(cls, environ)


@dataclass(frozen=True)
class ClientSettings:
    """The `descent` command's variables: where the API is and how to call it."""

    url: str = "http://localhost:8000"
    api_key: str = field(default="", repr=False)
    progress: bool = False
    """Show the progress bar of --watch even when the output is not a terminal."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ClientSettings:
        return _from_env(cls, environ)


def export_for_libraries(settings: Settings, environ: MutableMapping[str, str] | None = None) -> None:
    """Give libraries that read the environment themselves their setting, before they are imported:
    NUMBA_CACHE_DIR (numba reads it on import; seeded from numba_cache_seed when set) and, when
    set, PROMETHEUS_MULTIPROC_DIR (prometheus_client picks its value class on import). Child
    processes inherit both. numpy's BLAS gets one thread (OPENBLAS_NUM_THREADS, read when numpy
    loads; a value already set is kept): descent's BLAS calls are matrix-vector products over row
    blocks (predictions, metrics, each epoch's dev loss), memory-bound, and OpenBLAS's second
    thread, woken for each block, spins between them. Measured in process, a 1M-row minibatch job
    of 5 epochs on 2 cores: two threads 424 ms (system time 160 ms, a fifth of the samples in the
    spinning thread), one thread 289 ms (20 ms); on a busy host a call also waits for the second
    thread to be scheduled, milliseconds for a product of microseconds."""
    from descent.numba_seed import seed

    env = os.environ if environ is None else environ
    env["NUMBA_CACHE_DIR"] = settings.numba_cache_dir
    seed(settings.numba_cache_seed, settings.numba_cache_dir)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    if settings.metrics_dir:
        env["PROMETHEUS_MULTIPROC_DIR"] = settings.metrics_dir
