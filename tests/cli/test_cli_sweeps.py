"""`descent sweep`, `descent sweeps` and the metrics `descent status` prints, against the real app
served over HTTP with a real worker training; how the command line reads values and spaces."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pytest

from descent.cli_sweep import UsageError, grid_of, parse_values, space_of, sweep_request
from tests.support.data import noisy_classes, noisy_cubic
from tests.support.processes import ROOT

pytestmark = pytest.mark.usefixtures("worker")


def descent(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DESCENT_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "descent.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def api(url: str, path: str) -> dict:
    from descent.client import Client

    return Client(url).json("GET", path)


@pytest.fixture(scope="module")
def cubic(url, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("data") / "cubic.csv"
    path.write_text(noisy_cubic(150, seed=5))
    up = descent(url, "upload", str(path), "--name", "cubic")
    assert up.returncode == 0, up.stderr
    return up.stdout.split()[0]


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("[16,16],[32]", [[16, 16], [32]]),  # the bug: it was split at every comma into "[16", "16]", [32]
        ("[16, 16], [32]", [[16, 16], [32]]),
        ("[16,16]", [[16, 16]]),
        ("0.001,0.01,1", [0.001, 0.01, 1]),
        ("gd,sgd", ["gd", "sgd"]),
        ("gd, [1,2], true, null", ["gd", [1, 2], True, None]),
        ('"a,b",c', ["a,b", "c"]),
        ('{"type": "step", "gamma": 0.5},null', [{"type": "step", "gamma": 0.5}, None]),
    ],
)
def test_values_are_json_values_separated_by_top_level_commas(text, values):
    assert parse_values(text) == values


def test_grids_and_spaces_from_their_options():
    assert grid_of(["model.hidden=[16,16],[32]", "optimizer.type=gd,sgd"]) == {
        "model.hidden": [[16, 16], [32]],
        "optimizer.type": ["gd", "sgd"],
    }
    assert space_of(
        ["optimizer.lr=1e-4:1:log", "optimizer.batch_size=8:256:8", "data.train_fraction=.2:1", "model.hidden=[16],[32,32]"]
    ) == {
        "optimizer.lr": {"low": 1e-4, "high": 1, "log": True},
        "optimizer.batch_size": {"low": 8, "high": 256, "step": 8},
        "data.train_fraction": {"low": 0.2, "high": 1},
        "model.hidden": {"choices": [[16], [32, 32]]},
    }
    for bad, words in (("optimizer.lr=a:1", "are numbers"), ("optimizer.lr=0:1:often", "`log` or a step"), ("=1:2", "PATH=VALUES")):
        with pytest.raises(UsageError, match=words):
            space_of([bad])


def options(**given) -> argparse.Namespace:
    defaults = dict(dataset="ds", grid=None, folds=None, search=None, space=None, trials=None, parallel=None, seed=None, pruner=None)
    return argparse.Namespace(**{**defaults, **given})


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({}, "give --grid, --folds"),
        ({"search": "tpe", "grid": ["a=1"]}, "exclude each other"),
        ({"search": "tpe"}, "needs at least one --space"),
        ({"grid": ["a=1"], "trials": 4}, "go with --search"),
        ({"grid": ["optimizer.lr"]}, "--grid wants PATH=VALUES"),
    ],
)
def test_a_command_line_that_makes_no_sweep_is_a_usage_error(given, words):
    with pytest.raises(UsageError, match=words):
        sweep_request(options(**given), {})


def test_usage_errors_exit_2_with_one_line(url):
    bad = descent(url, "sweep", "ds_x", "--search", "tpe", "--grid", "optimizer.lr=0.1")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "exclude each other" in bad.stderr
    helped = descent(url, "sweep", "--help")
    assert helped.returncode == 0
    for words in ("--folds K", "--space PATH=SPEC", "model.hidden=[16,16],[32]", "PATH=LOW:HIGH:log", "--search tpe"):
        assert words in helped.stdout


def test_a_grid_of_hidden_layer_lists_makes_one_child_per_list(url, cubic):
    run = descent(
        url, "sweep", cubic, "--grid", "model.hidden=[16,16],[32]", "--set", "model.type=mlp", "--set", "optimizer.type=adam",
        "--set", "epochs=3", "--set", "split.dev=0.2", "--watch",
    )
    assert run.returncode == 0, run.stderr
    sweep_id = run.stdout.split()[0]
    sweep = api(url, f"/v1/sweeps/{sweep_id}")
    assert sweep["grid"] == {"model.hidden": [[16, 16], [32]]}
    assert sweep["base"] == {"model": {"type": "mlp"}, "optimizer": {"type": "adam"}, "epochs": 3, "split": {"dev": 0.2}}
    assert sorted(json.dumps(j["overrides"]) for j in sweep["jobs"]) == ['{"model.hidden": [16, 16]}', '{"model.hidden": [32]}']
    for job in sweep["jobs"]:
        assert api(url, f"/v1/jobs/{job['id']}")["config"]["model"]["hidden"] == job["overrides"]["model.hidden"]
    lines = [line for line in run.stdout.splitlines() if line.startswith("job_")]
    assert [line.split()[0] for line in lines] == [j["id"] for j in sweep["jobs"]]  # ranked as the API ranks them
    assert run.stdout.rstrip().endswith(f"best: {sweep['best_job_id']}")


def test_cross_validation_prints_each_candidates_mean_and_std(url, cubic):
    base = {"model": {"type": "mlp", "hidden": [8], "activation": "tanh"}, "optimizer": {"type": "adam"}, "epochs": 5}
    run = descent(url, "sweep", cubic, "--grid", "optimizer.lr=0.01,0.1", "--folds", "3", "--base", json.dumps(base), "--watch")
    assert run.returncode == 0, run.stderr
    sweep = api(url, f"/v1/sweeps/{run.stdout.split()[0]}")
    assert sweep["validation"] == {"folds": 3} and len(sweep["jobs"]) == 6
    out = run.stdout.splitlines()
    assert "grid · 3-fold cross-validation" in out[1]
    at = out.index("candidates (mean ± std of the dev loss over 3 folds, best first):")
    for rank, candidate in enumerate(sweep["candidates"], 1):
        line = out[at + rank].split()
        assert line[:5] == [str(rank), f"{candidate['mean_dev_loss']:.6g}", "±", f"{candidate['std_dev_loss']:.6g}", "3/3"]
        assert json.dumps(candidate["overrides"]) in out[at + rank]
    assert out[-1] == f"best_overrides: {json.dumps(sweep['best_overrides'])}"
    folds = sorted(line.split()[4:6] for line in out if line.startswith("job_"))
    assert folds == [["fold", str(k)] for k in (0, 0, 1, 1, 2, 2)]


def test_a_search_prints_its_trials_and_what_pruning_saved(url, cubic):
    run = descent(
        url, "sweep", cubic, "--search", "random", "--trials", "4", "--parallel", "2", "--seed", "1", "--pruner", "median",
        "--space", "optimizer.lr=1e-3:0.3:log", "--space", "optimizer.batch_size=8:32:8",
        "--base", '{"optimizer": {"type": "minibatch"}, "epochs": 6, "split": {"dev": 0.25}}', "--watch",
    )
    assert run.returncode == 0, run.stderr
    sweep = api(url, f"/v1/sweeps/{run.stdout.split()[0]}")
    assert sweep["search"] == {"method": "random", "trials": 4, "parallel": 2, "seed": 1, "pruner": "median"}
    assert sweep["space"] == {
        "optimizer.lr": {"low": 0.001, "high": 0.3, "log": True},
        "optimizer.batch_size": {"low": 8, "high": 32, "step": 8},
    }
    trials = sweep["trials"]
    assert "random search · 4/4 trials" in run.stdout
    assert (
        f"trials: 4 started of 4, {trials['pruned']} pruned (pruning saved {sweep['epochs_saved']} epochs)" in run.stdout
    )
    jobs = [line for line in run.stdout.splitlines() if line.startswith("job_")]
    assert sorted(int(line.split("trial ")[1].split()[0]) for line in jobs) == [0, 1, 2, 3]
    assert sum(" pruned " in line for line in jobs) == trials["pruned"]
    assert f"best_overrides: {json.dumps(sweep['best_overrides'])}" in run.stdout


def test_sweeps_lists_newest_first_by_pages_and_shows_one(url, cubic):
    newest = api(url, "/v1/sweeps?limit=2")
    first = descent(url, "sweeps", "--limit", "1")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].split()[0] == newest["sweeps"][0]["id"]
    assert lines[-1].startswith("older: descent sweeps --cursor ")
    second = descent(url, "sweeps", "--limit", "1", "--cursor", lines[-1].split()[-1])
    assert second.stdout.split()[0] == newest["sweeps"][1]["id"]
    shown = descent(url, "sweeps", newest["sweeps"][0]["id"])
    assert shown.returncode == 0 and shown.stdout.startswith(f"{newest['sweeps'][0]['id']}  done")


def test_status_prints_dev_and_test_metrics_and_confusion_matrices(url, tmp_path):
    data = tmp_path / "classes.csv"
    data.write_text(noisy_classes(200))
    dataset = descent(url, "upload", str(data), "--target", "label").stdout.split()[0]
    train = descent(
        url, "train", dataset, "--optimizer", "minibatch", "--lr", "0.1", "--loss", "bce", "--epochs", "10",
        "--dev", "0.25", "--test", "0.25", "--watch",
    )
    assert train.returncode == 0, train.stderr
    job_id = train.stdout.split()[0]
    result = api(url, f"/v1/jobs/{job_id}")["result"]
    status = descent(url, "status", job_id)
    assert status.returncode == 0
    out = status.stdout.splitlines()
    head = out.index("") + 1
    assert out[head].split() == ["metrics", "train", "dev", "test"]
    for name in ("accuracy", "log_loss", "roc_auc", "precision", "recall", "f1"):
        row = next(line.split() for line in out[head:] if line.split()[:1] == [name])
        assert row[1:] == [f"{result['metrics'][split][name]:.6g}" for split in ("train", "dev", "test")]
    for split in ("dev", "test"):
        at = out.index(f"confusion matrix ({split}; rows: true class, columns: predicted)")
        assert out[at + 1].split() == result["classes"] == ["no", "yes"]
        for k, counts in enumerate(result["metrics"][split]["confusion_matrix"]):
            assert out[at + 2 + k].split() == [result["classes"][k], *map(str, counts)]
    assert "confusion matrix (train;" not in status.stdout  # the held-out splits only
    assert train.stdout.count("metrics") == 1  # --watch ends with the same table
