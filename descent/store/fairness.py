"""Fair queueing: which of a queue family's RQ queues a worker takes its next job from.

Why: with one queue, a tenant that queues 20 jobs holds every other tenant's job back behind all
20. Each tenant gets an RQ queue of its own (`descent.queue`), and the family keeps a rotation in
Redis: a sorted set of the queues that hold entries, each scored by the turn it was last served at.
A worker takes from the queue served longest ago, so tenants with queued jobs take turns, and a
tenant that queues a job after a long quiet time (or for the first time) goes next. The rotation
lives in Redis, not in a worker, so it holds for any number of workers on any number of hosts.

Both changes are one script each, so the rotation and the queues never disagree: an entry joins
its queue and the rotation in one MULTI (`mark_ready` in the enqueuer's pipeline, or
`ENQUEUE_CREATED`, which makes RQ's writes itself in the transaction that creates the job), and
`TAKE` pops the entry and moves its queue's turn in one step. RQ's own queue keys are computed
from the prefix the caller passes (descent does not name RQ's keys; see `keys`): the scripts read
keys they do not declare, which a single Redis (descent's deployment) allows.

A full Redis (maxmemory, noeviction) refuses `TAKE` whole, so nothing is popped that could not be
started; an entry popped at the edge, whose start Redis then refused, goes back with `PUT_BACK`.
"""

from __future__ import annotations

from typing import Any

from redis import Redis

from . import keys
from .scripts import KeyedScript, LuaScript

MARK_READY = LuaScript(
    """
-- ARGV: the RQ queue that just got an entry. It joins the rotation at the turn it was last
-- served at (0: never), unless it is in it already; an idle worker is woken.
redis.call('ZADD', K.ready, 'NX', redis.call('HGET', K.turns, ARGV[1]) or 0, ARGV[1])
redis.call('RPUSH', K.doorbell, 1)
redis.call('LTRIM', K.doorbell, -1, -1)
return 1
""",
    ("ready", "turns", "doorbell"),
)

ENQUEUE_CREATED = LuaScript(
    """
-- ARGV: the RQ queue, then RQ's writes of its entry, each as its word count and its words. Made
-- only when the job K.job was created in the same transaction (queued, and no RQ record K.entry
-- yet): a refused creation queues nothing and wakes no worker. Then MARK_READY's step.
if redis.call('HGET', K.job, 'status') ~= 'queued' or redis.call('EXISTS', K.entry) == 1 then
  return 0
end
local at = 2
while at <= #ARGV do
  local words = tonumber(ARGV[at])
  redis.call(unpack(ARGV, at + 1, at + words))
  at = at + words + 1
end
redis.call('ZADD', K.ready, 'NX', redis.call('HGET', K.turns, ARGV[1]) or 0, ARGV[1])
redis.call('RPUSH', K.doorbell, 1)
redis.call('LTRIM', K.doorbell, -1, -1)
return 1
""",
    ("job", "entry", "ready", "turns", "doorbell"),
    flags="no-cluster",  # it writes RQ's keys it does not declare; and a flagged script is refused
    # whole on a full Redis (with the job's creation: one transaction), never half made
)

TAKE = LuaScript(
    """
-- ARGV: RQ's queue key prefix, the family's shared queue, RQ's job key prefix. Pops the first entry
-- of the queue served longest ago; returns {queue, entry, the fields of RQ's record of the entry's
-- job (empty when it is gone)}, or false when every queue of the family is empty.
local prefix, shared, jobs = ARGV[1], ARGV[2], ARGV[3]
-- Entries RQ put on the shared queue itself (queued before per-tenant queues, or by hand) take
-- turns like a tenant's.
if redis.call('LLEN', prefix .. shared) > 0 then
  redis.call('ZADD', K.ready, 'NX', redis.call('HGET', K.turns, shared) or 0, shared)
end
while true do
  local head = redis.call('ZRANGE', K.ready, 0, 0)
  if #head == 0 then return false end
  local name = head[1]
  local entry = redis.call('LPOP', prefix .. name)
  if entry then
    local turn = redis.call('INCR', K.clock)
    redis.call('HSET', K.turns, name, turn)
    if redis.call('LLEN', prefix .. name) > 0 then
      redis.call('ZADD', K.ready, turn, name)
    else
      redis.call('ZREM', K.ready, name)
    end
    -- more work is waiting: wake another idle worker for it
    if redis.call('ZCARD', K.ready) > 0 then
      redis.call('RPUSH', K.doorbell, 1)
      redis.call('LTRIM', K.doorbell, -1, -1)
    end
    return {name, entry, redis.call('HGETALL', jobs .. entry)}
  end
  redis.call('ZREM', K.ready, name)  -- emptied behind the rotation's back (RQ's own tools)
end
""",
    ("ready", "turns", "clock", "doorbell"),
    flags="no-cluster",  # true (it reads undeclared queue keys), and a flagged script is refused
    # whole on a full Redis, where an unflagged one would pop and then write: nothing is taken that
    # the worker could not start (RQ's start-up writes would be refused)
)

