"""docker-compose.yml keeps its promises: hardened services, Redis private and password-protected."""

from __future__ import annotations

import pytest

from tests.support.stack import compose_service

SERVICES = ("redis", "api", "worker")


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_is_hardened(name):
    service = compose_service(name)
    assert service["read_only"] is True
    assert service["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in service["security_opt"]
    assert service["healthcheck"]["test"]
    for limit in ("mem_limit", "cpus", "pids_limit"):
        assert service[limit]
    assert service.get("user") != "root"


def test_redis_is_private_persistent_and_needs_a_password():
    redis = compose_service("redis")
    assert "ports" not in redis
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    password = command[command.index("--requirepass") + 1]
    for name in ("api", "worker"):
        assert f":{password}@redis:6379" in compose_service(name)["environment"]["REDIS_URL"]


def test_worker_has_time_to_checkpoint_on_stop():
    assert compose_service("worker")["stop_grace_period"] == "30s"
