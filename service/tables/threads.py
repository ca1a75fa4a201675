"""The threads an upload's work is spread over: one per core (at most 4), shared by every upload of
the process.

Why threads: pyarrow's readers, its compute functions and the column-statistics kernels release
the GIL, so an upload's pieces and columns are read, converted and described on every core at once.
Why one pool: the cores are shared; more threads would only take turns. A task never waits on
another task of the pool (that could wait forever with every thread busy).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

CORES = max(1, min(4, os.cpu_count() or 1))
POOL = ThreadPoolExecutor(max_workers=CORES, thread_name_prefix="table")
