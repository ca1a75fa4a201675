"""Settings.from_env and ClientSettings.from_env: names, types, and switches parsed as switches."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from descent.settings import ClientSettings, Settings, export_for_libraries
from tests.support.processes import ROOT


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
        ("1", True),
        ("TRUE", True),
        ("on", True),
    ],
)
def test_switches_are_parsed_not_cast(text, value):
    settings = Settings.from_env({"DESCENT_FAST_PATHS": text, "DESCENT_ACCESS_LOG": text})
    assert settings.fast_paths is value and settings.access_log is value


def test_a_switch_that_is_not_one_names_the_variable():
    with pytest.raises(ValueError, match="DESCENT_FAST_PATHS='maybe'"):
        Settings.from_env({"DESCENT_FAST_PATHS": "maybe"})


def test_defaults_types_and_names():
    assert Settings.from_env({}) == Settings()
    settings = Settings.from_env(
        {
            "REDIS_URL": "redis://example:1/2",
            "NUMBA_CACHE_DIR": "/cache",
            "PROMETHEUS_MULTIPROC_DIR": "/metrics",
            "DESCENT_TORCH_THREADS": "3",
            "DESCENT_LEASE_SECONDS": "2.5",
            "DESCENT_WORKER_NICE": "",  # empty is unset
        }
    )
    assert settings.redis_url == "redis://example:1/2" and settings.numba_cache_dir == "/cache"
    assert settings.metrics_dir == "/metrics" and settings.torch_threads == 3
    assert settings.lease_seconds == 2.5 and settings.worker_nice == Settings().worker_nice
    with pytest.raises(ValueError, match="DESCENT_API_PROCESSES='two'"):
        Settings.from_env({"DESCENT_API_PROCESSES": "two"})
    with pytest.raises(ValueError, match="DESCENT_LOG_FORMAT"):
        Settings.from_env({"DESCENT_LOG_FORMAT": "xml"})


def test_client_settings():
    client = ClientSettings.from_env(
        {"DESCENT_URL": "http://api:1", "DESCENT_API_KEY": "k", "DESCENT_PROGRESS": "1"}
    )
    assert client == ClientSettings(url="http://api:1", api_key="k", progress=True)
    assert ClientSettings.from_env({"DESCENT_PROGRESS": "0"}).progress is False


def test_libraries_get_their_variables():
    env: dict[str, str] = {}
    export_for_libraries(Settings(numba_cache_dir="/n"), env)
    assert env == {"NUMBA_CACHE_DIR": "/n", "OPENBLAS_NUM_THREADS": "1"}
    export_for_libraries(Settings(numba_cache_dir="/n", metrics_dir="/m"), env)
    assert env == {"NUMBA_CACHE_DIR": "/n", "OPENBLAS_NUM_THREADS": "1", "PROMETHEUS_MULTIPROC_DIR": "/m"}


def test_numpys_blas_gets_one_thread_unless_set():
    environ: dict[str, str] = {}
    export_for_libraries(Settings(torch_threads=4), environ)
    assert environ["OPENBLAS_NUM_THREADS"] == "1"
    default: dict[str, str] = {}
    export_for_libraries(Settings(torch_threads=0), default)
    assert default["OPENBLAS_NUM_THREADS"] == "1"
    kept = {"OPENBLAS_NUM_THREADS": "2"}
    export_for_libraries(Settings(torch_threads=1), kept)
    assert kept["OPENBLAS_NUM_THREADS"] == "2"  # a value set on purpose wins


def test_a_worker_process_runs_numpys_blas_on_one_thread():
    """The variable is read when numpy loads: the worker's entry point (worker/__main__.py) must
    export it before anything imports numpy. Its import chain is checked here, in a new process."""
    code = (
        "import worker.__main__, threadpoolctl\n"
        "print([p['num_threads'] for p in threadpoolctl.threadpool_info() if p['user_api'] == 'blas'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    assert done.stdout.strip().splitlines()[-1] == "[1]"


def test_the_in_flight_cap_is_off_when_open_and_half_the_threads_with_tenants():
    assert Settings.from_env({"DESCENT_API_THREADS": "8"}).concurrency == 0  # one tenant: nothing to share
    keyed = {"DESCENT_API_THREADS": "8", "DESCENT_API_KEYS": "a:k1,b:k2"}
    assert Settings.from_env(keyed).concurrency == 4
    assert Settings.from_env({**keyed, "DESCENT_TENANT_CONCURRENCY": "3"}).concurrency == 3


def test_the_log_level_is_a_logging_level_in_any_case():
    from service.server import gunicorn_options

    settings = Settings.from_env({"DESCENT_LOG_LEVEL": "warning"})
    assert settings.log_level == "WARNING" and Settings().log_level == "INFO"
    logging = gunicorn_options(settings)["logconfig_dict"]
    assert logging["root"]["level"] == logging["loggers"]["gunicorn.error"]["level"] == "WARNING"
    assert logging["loggers"]["descent"]["level"] == "WARNING"
    # DEBUG is descent's own: the libraries stay at INFO (numba's DEBUG is tens of thousands of lines)
    logging = gunicorn_options(Settings.from_env({"DESCENT_LOG_LEVEL": "DEBUG"}))["logconfig_dict"]
    assert logging["root"]["level"] == logging["loggers"]["gunicorn.error"]["level"] == "INFO"
    assert logging["loggers"]["descent"]["level"] == "DEBUG"
    with pytest.raises(ValueError, match="DESCENT_LOG_LEVEL='loud' is not one of DEBUG, INFO, WARNING, ERROR"):
        Settings.from_env({"DESCENT_LOG_LEVEL": "loud"})
