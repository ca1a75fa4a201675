"""Workers that die or are stopped lose no job: real worker processes, real signals, real Redis.

A SIGKILLed worker's job is taken back by another worker's reaper once its lease lapses and resumes
from its last checkpoint; a SIGTERMed worker checkpoints and hands its job back itself. Either way
the history is continuous and the result is the same as an uninterrupted run's (same thread count).
"""

from __future__ import annotations

import signal
import time
from dataclasses import replace

import pytest
import redis as redis_lib
from sklearn.datasets import load_diabetes

from descent.store import keys
from service import create_app
from tests.support.api import full_history, get_job, submit, wait_job, wait_sweep
from tests.support.holds import Hold, wait_held
from tests.support.processes import WORKER_DEADLINE, RedisServer, Worker, wait_beating, wait_for

JOB = {
    # a schedule and weight decay: the resumed attempt continues the checkpoint's rate and schedule
    "optimizer": {
        "type": "momentum",
        "lr": 0.001,
        "batch_size": 4,
        "weight_decay": 1e-4,
        "schedule": {"type": "step", "step_size": 10, "gamma": 0.5},
    },
    "epochs": 150,
    "tolerance": 0,
    "split": {"dev": 0.2},
    "seed": 3,
}
HELD_AT = 1000
"""The step where the job waits (tests.support.holds) while the test kills or stops its worker:
mid-epoch, about a tenth of the way (89 updates an epoch)."""


@pytest.fixture()
def stack(settings):
    server = RedisServer().start()
    own = replace(settings, redis_url=server.url, queue_name=settings.queue_name + "-loss")
    client = create_app({"SETTINGS": own}).test_client()
    data = load_diabetes()
    body = {"x": data.data.tolist(), "y": data.target.astype(float).tolist()}
    dataset = client.post("/v1/datasets", json=body).get_json()["id"]
    workers: list[Worker] = []
    yield own, client, dataset, workers, redis_lib.Redis.from_url(server.url)
    for w in workers:
        w.stop()
    server.stop()


def reference(client, dataset: str) -> tuple[dict, dict]:
    job = submit(client, dataset_id=dataset, **JOB)["id"]
    done = wait_job(client, job)
    assert done["status"] == "succeeded", done
    return done, full_history(client, job)


def assert_same_run(done: dict, ref: dict, hist: dict, ref_hist: dict) -> None:
    assert done["result"]["params"] == ref["result"]["params"]
    for key in ("train_loss", "dev_loss", "r2", "epochs_run", "steps"):
        assert done["result"][key] == ref["result"][key]
    assert hist == ref_hist
    assert len(set(hist["train"]["lr"])) > 2  # the schedule went on across the attempts
    steps = hist["train"]["step"]
    assert steps == list(range(1, len(steps) + 1))


def test_sigkilled_worker_job_resumes_elsewhere_from_its_checkpoint(stack):
    own, client, dataset, workers, redis = stack
    # both workers are up and beating before the job starts, as in a deployment: the 15 s are the
    # reaper's, not a cold start's (on a loaded machine a worker's start-up alone can take that long)
    workers.extend(Worker(own) for _ in range(2))
    wait_beating(redis, 2)
    with Hold(own.redis_url, dataset, HELD_AT) as hold:
        job = submit(client, dataset_id=dataset, **JOB)["id"]
        wait_held(client, job, HELD_AT)
        wait_for(lambda: redis.exists(keys.job_checkpoint(job)), WORKER_DEADLINE, interval=0.05, what="a checkpoint")
        holder = redis.get(keys.job_lease(job)).decode()  # WORKER_NAME: host:pid:nonce
        doomed = next(w for w in workers if holder.split(":")[1] == str(w.proc.pid))
        doomed.proc.send_signal(signal.SIGKILL)
        doomed.proc.wait(10)
        killed_at = time.monotonic()
        assert get_job(client, job)["status"] == "running"
        resumed = wait_for(
            lambda: (j := get_job(client, job))["attempt"] == 2 and j["status"] == "running" and j,
            30,
            interval=0.05,
            what="another worker to take the job",
        )
        assert time.monotonic() - killed_at < 15.0, resumed
        hold.release()
        done = wait_job(client, job)
    ref, ref_hist = reference(client, dataset)
    assert_same_run(done, ref, full_history(client, job), ref_hist)
    assert done["attempt"] == 2


