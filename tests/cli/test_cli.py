"""The `descent` command against the real app served over HTTP, with a real worker training."""

from __future__ import annotations

import pytest

from tests.support.processes import cli as descent
from tests.support.processes import free_port

pytestmark = pytest.mark.usefixtures("worker")

CSV = "x,y\n1,2\n2,4\n3,6\n4,8\n"


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
    assert table.stdout.splitlines()[0] == "step\tepoch\tloss\tsmoothed\tlr"
    rates = {line.split("\t")[4] for line in table.stdout.splitlines()[1:]}
    assert len(rates) == 1 and float(rates.pop()) > 0  # each point's learning rate: the one "auto" chose
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


def test_upload_prints_the_columns_and_predict_matches_columns_by_header_name(url, tmp_path):
    """A file of features in another order than the dataset's predicts the same as one in order."""
    data = tmp_path / "houses.csv"
    data.write_text(
        "size;garden;rooms;price\n"
        + "".join(
            f"{s};{'yes' if s % 2 else 'no'};{r};{10 * s + 3 * r + 5 * (s % 2)}\n"
            for s, r in ((1, 3), (2, 1), (3, 4), (4, 2), (5, 5), (6, 1))
        )
    )
    up = descent(url, "upload", str(data))
    assert up.returncode == 0, up.stderr
    lines = up.stdout.splitlines()
    assert "garden" in lines[2] and "category" in lines[2] and "yes (3)" in lines[2]
    assert "price" in lines[4] and "(target)" in lines[4]
    dataset = lines[0].split()[0]
    train = descent(url, "train", dataset, "--optimizer", "gd", "--lr", "auto", "--epochs", "2000", "--watch")
    assert train.returncode == 0, train.stderr
    assert "  garden=yes" in train.stdout and "  rooms" in train.stdout  # weights by feature name
    job = train.stdout.split()[0]
    in_order = tmp_path / "in_order.csv"
    in_order.write_text("size,garden,rooms\n2.5,yes,3\n7,no,1\n")
    reordered = tmp_path / "reordered.csv"
    reordered.write_text("rooms;garden;size;id\n3;yes;2.5;a\n1;no;7;b\n")
    first, second = descent(url, "predict", job, str(in_order)), descent(url, "predict", job, str(reordered))
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout and len(first.stdout.split()) == 2
