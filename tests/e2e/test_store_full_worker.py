"""A full Redis (maxmemory reached, noeviction) around a worker's own bookkeeping: RQ's writes at a
job's end, a job popped as Redis fills, and a worker told to stop while Redis is full.

Each test holds a job at the point in question (tests.support.holds: a phase hold, or a step), fills
Redis under it (tests.support.fill: held 1 MiB over a lowered limit, so every write is refused),
lets it go on, and looks at what the worker does before and after room is made.
"""

from __future__ import annotations

import signal
from dataclasses import replace

import pytest
import redis as redis_lib

from descent.store import Store, keys
from service import create_app
from tests.support.api import full_history, get_job, submit, upload, wait_job
from tests.support.fill import Filler, first_logged, full_server_args, queued_entries, rq_workers, wait_logged
from tests.support.holds import Hold, PhaseHold, wait_held
from tests.support.processes import WORKER_DEADLINE, RedisServer, Worker, wait_beating, wait_for

LOOP_ENDED = "work loop ended early"
"""worker.start's line when RQ's work loop ended and is started again (the worker re-registers)."""
WAITS = "waits for room"
"""worker.room's line when a full Redis starts an episode."""
SMALL = {"optimizer": {"type": "gd"}, "epochs": 5}
HELD_AT = 1_000
TRAINING = {
    "model": {"type": "mlp", "hidden": [16]},
    "optimizer": {"type": "adam", "lr": 0.001, "batch_size": 8},
    "epochs": 12,
    "tolerance": 0,
}
"""3,000 updates on the 2,000-row dataset below; held at HELD_AT while the test acts."""


@pytest.fixture()
def full_stack(settings):
    """A 16 MB Redis of its own, the app on it, a dataset, a worker (short lease and beats), a
    filler; everything stopped and freed after."""
    server = RedisServer(*full_server_args("16mb")).start()
    own = replace(settings, redis_url=server.url)
    client = create_app({"SETTINGS": own}).test_client()
    rows = "\n".join(f"{i % 17},{(i * 7) % 23},{i % 5}" for i in range(2000))
    dataset = upload(client, "a,b,y\n" + rows + "\n")
    env = {"DESCENT_CHECKPOINT_SECONDS": "0.5", "DESCENT_LEASE_SECONDS": "3", "DESCENT_HEARTBEAT_SECONDS": "0.5"}
    workers: list[Worker] = []
    filler = Filler(server.url)
    redis = redis_lib.Redis.from_url(server.url)

    def start_worker(**extra: str) -> Worker:
        w = Worker(own, env={**env, **extra})
        workers.append(w)
        return w

    yield own, client, dataset, start_worker, filler, redis
    if filler.written:
        filler.free()
    for w in workers:
        w.stop()
    server.stop()


def test_a_job_end_written_as_redis_fills_costs_the_worker_nothing(full_stack):
    """The job's end is written, then (held at its "end" phase) Redis is filled: RQ's records of
    the job are refused. Before, RQ's work loop ended on the OutOfMemoryError (the worker registered
    again once Redis had room, and a worker was seen exiting); now the worker waits for room where
    it is, says so once, and carries on with the next job under the same RQ registration."""
    own, client, dataset, start_worker, filler, redis = full_stack
    worker = start_worker()
    wait_beating(redis, 1)  # descent's beat may come before RQ's own registration
    wait_for(lambda: len(rq_workers(own.redis_url)) == 1, WORKER_DEADLINE, interval=0.05, what="RQ's registration")
    registered = rq_workers(own.redis_url)
    with PhaseHold(own.redis_url, dataset, "end") as hold:
        first = submit(client, dataset_id=dataset, **SMALL)["id"]
        wait_for(lambda: get_job(client, first)["status"] == "succeeded", WORKER_DEADLINE, interval=0.05)
        assert filler.fill() > 0
        hold.release()  # a delete: allowed on a full Redis
        assert first_logged(worker.log, WAITS, LOOP_ENDED) == WAITS
        assert worker.proc.poll() is None
        assert rq_workers(own.redis_url) == registered
        filler.free()
    second = submit(client, dataset_id=dataset, **SMALL)["id"]
    assert wait_job(client, second)["status"] == "succeeded"
    assert worker.proc.poll() is None
    assert rq_workers(own.redis_url) == registered  # the same work loop took the next job
    lines = worker.log.read_text(errors="replace").splitlines()
    assert sum(WAITS in line for line in lines) == 1, worker.tail()
    assert not any(LOOP_ENDED in line for line in lines), worker.tail()