PUT_BACK = LuaScript(
    """
-- ARGV: RQ's queue key prefix, the queue's name, the entry. A popped entry whose start Redis refused
-- (full) goes back to the head of its queue, and its queue into the rotation; idle workers are woken
-- for it. allow-oom: a few dozen bytes on a full Redis, or the job would be on no queue at all.
redis.call('LPUSH', ARGV[1] .. ARGV[2], ARGV[3])
redis.call('ZADD', K.ready, 'NX', redis.call('HGET', K.turns, ARGV[2]) or 0, ARGV[2])
redis.call('RPUSH', K.doorbell, 1)
redis.call('LTRIM', K.doorbell, -1, -1)
return 1
""",
    ("ready", "turns", "doorbell"),
    flags="allow-oom",
)


class Rotation:
    """The rotation of the queue family `family` (DESCENT_QUEUE_NAME); `prefix` is RQ's queue key
    prefix (``rq:queue:``), so that a queue named N is the list at prefix + N, and `job_prefix` its
    job key prefix (``rq:job:``)."""

    def __init__(self, redis: Redis, family: str, prefix: str, job_prefix: str) -> None:
        self.redis = redis
        self.family = family
        self.prefix = prefix
        self.job_prefix = job_prefix
        self.doorbell = keys.queue_doorbell(family)
        self._keys = {
            "ready": keys.queue_ready(family),
            "turns": keys.queue_turns(family),
            "clock": keys.queue_clock(family),
            "doorbell": self.doorbell,
        }
        self._mark = KeyedScript(redis, MARK_READY)
        self._enqueue_created = KeyedScript(redis, ENQUEUE_CREATED)
        self._take = KeyedScript(redis, TAKE)
        self._put_back = KeyedScript(redis, PUT_BACK)

    def mark_ready(self, queue: str, pipeline: Any = None) -> None:
        """`queue` has an entry: put it in the rotation (inside `pipeline`, to be atomic with the push)."""
        mark_keys = {name: self._keys[name] for name in MARK_READY.keys}
        self._mark(keys=mark_keys, args=[queue], client=pipeline)

    def enqueue_created(self, job_key: str, entry: str, queue: str, writes: list[list[bytes]], pipeline: Any) -> None:
        """Queue on `pipeline` (the transaction that creates the job at `job_key`) RQ's `writes` of
        the entry `entry` on `queue` and the step into the rotation, made only if the job was
        created: the job's creation and its queueing in one round trip, and never one without the
        other."""
        enqueue_keys = {"job": job_key, "entry": self.job_prefix + entry}
        enqueue_keys |= {name: self._keys[name] for name in ("ready", "turns", "doorbell")}
        args: list[Any] = [queue]
        for words in writes:
            args += [len(words), *words]
        self._enqueue_created(keys=enqueue_keys, args=args, client=pipeline)

    def take(self) -> tuple[str, str, dict[bytes, bytes]] | None:
        """Pop the next entry in turn: (its queue's name, the entry, the fields of RQ's record of its
        job, read in the same step: one round trip less before the job starts; empty when the record
        is gone), or None when all are empty."""
        taken = self._take(keys=self._keys, args=[self.prefix, self.family, self.job_prefix])
        if not taken:
            return None
        queue, entry, flat = taken
        return queue.decode(), entry.decode(), dict(zip(flat[::2], flat[1::2], strict=True))

    def put_back(self, queue: str, entry: str) -> None:
        """`entry`, taken from `queue`, goes back to the head of it (works on a full Redis)."""
        put_keys = {name: self._keys[name] for name in PUT_BACK.keys}
        self._put_back(keys=put_keys, args=[self.prefix, queue, entry])

    def queues(self) -> list[str]:
        """Every queue of the family that ever held an entry, the shared one first."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hkeys(self._keys["turns"])
        pipe.zrange(self._keys["ready"], 0, -1)
        served, ready = pipe.execute()
        names = {m.decode() for m in served} | {m.decode() for m in ready}
        return [self.family, *sorted(names - {self.family})]

    def depths(self) -> dict[str, int]:
        """Entries waiting on each queue of the family."""
        names = self.queues()
        pipe = self.redis.pipeline(transaction=False)
        for name in names:
            pipe.llen(self.prefix + name)
        return dict(zip(names, (int(n) for n in pipe.execute()), strict=True))

    def rejoin(self) -> list[str]:
        """Put back in the rotation every queue with entries that is not in it (entries pushed by
        RQ's own tools, such as ``rq requeue``); returns their names."""
        waiting = [name for name, depth in self.depths().items() if depth]
        if not waiting:
            return []
        in_rotation = self.redis.zmscore(self._keys["ready"], waiting)
        missing = [name for name, score in zip(waiting, in_rotation, strict=True) if score is None]
        for name in missing:
            self.mark_ready(name)
        return missing
