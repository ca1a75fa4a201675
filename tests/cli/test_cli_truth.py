"""The CLI reports what the server answered: a 413 sent before the body was read is a 413 (the
refused exit code, the server's detail), not "cannot reach … Broken pipe"."""

from __future__ import annotations

import pytest

from descent.cli import EXIT_REFUSED
from tests.support.processes import cli
from tests.support.stack import Stack


@pytest.fixture(scope="module")
def small_url():
    with Stack(0, {"DESCENT_MAX_REQUEST_BYTES": "100000"}, ("--appendonly", "no")) as stack:
        yield stack.base


def test_a_body_over_the_limit_is_a_413_not_a_broken_pipe(small_url, tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("x,y\n" + "1.5,2.5\n" * 500_000)  # 4 MB: the server answers before reading it
    run = cli(small_url, "upload", str(big))
    assert run.returncode == EXIT_REFUSED, run.stderr
    assert "413" in run.stderr and "DESCENT_MAX_REQUEST_BYTES = 100000" in run.stderr
    assert "Broken pipe" not in run.stderr and "cannot reach" not in run.stderr
