"""What a Redis holds, as a comparable value: every key's type, TTL or not, and contents, with
the ids a run made up (a job's, an execution's) replaced by placeholders. Two ways of making the
same writes (RQ's own calls and descent's merged ones) give equal states."""

from __future__ import annotations

from typing import Any

import redis as redis_lib


def redis_state(redis: redis_lib.Redis, names: dict[str, str], timestamps: tuple[bytes, ...] = ()) -> dict[str, Any]:
    """{key: (type, has a TTL, contents)} over every key; each `names` value (an id) written as its
    key (a placeholder) in keys and contents, and a hash field whose name is in `timestamps` shown
    as present only (its value is a clock reading)."""

    def plain(raw: bytes | str) -> str:
        text = raw.decode(errors="backslashreplace") if isinstance(raw, bytes) else raw
        for placeholder, value in names.items():
            text = text.replace(value, placeholder)
        return text

    state: dict[str, Any] = {}
    for key in redis.keys("*"):
        kind = redis.type(key).decode()
        if kind == "hash":
            fields = redis.hgetall(key)
            contents: Any = sorted(
                (plain(f), "<time>" if f in timestamps else plain(v)) for f, v in fields.items()
            )
        elif kind == "zset":
            contents = sorted(plain(m) for m in redis.zrange(key, 0, -1))
        elif kind == "set":
            contents = sorted(plain(m) for m in redis.smembers(key))
        elif kind == "list":
            contents = [plain(m) for m in redis.lrange(key, 0, -1)]
        elif kind == "stream":  # entry ids are clock readings: the entries' fields, in order
            contents = [
                sorted((plain(f), "<time>" if f in timestamps else plain(v)) for f, v in fields.items())
                for _, fields in redis.xrange(key)
            ]
        else:
            contents = plain(redis.get(key) or b"")
        state[plain(key)] = (kind, redis.ttl(key) > 0, contents)
    return state