def test_sigtermed_worker_checkpoints_and_hands_its_job_back(stack):
    own, client, dataset, workers, redis = stack
    stopping = Worker(own)
    workers.append(stopping)
    with Hold(own.redis_url, dataset, HELD_AT):
        job = submit(client, dataset_id=dataset, **JOB)["id"]
        wait_held(client, job, HELD_AT)
        stopping.proc.send_signal(signal.SIGTERM)
        assert stopping.proc.wait(30) == 0
    back = get_job(client, job)
    assert back["status"] == "queued" and back["attempt"] == 1
    assert back["progress"]["step"] >= HELD_AT
    assert redis.exists(keys.job_checkpoint(job))
    workers.append(Worker(own))
    done = wait_job(client, job)
    ref, ref_hist = reference(client, dataset)
    assert_same_run(done, ref, full_history(client, job), ref_hist)
    assert done["attempt"] == 2


def test_job_fails_as_worker_lost_after_max_attempts(stack):
    own, client, dataset, workers, _ = stack
    env = {"DESCENT_MAX_ATTEMPTS": "1", "DESCENT_LEASE_SECONDS": "3", "DESCENT_HEARTBEAT_SECONDS": "0.5"}
    doomed = Worker(own, env=env)
    workers.append(doomed)
    with Hold(own.redis_url, dataset, HELD_AT):
        job = submit(client, dataset_id=dataset, **JOB)["id"]
        wait_held(client, job, HELD_AT)
        doomed.proc.send_signal(signal.SIGKILL)
        doomed.proc.wait(10)
        workers.append(Worker(own, env=env))
        done = wait_job(client, job, statuses=("failed",))
    assert done["error"]["type"] == "worker_lost" and "DESCENT_MAX_ATTEMPTS" in done["error"]["message"]
    assert done["attempt"] == 1


def test_a_search_loses_and_repeats_no_trial_when_a_worker_is_killed(stack):
    """A trial's worker SIGKILLed mid-trial: the trial resumes on another worker, the search goes on
    from its study, and it ends with exactly `trials` children, each trial once."""
    own, client, dataset, workers, redis = stack
    workers.extend(Worker(own) for _ in range(2))
    wait_beating(redis, 2)
    body = {
        "dataset_id": dataset,
        "base": {**JOB, "epochs": 30},
        "search": {"method": "tpe", "trials": 5, "parallel": 2, "seed": 2},
        "space": {"optimizer.lr": {"low": 1e-4, "high": 1e-3, "log": True}},
    }
    with Hold(own.redis_url, dataset, HELD_AT) as hold:
        sweep_id = client.post("/v1/sweeps", json=body).get_json()["id"]
        first = client.get(f"/v1/sweeps/{sweep_id}").get_json()["jobs"]
        assert len(first) == 2
        for job in first:
            wait_held(client, job["id"], HELD_AT)
        job = first[0]["id"]
        wait_for(lambda: redis.exists(keys.job_checkpoint(job)), WORKER_DEADLINE, interval=0.05, what="a checkpoint")
        holder = redis.get(keys.job_lease(job)).decode()
        doomed = next(w for w in workers if holder.split(":")[1] == str(w.proc.pid))
        doomed.proc.send_signal(signal.SIGKILL)
        doomed.proc.wait(10)
        workers.append(Worker(own))  # the survivor holds the other trial
        wait_for(lambda: get_job(client, job)["attempt"] == 2, WORKER_DEADLINE, interval=0.05, what="the trial resumed")
        hold.release()
        sweep = wait_sweep(client, sweep_id)
    assert sweep["counts"] == {"succeeded": 5} and sweep["trials"]["started"] == 5
    assert sorted(j["trial"] for j in sweep["jobs"]) == list(range(5))
    assert len({j["id"] for j in sweep["jobs"]}) == 5
    assert len({j["overrides"]["optimizer.lr"] for j in sweep["jobs"]}) == 5
    assert get_job(client, job)["attempt"] == 2
