"""Numba's cache seeded from a copy compiled into the image: a container starts without compiling.

Why a copy: numba only uses a cache directory it can write (it checks), and a container's file
system is read-only but for /tmp, a tmpfs that is empty at every start — so every API and worker
container compiled its kernels again while starting (seconds). The image carries them compiled at
build time (Dockerfile: DESCENT_NUMBA_CACHE_SEED); `seed` copies the files NUMBA_CACHE_DIR lacks
before numba is imported (descent.settings.export_for_libraries). Numba keys its index by the
source file and the CPU: a seed compiled for another CPU, or for other sources, is not used, and
the kernels compile at start as they would without one.
"""

from __future__ import annotations

import os
import shutil


def seed(source: str, target: str) -> int:
    """Copy the files under `source` that `target` lacks (each whole or not at all, so a process
    starting beside this one never reads half a file); returns how many. No `source`, or a copy
    that fails, only leaves numba to compile."""
    if not source or not os.path.isdir(source):
        return 0
    copied = 0
    try:
        for root, _, names in os.walk(source):
            into = os.path.join(target, os.path.relpath(root, source))
            os.makedirs(into, exist_ok=True)
            for name in names:
                final = os.path.join(into, name)
                if os.path.exists(final):
                    continue
                partial = f"{final}.{os.getpid()}.partial"
                shutil.copyfile(os.path.join(root, name), partial)
                os.replace(partial, final)
                copied += 1
    except OSError:
        pass
    return copied
