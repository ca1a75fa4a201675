"""Only descent's task runs from the queue: foreign entries are refused with no side effect."""

from __future__ import annotations

import pytest
import redis as redis_lib
from rq import Queue
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from tests.support.api import submit, upload, wait_job
from tests.support.data import WORKED
from tests.support.processes import WORKER_DEADLINE, wait_for

pytestmark = pytest.mark.usefixtures("worker")


def test_foreign_function_is_refused_and_the_worker_goes_on(client, settings, tmp_path):
    conn = redis_lib.Redis.from_url(settings.redis_url)
    marker = tmp_path / "pwned"
    queue = Queue(settings.queue_name, connection=conn, serializer=JSONSerializer)
    foreign = queue.enqueue("os.system", f"touch {marker}")
    pickled = Queue(settings.queue_name, connection=conn).enqueue("os.system", f"touch {marker}-pickle")

    def ended(job_id: str, serializer=JSONSerializer) -> bool:
        try:
            status = Job.fetch(job_id, connection=conn, serializer=serializer).get_status()
        except Exception:
            return True  # gone from RQ altogether also means it will not run
        return status in (JobStatus.FAILED, JobStatus.FINISHED, JobStatus.CANCELED, JobStatus.STOPPED)

    wait_for(lambda: ended(foreign.id), WORKER_DEADLINE, what="the foreign job to be refused")
    assert Job.fetch(foreign.id, connection=conn, serializer=JSONSerializer).get_status() == JobStatus.FAILED
    # The worker is still alive and trains the next real job.
    ds = upload(client, WORKED)
    job = wait_job(client, submit(client, dataset_id=ds, optimizer={"type": "gd"}, epochs=5)["id"])
    assert job["status"] == "succeeded"
    wait_for(lambda: ended(pickled.id, None), WORKER_DEADLINE, what="the pickled job to be dropped")
    assert not marker.exists() and not (tmp_path / "pwned-pickle").exists()
