"""The store tests' fixtures: a `Store` on the session's Redis, and a tenant of the test's own."""

from __future__ import annotations

import uuid

import pytest
import redis as redis_lib

from descent.store import Store


@pytest.fixture()
def store(redis_url) -> Store:
    return Store(redis_lib.Redis.from_url(redis_url))


@pytest.fixture()
def tenant() -> str:
    return "t-" + uuid.uuid4().hex
