"""`descent list`, `export` and `delete` against the real app over HTTP with a real worker, and the
command line piped into a reader that stops early (`| head`) ending quietly."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import numpy as np
import onnx
import pytest

from descent.cli import EXIT_OK, EXIT_REFUSED, EXIT_USAGE
from descent.client import TERMINAL, Client
from tests.support.processes import ROOT, WORKER_DEADLINE, cli, wait_for

pytestmark = pytest.mark.usefixtures("worker")


def trained(client: Client, rows: int = 40, **request: object) -> tuple[str, str]:
    """A dataset of `rows` noisy-free y = 2x + 1 rows and a job trained on it: (dataset, job)."""
    x = np.arange(rows, dtype=float).reshape(-1, 1) / rows
    ds = client.upload(x, y=2 * x[:, 0] + 1, name=f"line-{rows}")
    body = {"dataset_id": ds["id"], "optimizer": {"type": "gd", "lr": 0.5}, "epochs": 30, **request}
    job = client.submit(body)
    done = wait_for(lambda: (j := client.job(job["id"]))["status"] in TERMINAL and j, WORKER_DEADLINE, what="the job")
    assert done["status"] == "succeeded", done
    return ds["id"], job["id"]


def same_model(fmt: str, ours: bytes, theirs: bytes) -> bool:
    """The same file, but for the order of a safetensors header's keys (a hash map in the library)."""
    if fmt != "safetensors":
        return ours == theirs
    length = int.from_bytes(ours[:8], "little")
    header = json.loads(ours[8 : 8 + length]) == json.loads(theirs[8 : 8 + length])
    return header and ours[8 + length :] == theirs[8 + length :]


def test_list_shows_every_dataset_and_job_newest_first_across_pages(url):
    client = Client(url)
    older, older_job = trained(client)
    newer, _ = trained(client)
    datasets = cli(url, "list", "datasets", "--limit", "1")  # one a page: the pages are followed
    assert datasets.returncode == EXIT_OK, datasets.stderr
    ids = [line.split()[0] for line in datasets.stdout.splitlines()]
    assert ids.index(newer) < ids.index(older)
    assert "40 × 1 → col1" in datasets.stdout  # an array upload names its columns col0, col1
    jobs = cli(url, "list", "jobs", "--dataset", older)
    (line,) = jobs.stdout.splitlines()
    assert line.split()[:2] == [older_job, "succeeded"] and "linear/gd lr=0.5" in line and "train " in line
    assert cli(url, "list", "jobs", "--dataset", newer, "--status", "failed").stdout == "no job\n"
    misuse = cli(url, "list", "datasets", "--status", "failed")
    assert misuse.returncode == EXIT_USAGE and "filter jobs" in misuse.stderr


def test_export_writes_each_format_the_api_serves(url, tmp_path):
    client = Client(url)
    _, job = trained(client)
    as_json = cli(url, "export", job)
    assert as_json.returncode == EXIT_OK and json.loads(as_json.stdout) == client.export(job)
    for fmt in ("onnx", "safetensors"):
        out = tmp_path / f"model.{fmt}"
        run = cli(url, "export", job, "--format", fmt, "-o", str(out))
        assert run.returncode == EXIT_OK, run.stderr
        assert same_model(fmt, out.read_bytes(), client.export(job, fmt)) and f"{fmt} model of {job}" in run.stderr
    onnx.checker.check_model(onnx.load(str(tmp_path / "model.onnx")))


def test_delete_reports_each_id_and_refuses_what_it_cannot_delete(url):
    client = Client(url)
    dataset, job = trained(client)
    run = cli(url, "delete", "job", job, "job_doesnotexist")
    assert run.returncode == EXIT_REFUSED
    assert run.stdout == f"deleted {job}\n" and "job_doesnotexist: 404" in run.stderr
    run = cli(url, "delete", "dataset", dataset)
    assert run.returncode == EXIT_OK and run.stdout == f"deleted {dataset}\n"
    assert dataset not in cli(url, "list", "datasets").stdout


def test_piping_into_head_ends_quietly(url):
    client = Client(url)
    # an sgd job of 4,000 steps, each kept: its history is ~150 kB, more than a pipe holds, so the
    # command is still writing when `head` has gone
    _, job = trained(client, rows=800, optimizer={"type": "sgd", "lr": 0.01}, epochs=5)
    command = f"set -o pipefail; {shlex.quote(sys.executable)} -m descent.cli history {job} | head -n 2"
    env = {**os.environ, "DESCENT_URL": url, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stderr == "" and run.stdout.splitlines()[0] == "step\tepoch\tloss\tsmoothed\tlr"
    assert len(run.stdout.splitlines()) == 2
