"""/metrics (parsed by prometheus_client), /readyz, and the Server-Sent Events of a job."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from service import create_app
from tests.api.test_training_api import WORKED, submit, upload
from tests.conftest import RedisServer, wait_job

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


def test_readyz_needs_redis_and_a_live_worker(client, settings):
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["workers"] >= 1
    lonely = RedisServer().start()
    try:
        alone = create_app({"SETTINGS": replace(settings, redis_url=lonely.url)}).test_client()
        r = alone.get("/readyz")
        assert r.status_code == 503 and r.get_json()["workers"] == 0
    finally:
        lonely.stop()
    assert alone.get("/readyz").status_code == 503


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
    response = client.get(f"/v1/jobs/{job['id']}/events")
    assert response.mimetype == "text/event-stream"
    events = parse_sse(response.get_data(as_text=True))
    kinds = [name for name, _ in events]
    assert kinds[0] == "progress" and kinds[-1] == "end" and "point" in kinds
    steps = [s for name, data in events if name == "point" for s in data["train"]["step"]]
    assert steps == list(range(1, 201))
    assert events[-1][1]["status"] == "succeeded"
    resumed = parse_sse(client.get(f"/v1/jobs/{job['id']}/events?after=150").get_data(as_text=True))
    assert [s for name, d in resumed if name == "point" for s in d["train"]["step"]] == list(range(151, 201))
