"""DESCENT_LOG_LEVEL reaches a real worker: at DEBUG, `python -m worker` logs each job's time outside
the engine by part (worker/spans.py), the line a fixed-cost investigation starts from."""

from __future__ import annotations

import json
from dataclasses import replace

from service import create_app
from tests.support.api import submit, wait_job
from tests.support.processes import WORKER_DEADLINE, Worker, wait_for

PARTS = ("record+start", "config+resume", "dataset load+prepare", "engine", "flush+result")


def test_a_debug_worker_logs_where_each_job_s_time_went(settings):
    own = replace(settings, queue_name=settings.queue_name + "-logs")  # no session worker takes it
    client = create_app({"SETTINGS": own}).test_client()
    body = {"x": [[1.0], [2.0], [3.0], [4.0]], "y": [2.0, 4.0, 6.0, 8.0]}
    dataset = client.post("/v1/datasets", json=body).get_json()["id"]
    worker = Worker(own, env={"DESCENT_LOG_LEVEL": "debug"})  # any case
    try:
        job = submit(client, dataset_id=dataset, optimizer={"type": "gd", "lr": 0.01}, epochs=3)["id"]
        assert wait_job(client, job)["status"] == "succeeded"

        def spans() -> dict | None:  # written just after the job's end
            for text in worker.log.read_text(errors="replace").splitlines():
                line = json.loads(text) if text.startswith("{") else {}
                if line.get("level") == "DEBUG" and line.get("job_id") == job and "flush+result" in line["message"]:
                    return line
            return None

        line = wait_for(spans, WORKER_DEADLINE, what="the job's DEBUG line")
        assert [part for part in PARTS if f"{part} " in line["message"]] == list(PARTS), line
    finally:
        worker.stop()
