"""Per-tenant limits where they matter: API servers of their own sharing one Redis (as API hosts do)
enforce one rate and one quota; and a tenant filling a small Redis meets its quota, not a full
Redis, so the other tenant keeps uploading and submitting (issue 14's noisy neighbour)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from service import create_app
from tests.support.api import As, HttpClient, problem, upload
from tests.support.data import WORKED
from tests.support.processes import RedisServer
from tests.support.tenants import ApiServer, usage

KEYS = "a:key-a,b:key-b"
BIG = "a,b,c,d,y\n" + "".join(f"{i},{i + 1},{i + 2},{i + 3},{i % 7}\n" for i in range(20000))
"""20,000 rows × 5 number columns: 400,000 bytes of columns."""


@pytest.fixture()
def redis_server():
    server = RedisServer().start()
    yield server
    server.stop()


def test_two_api_servers_on_one_redis_share_the_rate_and_the_quota(redis_server):
    env = {
        "DESCENT_API_KEYS": KEYS,
        "DESCENT_API_PROCESSES": "2",
        "DESCENT_RATE_LIMIT": "0.001",
        "DESCENT_RATE_BURST": "8",
        "DESCENT_TENANT_STORAGE_BYTES": "600000",
    }
    servers = [ApiServer(redis_server.url, env), ApiServer(redis_server.url, env)]
    try:
        one, two = (HttpClient(s.base, "key-a") for s in servers)
        upload(one, BIG)  # 1 of the burst of 8
        refused = two.post("/v1/datasets", data=BIG, content_type="text/csv")  # 2
        err = problem(refused, 403)
        assert err["quota_bytes"] == 600_000 and err["requested_bytes"] == 400_000
        assert 400_000 < err["stored_bytes"] <= 600_000
        for _ in range(3):  # 3 to 8, alternately
            assert one.get("/v1/datasets").status_code == two.get("/v1/datasets").status_code == 200
        for client in (one, two):
            limited = client.get("/v1/datasets")
            problem(limited, 429)
            assert 1 <= int(limited.headers["Retry-After"]) <= 1000
        assert HttpClient(servers[1].base, "key-b").get("/v1/datasets").status_code == 200
        metrics = HttpClient(servers[0].base).get("/metrics").get_data(as_text=True)
        use = usage(metrics, ("a", "b"))["a"]
        assert use["requests_limited_total:rate"] == 2 and use["requests_limited_total:storage"] == 1
        assert use["stored_bytes"] == err["stored_bytes"]
    finally:
        for server in servers:
            server.stop()


def test_a_tenant_filling_redis_meets_its_quota_and_the_other_tenant_keeps_working(settings):
    small = RedisServer("--maxmemory", "16mb", "--maxmemory-policy", "noeviction").start()
    try:
        app = create_app(
            {
                "SETTINGS": replace(
                    settings,
                    redis_url=small.url,
                    api_keys=KEYS,
                    queue_name=settings.queue_name + "-unserved",
                    tenant_storage_bytes=6 * 1024 * 1024,
                )
            }
        )
        noisy, quiet = As(app, "key-a"), As(app, "key-b")
        answers = [noisy.post("/v1/datasets", data=BIG, content_type="text/csv").status_code for _ in range(40)]
        assert 403 in answers and 503 not in answers, answers
        assert set(answers) == {201, 403} and answers.index(403) == answers.count(201)  # 201s, then 403s
        for _ in range(3):
            dataset_id = upload(quiet, BIG)
            assert quiet.post("/v1/jobs", json={"dataset_id": dataset_id, "optimizer": {"type": "gd"}}).status_code == 202
        upload(quiet, WORKED)
    finally:
        small.stop()