def test_a_job_popped_as_redis_fills_goes_back_and_runs_on_its_first_attempt(full_stack):
    """The worker pops the job (held at its "start" phase: nothing written yet), then Redis is
    filled: RQ's start-up writes are refused. Before, the id was gone from the queue and the job
    never ran; now it is back at the head of its queue, still queued on attempt 0, and once room is
    made it runs and succeeds on attempt 1."""
    own, client, dataset, start_worker, filler, redis = full_stack
    worker = start_worker()
    wait_beating(redis, 1)
    with PhaseHold(own.redis_url, dataset, "start") as hold:
        job = submit(client, dataset_id=dataset, **SMALL)["id"]
        wait_for(lambda: queued_entries(own.redis_url, own.queue_name) == 0, WORKER_DEADLINE, interval=0.05)
        assert filler.fill() > 0
        hold.release()
        wait_for(
            lambda: queued_entries(own.redis_url, own.queue_name) == 1,
            WORKER_DEADLINE,
            interval=0.05,
            what="the popped job back on its queue",
        )
        wait_logged(worker.log, job, "put back")
        back = get_job(client, job)
        assert back["status"] == "queued" and back["attempt"] == 0, back
        assert worker.proc.poll() is None
        filler.free()
    done = wait_job(client, job)
    assert done["status"] == "succeeded" and done["attempt"] == 1, done
    assert worker.proc.poll() is None


def held_in_a_full_redis(full_stack, stop_wait: str) -> tuple[str, Worker, Hold]:
    """A job held running at HELD_AT (checkpointed there), then Redis filled; the hold is kept (the
    caller releases it, at the latest before another worker resumes the job)."""
    own, client, dataset, start_worker, filler, redis = full_stack
    worker = start_worker(DESCENT_STOP_WAIT_SECONDS=stop_wait)
    wait_beating(redis, 1)
    hold = Hold(own.redis_url, dataset, HELD_AT)
    job = submit(client, dataset_id=dataset, **TRAINING)["id"]
    wait_held(client, job, HELD_AT)
    wait_for(lambda: redis.exists(keys.job_checkpoint(job)), WORKER_DEADLINE, interval=0.05, what="a checkpoint")
    assert filler.fill() > 0
    return job, worker, hold


def resumed_to_the_end(full_stack, job: str, hold: Hold) -> None:
    """The hold released, a new worker takes the handed-back job: it ends succeeded on attempt 2,
    every step once."""
    _, client, _, start_worker, _, _ = full_stack
    hold.release()
    start_worker()
    done = wait_job(client, job)
    assert done["status"] == "succeeded" and done["attempt"] == 2, done
    assert full_history(client, job)["train"]["step"] == list(range(1, 3_001))


def test_a_worker_stopped_while_redis_is_full_hands_its_job_back_once_there_is_room(full_stack):
    """SIGTERM while Redis is full: the hand-back waits for room (DESCENT_STOP_WAIT_SECONDS), room is
    made, and the job goes back with its points and checkpoint and its queue entry written. Before,
    the hand-back gave up at once: the worker exited with its job still running, whose lease then
    lapsed and cost it an attempt."""
    own, client, _, _, filler, redis = full_stack
    job, worker, hold = held_in_a_full_redis(full_stack, stop_wait="600")
    worker.proc.send_signal(signal.SIGTERM)
    wait_logged(worker.log, job, "redis full", "retrying")
    assert worker.proc.poll() is None and get_job(client, job)["status"] == "running"
    filler.free()
    assert worker.proc.wait(WORKER_DEADLINE) == 0
    back = get_job(client, job)
    assert back["status"] == "queued" and back["attempt"] == 1, back
    assert back["progress"]["step"] >= HELD_AT
    assert queued_entries(own.redis_url, own.queue_name) == 1
    assert not redis.exists(keys.job_lease(job))
    resumed_to_the_end(full_stack, job, hold)


def test_a_worker_stopped_while_its_jobs_end_waits_for_room_hands_the_job_back(full_stack):
    """The job trains to its end in a full Redis (every point buffered, its end waiting for room),
    then SIGTERM, and Redis stays full past DESCENT_STOP_WAIT_SECONDS: the worker exits 0 with the
    job handed back without its unsaved work (queued, the lease given up, not lapsed: no attempt
    charged to a lost worker) and its queue entry owed. Before, the end gave up at once and the
    worker exited with the job running. Once room is made a worker's heartbeat writes the entry and
    the job resumes from the checkpoint Redis had, ending with every step once."""
    own, client, _, _, filler, redis = full_stack
    job, worker, hold = held_in_a_full_redis(full_stack, stop_wait="1")
    hold.release()  # a delete: allowed on a full Redis
    wait_logged(worker.log, job, "redis full", "retrying")  # its end (tasks.persist)
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(WORKER_DEADLINE) == 0
    back = get_job(client, job)
    assert back["status"] == "queued" and back["attempt"] == 1, back
    assert not redis.exists(keys.job_lease(job))
    assert Store(redis, own.retention_seconds).jobs.owed_enqueues() == [job]
    filler.free()
    resumed_to_the_end(full_stack, job, hold)
