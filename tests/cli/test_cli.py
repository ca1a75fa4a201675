"""The `descent` command against the real app served over HTTP, with a real worker training."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from werkzeug.serving import make_server

from tests.support.processes import ROOT, free_port

pytestmark = pytest.mark.usefixtures("worker")

CSV = "x,y\n1,2\n2,4\n3,6\n4,8\n"


@pytest.fixture(scope="module")
def url(app):
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def descent(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DESCENT_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "descent.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_upload_train_watch_history_predict(url, tmp_path):
    data = tmp_path / "course.csv"
    data.write_text(CSV)
    up = descent(url, "upload", str(data), "--target", "y")
    assert up.returncode == 0, up.stderr
    dataset = up.stdout.split()[0]
    assert dataset.startswith("ds_") and "4 rows × 1 features (x) → y" in up.stdout
    train = descent(
        url,
        "train",
        dataset,
        "--optimizer",
        "gd",
        "--lr",
        "auto",
        "--no-bias",
        "--epochs",
        "50",
        "--set",
        "standardize=false",
        "--watch",
    )
    assert train.returncode == 0, train.stderr
    job = train.stdout.split()[0]
    assert "status      succeeded" in train.stdout and "weights     [2.0" in train.stdout
    history = descent(url, "history", job, "--plot")
    assert history.returncode == 0 and "* smoothed" in history.stdout and "|" in history.stdout
    table = descent(url, "history", job)
    assert table.stdout.splitlines()[0] == "step\tepoch\tloss\tsmoothed"
    features = tmp_path / "x.csv"
    features.write_text("x\n5\n6\n")
    predicted = descent(url, "predict", job, str(features))
    assert predicted.returncode == 0
    assert [round(float(v), 3) for v in predicted.stdout.split()] == [10.0, 12.0]
    status = descent(url, "status", job)
    assert status.returncode == 0 and "succeeded" in status.stdout


def test_exit_codes_and_one_line_errors(url, tmp_path):
    data = tmp_path / "course.csv"
    data.write_text(CSV)
    dataset = descent(url, "upload", str(data)).stdout.split()[0]
    bad = descent(url, "train", dataset, "--optimizer", "gd", "--lr", "-1")
    assert bad.returncode == 3
    assert bad.stderr.count("\n") == 1 and "optimizer.lr" in bad.stderr
    diverged = descent(
        url,
        "train",
        dataset,
        "--optimizer",
        "gd",
        "--lr",
        "5",
        "--no-bias",
        "--set",
        "standardize=false",
        "--watch",
    )
    assert diverged.returncode == 1 and "diverged" in diverged.stdout
    assert descent(url, "status", "job_nope").returncode == 3
    gone = descent(f"http://127.0.0.1:{free_port()}", "status", "job_x")
    assert gone.returncode == 4 and "cannot reach" in gone.stderr


def test_sweep_lists_ranked_jobs(url, tmp_path):
    data = tmp_path / "course.csv"
    data.write_text(CSV)
    dataset = descent(url, "upload", str(data)).stdout.split()[0]
    sweep = descent(
        url,
        "sweep",
        dataset,
        "--grid",
        "optimizer.lr=0.001,0.01,0.05",
        "--base",
        '{"optimizer": {"type": "gd"}, "model": {"bias": false}, "standardize": false}',
        "--watch",
    )
    assert sweep.returncode == 0, sweep.stderr
    lines = [line for line in sweep.stdout.splitlines() if line.startswith("job_")]
    assert len(lines) == 3 and all("succeeded" in line for line in lines)
    assert '"optimizer.lr": 0.05' in lines[0] and sweep.stdout.strip().endswith(lines[0].split()[0])
