"""Searching sweeps (`search` and `space`): trials chosen by Optuna from the results so far, at
most `parallel` at once, pruned by the dev loss per epoch; the study kept in Redis."""

from __future__ import annotations

import optuna
import pytest

from descent.search import Searcher
from descent.settings import Settings
from descent.store import Store, connect
from tests.support.api import get_job, problem, upload, wait_sweep
from tests.support.data import diabetes
from tests.support.holds import Hold
from tests.support.processes import WORKER_DEADLINE, wait_for

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture(scope="module")
def diabetes_id(app) -> str:
    return upload(app.test_client(), diabetes()[0], "name=diabetes")


def study_of(settings: Settings, sweep_id: str) -> optuna.Study:
    store = Store(connect(settings.redis_url))
    searcher = Searcher(store, settings)
    sweep = store.sweeps.record(sweep_id)
    from descent.search import search_of

    return searcher.study(sweep, search_of(sweep, settings))


@pytest.mark.parametrize("method", ["random", "tpe"])
def test_a_search_runs_its_trials_from_the_study_and_ranks_them(client, settings, diabetes_id, method):
    body = {
        "dataset_id": diabetes_id,
        "base": {"optimizer": {"type": "minibatch", "batch_size": 32}, "epochs": 10, "tolerance": 0, "split": {"dev": 0.2}},
        "search": {"method": method, "trials": 6, "parallel": 2, "seed": 4, "pruner": "median"},
        "space": {"optimizer.lr": {"low": 1e-4, "high": 0.5, "log": True}, "optimizer.batch_size": {"low": 8, "high": 64, "step": 8}},
    }
    r = client.post("/v1/sweeps", json=body)
    assert r.status_code == 202, r.get_json()
    sweep = wait_sweep(client, r.get_json()["id"])
    assert sweep["trials"]["started"] == 6 and sweep["trials"]["total"] == 6
    assert sorted(j["trial"] for j in sweep["jobs"]) == list(range(6))
    drawn = {(j["overrides"]["optimizer.lr"], j["overrides"]["optimizer.batch_size"]) for j in sweep["jobs"]}
    assert len(drawn) == 6  # nothing chosen twice
    assert all(1e-4 <= lr <= 0.5 and bs in range(8, 65, 8) for lr, bs in drawn)
    study = study_of(settings, sweep["id"])
    states = {t.number: t.state for t in study.trials}
    assert len(states) == 6 and optuna.trial.TrialState.RUNNING not in states.values()
    expected = {"pruned": optuna.trial.TrialState.PRUNED, "failed": optuna.trial.TrialState.FAIL}
    for job in sweep["jobs"]:  # a diverged child (lr up to 0.5) is a failed trial
        kind = "pruned" if job.get("outcome") == "pruned" else job["status"]
        assert states[job["trial"]] == expected.get(kind, optuna.trial.TrialState.COMPLETE), job
        if kind == "succeeded":
            assert study.trials[job["trial"]].value == pytest.approx(job["dev_loss"])
    complete = [j for j in sweep["jobs"] if j["status"] == "succeeded" and j.get("outcome") != "pruned"]
    assert sweep["best_overrides"] == min(complete, key=lambda j: j["dev_loss"])["overrides"]
    assert sweep["trials"]["pruned"] == sum(j.get("outcome") == "pruned" for j in sweep["jobs"])


def test_cancelling_a_search_stops_its_running_trials_and_starts_no_more(client, settings, diabetes_id):
    body = {
        "dataset_id": diabetes_id,
        "base": {"optimizer": {"type": "sgd"}, "epochs": 50, "tolerance": 0, "split": {"dev": 0.2}},
        "search": {"method": "random", "trials": 6, "parallel": 2},
        "space": {"optimizer.lr": {"low": 1e-4, "high": 1e-3}},
    }
    with Hold(settings.redis_url, diabetes_id, step=100):
        sweep_id = client.post("/v1/sweeps", json=body).get_json()["id"]
        jobs = client.get(f"/v1/sweeps/{sweep_id}").get_json()["jobs"]
        assert len(jobs) == 2  # one runs (held), one waits for the session's one worker
        wait_for(
            lambda: any(get_job(client, j["id"])["progress"]["step"] >= 100 for j in jobs),
            WORKER_DEADLINE,
            interval=0.02,
            what="a trial held at step 100",
        )
        assert client.post(f"/v1/sweeps/{sweep_id}/cancel").status_code == 202
    sweep = wait_sweep(client, sweep_id)
    assert sweep["counts"] == {"cancelled": 2} and sweep["trials"]["started"] == 2
    states = {t.number: t.state for t in study_of(settings, sweep_id).trials}
    assert states == {0: optuna.trial.TrialState.FAIL, 1: optuna.trial.TrialState.FAIL}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"space": {}}, "space", "is required with search"),
        ({"space": {"optimizer.lr": {"low": 0.5, "high": 0.1}}}, "space.optimizer.lr", "low (0.5) must be <= high (0.1)"),
        ({"space": {"optimizer.lr": {"low": 0, "high": 0.1, "log": True}}}, "space.optimizer.lr.low", "a log range needs low > 0"),
        ({"space": {"optimizer.lr": {"low": -1, "high": 1, "log": True}}}, "space.optimizer.lr.low", "a log range needs low > 0"),
        ({"space": {"optimizer.lrr": {"low": 0.1, "high": 0.2}}}, "space.optimizer.lrr", "not a known field"),
        ({"space": {"model.hidden": {"choices": []}}}, "space.model.hidden.choices", "non-empty list"),
        ({"grid": {"optimizer.lr": [0.1]}, "search": {"pruner": "median"}}, "search.pruner", "a grid tries every point"),
        ({"search": {"method": "grid"}}, "search.method", "must be one of random, tpe"),
        ({"search": {"trials": 0}}, "search.trials", "integer from 1"),
        ({"search": {"pruner": "asha"}}, "search.pruner", "must be one of none, median, hyperband"),
        ({"validation": {"folds": 5}}, "validation", "cross-validate its best_overrides"),
        ({"space": {"optimizer.lr": {"low": 0.1, "high": 5.0}, "epochs": {"low": 0, "high": 5}}}, "space.epochs", "greater than or equal to 1"),
    ],
)
def test_a_bad_search_request_is_a_precise_400(client, diabetes_id, change, field, words):
    body = {
        "dataset_id": diabetes_id,
        "base": {"optimizer": {"type": "gd"}},
        "search": {"method": "tpe", "trials": 4},
        "space": {"optimizer.lr": {"low": 0.001, "high": 0.1, "log": True}},
    }
    body.update(change)
    errors = problem(client.post("/v1/sweeps", json=body), 400)["errors"]
    assert any(e["field"] == field and words in e["message"] for e in errors), errors
