"""GET /v1/jobs/{id}?wait=S: the answer comes as the job ends (every way a job ends publishes it),
or with the job as it stands once S seconds have passed; a bad `wait` is a 400 naming it."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.test import Client

from descent.store import keys
from service import create_app
from service.job_waits import WAITED_ROUTE
from tests.support.api import problem, submit, upload, wait_job
from tests.support.data import WORKED
from tests.support.holds import Hold, wait_held
from tests.support.processes import wait_for

pytestmark = pytest.mark.usefixtures("worker")

LONG = 30
"""A wait no answer in these tests runs out of: an answer before it came from the job's end."""
SGD = {"optimizer": {"type": "sgd", "lr": 0.0001}, "epochs": 50, "tolerance": 0}


def _waiting_get(app, client, job_id: str, seconds: float):
    """Start `GET ?wait=seconds` on a thread; return once it waits in the process (its future)."""
    pool = ThreadPoolExecutor(1)
    started = time.monotonic()
    future = pool.submit(lambda: (client.get(f"/v1/jobs/{job_id}?wait={seconds}"), time.monotonic() - started))
    pool.shutdown(wait=False)
    waits = app.extensions["descent.end_waits"]
    wait_for(lambda: waits.waiting(job_id) or future.done(), 10, what="the request to wait")
    assert not future.done(), future.result()[0].get_data(as_text=True)
    return future


def test_the_answer_comes_as_the_job_ends(app, client, settings):
    ds = upload(client, WORKED)
    with Hold(settings.redis_url, ds, step=10) as hold:
        job = submit(client, dataset_id=ds, **SGD)
        wait_held(client, job["id"], 10)
        future = _waiting_get(app, app.test_client(), job["id"], LONG)
        hold.release()
        answer, seconds = future.result(timeout=LONG + 10)
    assert answer.status_code == 200 and answer.get_json()["status"] == "succeeded"
    assert answer.get_json()["result"]["params"]
    assert seconds < LONG
    assert app.extensions["descent.end_waits"].waiting(job["id"]) == 0


def test_a_cancel_wakes_the_waiters(app, client, settings):
    ds = upload(client, WORKED)
    with Hold(settings.redis_url, ds, step=10):
        job = submit(client, dataset_id=ds, **SGD)
        wait_held(client, job["id"], 10)
        future = _waiting_get(app, app.test_client(), job["id"], LONG)
        assert client.post(f"/v1/jobs/{job['id']}/cancel").status_code == 202
        answer, seconds = future.result(timeout=LONG + 10)
    assert answer.get_json()["status"] == "cancelled" and seconds < LONG


def test_the_wait_runs_out_with_the_job_as_it_stands(client, settings):
    ds = upload(client, WORKED)
    with Hold(settings.redis_url, ds, step=10):
        job = submit(client, dataset_id=ds, **SGD)
        wait_held(client, job["id"], 10)
        asked = time.monotonic()
        answer = client.get(f"/v1/jobs/{job['id']}?wait=0.3")
        assert time.monotonic() - asked >= 0.3
        assert answer.status_code == 200 and answer.get_json()["status"] == "running"
        client.post(f"/v1/jobs/{job['id']}/cancel")
        wait_job(client, job["id"])


def test_an_ended_job_and_a_full_process_are_answered_at_once(settings, client):
    ds = upload(client, WORKED)
    job = submit(client, dataset_id=ds, optimizer={"type": "gd", "lr": 0.01}, epochs=5)
    done = wait_job(client, job["id"])
    asked = time.monotonic()
    assert client.get(f"/v1/jobs/{job['id']}?wait={LONG}").get_json() == done
    # no wait slot (DESCENT_MAX_JOB_WAITS=0): a queued job (on a queue no worker takes) as it stands
    idle = create_app(
        {"SETTINGS": replace(settings, queue_name=settings.queue_name + "-idle", max_job_waits=0)}
    ).test_client()
    queued = submit(idle, dataset_id=upload(idle, WORKED), optimizer={"type": "gd"})
    assert idle.get(f"/v1/jobs/{queued['id']}?wait={LONG}").get_json()["status"] == "queued"
    assert time.monotonic() - asked < LONG
    idle.post(f"/v1/jobs/{queued['id']}/cancel")


@pytest.mark.parametrize("value", ["-1", "abc", "30.5", "1e3", "", "nan", "1.2.3", "٣"])
def test_a_bad_wait_is_a_400_naming_it(client, value):
    ds = upload(client, WORKED)
    job = submit(client, dataset_id=ds, optimizer={"type": "gd", "lr": 0.01}, epochs=5)
    body = problem(client.get(f"/v1/jobs/{job['id']}?wait={value}"), 400)
    assert body["errors"][0]["field"] == "wait"
    problem(client.get(f"/v1/jobs/nope?wait={value}"), 404)


def test_the_fast_path_and_flask_answer_alike(app, client):
    ds = upload(client, WORKED)
    job = wait_job(client, submit(client, dataset_id=ds, optimizer={"type": "gd", "lr": 0.01}, epochs=5)["id"])
    fast_polls = app.wsgi_app.inner
    path = f"/v1/jobs/{job['id']}?wait=2.5"
    fast, flask = Client(fast_polls).get(path), Client(fast_polls.inner).get(path)
    assert fast.status_code == flask.status_code == 200
    assert fast.get_data() == flask.get_data()


def test_every_end_of_a_job_is_published(app, client, settings):
    """Succeeded (the worker's end), cancelled while queued: each job's id on keys.JOBS_ENDED."""
    subscriber = redis.Redis.from_url(settings.redis_url).pubsub(ignore_subscribe_messages=True)
    subscriber.subscribe(keys.JOBS_ENDED)
    ds = upload(client, WORKED)
    done = wait_job(client, submit(client, dataset_id=ds, optimizer={"type": "gd", "lr": 0.01}, epochs=5)["id"])
    idle = create_app({"SETTINGS": replace(settings, queue_name=settings.queue_name + "-idle")}).test_client()
    queued = submit(idle, dataset_id=upload(idle, WORKED), optimizer={"type": "gd"})
    idle.post(f"/v1/jobs/{queued['id']}/cancel")
    published: list[str] = []

    def both() -> bool:
        message = subscriber.get_message(timeout=0.1)
        if message is not None:
            published.append(message["data"].decode())
        return {done["id"], queued["id"]} <= set(published)

    wait_for(both, 10, what="both ends published")
    subscriber.close()


def test_a_waited_answer_has_its_own_latency_label(app, client):
    """Its seconds are the job's: under the job route's label they would hide the polls' latency."""
    ds = upload(client, WORKED)
    job = wait_job(client, submit(client, dataset_id=ds, optimizer={"type": "gd", "lr": 0.01}, epochs=5)["id"])

    def counts() -> tuple[float, float]:
        found = {"/v1/jobs/<job_id>": 0.0, WAITED_ROUTE: 0.0}
        for family in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True)):
            for sample in family.samples:
                route, plain = sample.labels.get("route"), {"method": "GET", "status": "200"}
                if sample.name.endswith("_seconds_count") and route in found and plain.items() <= sample.labels.items():
                    found[route] = sample.value
        return tuple(found.values())

    job_route, waited = counts()
    fast_polls = app.wsgi_app.inner
    for inner in (fast_polls, fast_polls.inner):  # the fast path, and Flask's
        assert Client(inner).get(f"/v1/jobs/{job['id']}?wait=1").status_code == 200
    assert counts() == (job_route, waited + 2)
