"""The processes' warm-ups (service/warm.py, worker/warm_path.py): they run the real paths on small
in-memory tables and leave nothing in Redis but the store's scripts, loaded ahead of their first
call."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
import redis as redis_lib

from descent.queue import enqueue_training
from descent.store import scripts
from service.tables.threads import CORES, POOL
from service.warm import warm_up
from tests.support.counting import Counting
from tests.support.processes import RedisServer
from worker.warm_path import JOB_CONNECTIONS, warm


@pytest.fixture()
def empty_redis() -> Iterator[redis_lib.Redis]:
    """A redis-server of the test's own: nothing in it, no script loaded."""
    server = RedisServer().start()
    try:
        yield redis_lib.Redis.from_url(server.url)
    finally:
        server.stop()


def _loaded(client: redis_lib.Redis) -> bool:
    shas = [hashlib.sha1(s.source().encode()).hexdigest() for s in vars(scripts).values() if isinstance(s, scripts.LuaScript)]
    return len(shas) > 5 and all(client.script_exists(*shas))


def test_the_api_warm_up_starts_the_upload_threads_and_loads_the_scripts(settings, empty_redis) -> None:
    assert not _loaded(empty_redis)
    assert warm_up(settings, empty_redis) >= 0
    assert len(POOL._threads) == CORES  # every thread of the upload pool is running
    assert _loaded(empty_redis)
    assert empty_redis.dbsize() == 0  # nothing written


def test_the_api_warm_up_works_without_redis(settings) -> None:
    unreachable = redis_lib.Redis(port=1, socket_connect_timeout=0.2)
    assert warm_up(settings, unreachable) >= 0


def test_the_workers_job_path_warm_up_loads_the_scripts_and_writes_nothing(empty_redis) -> None:
    assert not _loaded(empty_redis)
    assert warm(empty_redis) >= 0
    assert _loaded(empty_redis)
    assert empty_redis.dbsize() == 0


def test_the_workers_warm_up_makes_the_store_its_jobs_use(empty_redis) -> None:
    from worker.tasks import process_store

    warm(empty_redis)
    _, store = process_store(empty_redis)  # what a job on RQ's connection gets
    assert store.redis is empty_redis
    assert process_store(empty_redis)[1] is store  # made once
    other = redis_lib.Redis(connection_pool=empty_redis.connection_pool)
    assert process_store(other)[1].redis is other  # another connection: a store of its own


def test_after_the_api_warm_up_a_first_enqueue_does_not_ask_redis_its_version(settings, empty_redis) -> None:
    """RQ asks Redis its version (INFO) on a client's first enqueue, and keeps it on the client."""
    client = Counting(connection_pool=empty_redis.connection_pool)
    warm_up(settings, client)
    client.sent.clear()
    enqueue_training(client, "warm-test", "t1", "job_1", 60)
    assert "INFO" not in client.sent


def test_after_the_workers_warm_up_its_first_job_opens_no_connection_nor_asks_the_version(empty_redis) -> None:
    from worker.runner import DescentWorker

    client = Counting(connection_pool=empty_redis.connection_pool)
    warm(client)
    idle = len(client.connection_pool._available_connections)
    assert idle >= JOB_CONNECTIONS
    worker = DescentWorker(["warm-test"], connection=client)
    client.sent.clear()
    worker.get_redis_server_version()
    assert client.sent == []
