"""A Redis client that records the commands it sends one by one, and the pipelines it executes:
what a path's round trips are."""

from __future__ import annotations

from typing import Any

import redis as redis_lib
from redis.client import Pipeline


class Counting(redis_lib.Redis):
    """A client that records the name of every command it sends outside pipelines (`sent`), and
    each pipeline it executes as the names of its commands (`pipelines`, one round trip each)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[str] = []
        self.pipelines: list[list[str]] = []

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.sent.append(str(args[0]).upper())
        return super().execute_command(*args, **options)

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Pipeline:
        return _CountedPipeline(self, transaction, shard_hint)


class _CountedPipeline(Pipeline):
    """redis-py's pipeline, telling its client what it executes."""

    def __init__(self, client: Counting, transaction: bool, shard_hint: Any) -> None:
        super().__init__(client.connection_pool, client.response_callbacks, transaction, shard_hint)
        self._counting = client

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        if self.command_stack:
            self._counting.pipelines.append([str(args[0]).upper() for args, _ in self.command_stack])
        return super().execute(raise_on_error)
