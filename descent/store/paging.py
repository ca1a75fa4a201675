"""Newest-first pages over a creation-time sorted set, with an opaque cursor.

The cursor carries the (score, member) of the last item handed out, so items created while a client
pages never shift later pages (an offset cursor would repeat items).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from typing import TypeVar

from redis import Redis

T = TypeVar("T")


class BadCursor(ValueError):
    """The cursor was not one this module made."""


def encode_cursor(score: float, member: str) -> str:
    return base64.urlsafe_b64encode(f"{score!r}|{member}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        score, member = raw.split("|", 1)
        return float(score), member
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadCursor("not a cursor this service issued") from exc


def page(
    redis: Redis,
    key: str,
    limit: int,
    cursor: str | None,
    load: Callable[[list[str]], Iterable[T | None]],
) -> tuple[list[T], str | None]:
    """Up to `limit` loaded items, newest first, after `cursor`; `load` drops what it filters out."""
    max_score: str | float = "+inf"
    after_member: str | None = None
    if cursor:
        max_score, after_member = decode_cursor(cursor)
    items: list[T] = []
    batch = max(limit * 2, 50)
    while True:
        rows = redis.zrevrangebyscore(key, max_score, "-inf", start=0, num=batch, withscores=True)
        members = [(m.decode(), s) for m, s in rows]
        if after_member is not None:
            # Same-score members come in reverse lexical order; skip up to and including the last.
            members = [(m, s) for m, s in members if s < float(max_score) or m < after_member]
        if not members:
            return items, None
        loaded = list(load([m for m, _ in members]))
        for (member, score), item in zip(members, loaded, strict=True):
            if item is not None:
                items.append(item)
            if len(items) == limit:
                return items, encode_cursor(score, member)
        last_member, last_score = members[-1]
        if len(rows) < batch:
            return items, None
        max_score, after_member = last_score, last_member
