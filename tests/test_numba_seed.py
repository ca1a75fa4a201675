"""Numba's cache seeded from the image's copy (descent/numba_seed.py): what is missing is copied,
what is there is kept, and a process started on the seeded directory compiles nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from descent.numba_seed import seed
from descent.settings import Settings, export_for_libraries
from tests.support.processes import ROOT


def test_missing_files_are_copied_and_present_ones_kept(tmp_path: Path) -> None:
    source, target = tmp_path / "seed", tmp_path / "cache"
    (source / "engine").mkdir(parents=True)
    (source / "engine" / "kernels.nbi").write_bytes(b"index")
    (source / "engine" / "kernels.nbc").write_bytes(b"code")
    (target / "engine").mkdir(parents=True)
    (target / "engine" / "kernels.nbi").write_bytes(b"newer index")

    assert seed(str(source), str(target)) == 1
    assert (target / "engine" / "kernels.nbc").read_bytes() == b"code"
    assert (target / "engine" / "kernels.nbi").read_bytes() == b"newer index"
    assert sorted(os.listdir(target / "engine")) == ["kernels.nbc", "kernels.nbi"]  # no partial file left
    assert seed(str(source), str(target)) == 0


def test_no_seed_is_a_no_op(tmp_path: Path) -> None:
    assert seed("", str(tmp_path / "cache")) == 0
    assert seed(str(tmp_path / "absent"), str(tmp_path / "cache")) == 0
    assert not (tmp_path / "cache").exists()


def test_export_for_libraries_seeds_the_cache(tmp_path: Path) -> None:
    (tmp_path / "seed").mkdir()
    (tmp_path / "seed" / "f.nbi").write_bytes(b"x")
    settings = Settings(numba_cache_dir=str(tmp_path / "cache"), numba_cache_seed=str(tmp_path / "seed"))
    environ: dict[str, str] = {}
    export_for_libraries(settings, environ)
    assert environ["NUMBA_CACHE_DIR"] == str(tmp_path / "cache")
    assert (tmp_path / "cache" / "f.nbi").read_bytes() == b"x"


def test_a_seeded_cache_serves_the_kernels_without_compiling(tmp_path: Path) -> None:
    """The kernels compiled into a seed (as the Dockerfile does) are loaded, not compiled, by a
    process whose own cache directory starts empty."""
    seeded, cache = tmp_path / "seed", tmp_path / "cache"
    warm = "import worker.engine.kernels as k; k.warm_up()"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", warm], env={**env, "NUMBA_CACHE_DIR": str(seeded)}, check=True, cwd=ROOT)
    check = (
        "from descent.settings import Settings, export_for_libraries\n"
        f"export_for_libraries(Settings(numba_cache_dir={str(cache)!r}, numba_cache_seed={str(seeded)!r}))\n"
        "import worker.engine.kernels as k\n"
        "k.warm_up()\n"
        "stats = [f.stats for f in (k.fill, k.descend, k.fold)]\n"
        "print(sum(s.cache_hits.total() for s in stats), sum(s.cache_misses.total() for s in stats))\n"
    )
    done = subprocess.run([sys.executable, "-c", check], env=env, check=True, cwd=ROOT, capture_output=True, text=True)
    hits, misses = (int(v) for v in done.stdout.split())
    assert hits > 0 and misses == 0
