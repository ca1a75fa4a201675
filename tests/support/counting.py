"""A Redis client that records the commands it sends one by one: what a path's round trips are."""

from __future__ import annotations

from typing import Any

import redis as redis_lib


class Counting(redis_lib.Redis):
    """A client that records the name of every command it sends outside pipelines."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[str] = []

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.sent.append(str(args[0]).upper())
        return super().execute_command(*args, **options)
