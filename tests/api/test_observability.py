"""/metrics (parsed by prometheus_client), /readyz, and the Server-Sent Events of a job."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from service import create_app
from tests.support.api import problem, submit, upload, wait_job
from tests.support.data import WORKED
from tests.support.processes import RedisServer, wait_for
from tests.support.streams import OpenStream

pytestmark = pytest.mark.usefixtures("worker")


def samples(client) -> dict[tuple[str, tuple], float]:
    text = client.get("/metrics").get_data(as_text=True)
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_metrics_count_jobs_as_they_run(client):
    before = samples(client)
    ds = upload(client, WORKED)
    job = wait_job(client, submit(client, dataset_id=ds, optimizer={"type": "gd"}, epochs=5)["id"])
    assert job["status"] == "succeeded"
    after = samples(client)

    def grew(event: str) -> float:
        key = ("descent_jobs_total", (("event", event),))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("created") >= 1 and grew("started") >= 1 and grew("succeeded") >= 1
    assert after[("descent_workers_live", ())] >= 1
    assert ("descent_queue_depth", ()) in after
    count = ("descent_job_duration_seconds_count", ())
    assert after[count] >= before.get(count, 0) + 1
    assert any(name == "descent_http_request_duration_seconds_count" for name, _ in after)


def test_readyz_needs_redis_and_counts_live_workers(client, settings):
    ready = client.get("/readyz")
    assert ready.status_code == 200
    # the session's worker counts once it has warmed up and beaten (this test may run first)
    wait_for(lambda: client.get("/readyz").get_json()["workers"] >= 1, 120, interval=0.1, what="a beat")
    lonely = RedisServer().start()
    try:
        alone = create_app({"SETTINGS": replace(settings, redis_url=lonely.url)}).test_client()
        r = alone.get("/readyz")  # no worker beats on this Redis: still ready, clients can read jobs
        assert r.status_code == 200 and r.get_json() == {"status": "ready", "redis": "ok", "workers": 0}
        assert samples(alone)[("descent_workers_live", ())] == 0
    finally:
        lonely.stop()
    r = alone.get("/readyz")
    assert r.status_code == 503 and r.mimetype == "application/problem+json"
    doc = r.get_json()
    assert doc["status"] == 503 and doc["type"].endswith("store-unavailable")
    assert doc["redis"] == "unreachable" and doc["workers"] == 0


def parse_sse(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_events_stream_progress_points_and_end(client):
    ds = upload(client, WORKED)
    job = submit(
        client,
        dataset_id=ds,
        model={"type": "linear", "bias": False},
        standardize=False,
        optimizer={"type": "gd", "lr": 0.01},
        epochs=200,
        tolerance=0,
    )
    with client.get(f"/v1/jobs/{job['id']}/events") as response:  # closed, as a server closes it
        assert response.mimetype == "text/event-stream"
        events = parse_sse(response.get_data(as_text=True))
    kinds = [name for name, _ in events]
    assert kinds[0] == "progress" and kinds[-1] == "end" and "point" in kinds
    steps = [s for name, data in events if name == "point" for s in data["train"]["step"]]
    assert steps == list(range(1, 201))
    assert events[-1][1]["status"] == "succeeded"
    with client.get(f"/v1/jobs/{job['id']}/events?after=150") as response:
        resumed = parse_sse(response.get_data(as_text=True))
    assert [s for name, d in resumed if name == "point" for s in d["train"]["step"]] == list(range(151, 201))
    bad = problem(client.get(f"/v1/jobs/{job['id']}/events?after=-5"), 400)  # as documented: minimum 0
    assert bad["errors"] == [{"field": "after", "message": "must be >= 0"}]


def test_a_process_serves_at_most_max_sse_streams_and_frees_a_slot_when_a_stream_closes(settings):
    app = create_app({"SETTINGS": replace(settings, max_sse_streams=2, sse_seconds=30.0)})
    client = app.test_client()
    ds = upload(client, WORKED)
    job = submit(client, dataset_id=ds, optimizer={"type": "gd", "lr": 0.01}, epochs=3)
    wait_job(client, job["id"])
    path = f"/v1/jobs/{job['id']}/events"
    first, second = OpenStream(app.test_client(), path), OpenStream(app.test_client(), path)
    assert (first.status, second.status) == (200, 200)
    third = client.get(path)
    assert third.status_code == 503 and third.mimetype == "application/problem+json"
    assert third.headers["Retry-After"] == "2"
    assert "DESCENT_MAX_SSE_STREAMS" in third.get_json()["detail"]
    assert client.get("/v1/jobs/job_" + "0" * 32 + "/events").status_code == 404  # still a 404
    first.close()  # its client went away: the slot is free again
    with client.get(path) as again:  # a server closes every response it sent: so does this client
        assert again.status_code == 200
        assert parse_sse(again.get_data(as_text=True))[-1][0] == "end"
    second.close()
    for _ in range(3):  # one stream after another, each closed: each frees its slot
        with client.get(path) as response:
            assert response.status_code == 200
            assert parse_sse(response.get_data(as_text=True))[-1][0] == "end"
