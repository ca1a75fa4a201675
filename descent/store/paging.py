"""Newest-first pages over a creation-time sorted set, with an opaque cursor.

The cursor carries the (score, member) of the last item handed out, so items created while a client
pages never shift later pages (an offset cursor would repeat items).

It is written ``<score>-<member>``: the integer creation score (microseconds since the epoch) and
the id of the last item. Clients treat it as opaque, but its grammar is `CURSOR_PATTERN`, and every
string that matches the pattern is a cursor this module can resume from (a made-up one just starts
the page at that position), so a schema-valid cursor is never rejected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

from redis import Redis

T = TypeVar("T")

MAX_SCORE_DIGITS = 19
"""Scores are integers below 10**19 (creation times in microseconds need 16 digits)."""
MAX_MEMBER_LENGTH = 100
"""Members are the ids this service makes (``ds_…``, ``job_…``, ``sweep_…``), well below this."""

CURSOR_PATTERN = rf"^(0|[1-9][0-9]{{0,{MAX_SCORE_DIGITS - 1}}})-[A-Za-z0-9_]{{1,{MAX_MEMBER_LENGTH}}}$"
"""The grammar of a cursor; `decode_cursor` accepts exactly the strings that match it."""

_CURSOR = re.compile(CURSOR_PATTERN.removeprefix("^").removesuffix("$"))
"""Matched with fullmatch: JSON Schema patterns are ECMA-262, whose "$" is the end of the input."""


class BadCursor(ValueError):
    """The cursor does not have the cursor grammar (`CURSOR_PATTERN`)."""


def encode_cursor(score: float, member: str) -> str:
    """The cursor that resumes after `member` (whose creation score is the integer `score`)."""
    return f"{int(score)}-{member}"


def decode_cursor(cursor: str) -> tuple[int, str]:
    """(score, member) of a cursor; BadCursor unless the whole string matches `CURSOR_PATTERN`."""
    if _CURSOR.fullmatch(cursor) is None:
        raise BadCursor(
            "not a cursor: send back the next_cursor of the previous page "
            f"(a cursor matches {CURSOR_PATTERN})"
        )
    score, _, member = cursor.partition("-")
    return int(score), member


def page(
    redis: Redis,
    key: str,
    limit: int,
    cursor: str | None,
    load: Callable[[list[str]], Iterable[T | None]],
) -> tuple[list[T], str | None]:
    """Up to `limit` loaded items, newest first, after `cursor`; `load` drops what it filters out.

    An empty cursor is the first page, like no cursor.
    """
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
