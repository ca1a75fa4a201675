"""`python -m worker`: an RQ worker on REDIS_URL with PyTorch loaded before the first job.

The settings are read first, and NUMBA_CACHE_DIR handed to numba before anything imports it (the
engine's compiled kernels load from, or compile into, that cache); then `worker.start` runs.
"""

from descent.settings import Settings, export_for_libraries

SETTINGS = Settings.from_env()
export_for_libraries(SETTINGS)

from worker.start import main, warm_up  # noqa: E402  (after the environment is set)

__all__ = ["SETTINGS", "main", "warm_up"]  # warm_up: bench/run.py imports it from here

if __name__ == "__main__":
    raise SystemExit(main(SETTINGS))
