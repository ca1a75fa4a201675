"""Lua scripts for the state changes that must be atomic in Redis.

A job's status moves queued → running → succeeded | failed | cancelled, and a dataset may only be
deleted while no open job uses it; checking and writing in one script is what makes a cancel racing
a worker's start, or a delete racing a submission, come out one way or the other and never both.

Scripts take their keys by name: each `LuaScript` lists the names of its keys, in KEYS order, and
`KeyedScript` is the one piece of code that turns names into positions, on both sides — the Lua gets
a table ``K`` (``K.job`` is ``KEYS[1]`` ...) and Python passes a mapping from the same names. The
strings a script writes or returns are the values of `states`' enums.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.client import Pipeline

from .job_end import ENDED, STATE_KEYS


@dataclass(frozen=True)
class LuaScript:
    """A script's body, which reads its keys as ``K.<name>``, and the names of those keys in order.
    Names after `optional_from` may be left out (trailing keys a script tests with ``if K.x``);
    `flags`: Redis 7 script flags (a ``#!lua flags=…`` first line), none by default."""

    body: str
    keys: tuple[str, ...]
    optional_from: int | None = None
    flags: str = ""

    def source(self) -> str:
        """The body behind a prelude binding ``K.<name>`` to ``KEYS[i]`` (after the flags line)."""
        fields = ", ".join(f"{name} = KEYS[{i}]" for i, name in enumerate(self.keys, start=1))
        shebang = f"#!lua flags={self.flags}\n" if self.flags else ""
        return f"{shebang}local K = {{{fields}}}\n{self.body}"


class KeyedScript:
    """A `LuaScript` registered with Redis, called with its keys by name."""

    def __init__(self, redis: Redis, script: LuaScript) -> None:
        self.script = script
        self._run = redis.register_script(script.source())

    def __call__(self, keys: Mapping[str, str], args: Sequence[Any] = (), client: Any = None) -> Any:
        """Run the script (queued on `client`, a pipeline, when given: its answer comes from
        `execute`)."""
        names = self.script.keys
        unknown = set(keys) - set(names)
        if unknown:
            raise KeyError(f"not keys of this script: {sorted(unknown)}")
        required = names if self.script.optional_from is None else names[: self.script.optional_from]
        ordered = [keys[name] for name in required]  # KeyError names a missing required key
        for name in names[len(required) :]:
            if name not in keys:
                break
            ordered.append(keys[name])
        if len(ordered) < len(keys):
            raise KeyError("optional keys are given in order, none skipped")
        if isinstance(client, Pipeline):
            # EVAL with the body, not redis-py's EVALSHA: for a pipeline holding a script redis-py
            # first asks SCRIPT EXISTS, a round trip of its own on the way to a job's start and end.
            # Redis hashes the body and runs its cached compiled script; none can be missing.
            return client.eval(self._run.script, len(ordered), *ordered, *args)
        return self._run(keys=ordered, args=list(args), client=client)


START = LuaScript(
    """
-- ARGV: worker name, lease ms, now. queued → running for this worker, counted in the job
-- counters (K.stats: in the same step, not a round trip more before the job's first update), its
-- start on Redis's clock kept for the duration histogram (`ended`). Returns the record as it was
-- while queued (HGETALL's list: the worker reads the job in the step that starts it), else the
-- job's status (false when there is no such job).
local record = redis.call('HGETALL', K.job)
local rec = {}
for i = 1, #record, 2 do
  if record[i] == 'status' then rec[1] = record[i + 1] elseif record[i] == 'id' then rec[2] = record[i + 1] end
end
if rec[1] ~= 'queued' then return rec[1] or false end
local t = redis.call('TIME')
redis.call('HSET', K.job, 'status', 'running', 'started_at', ARGV[3], 'worker', ARGV[1],
  'started_clock', t[1] .. '.' .. string.format('%06d', tonumber(t[2])))
redis.call('HINCRBY', K.job, 'attempt', 1)
redis.call('SADD', K.running, rec[2])
redis.call('SET', K.lease, ARGV[1], 'PX', ARGV[2])
redis.call('HINCRBY', K.stats, 'started', 1)
return record
""",
    ("job", "running", "lease", "stats"),
    # A worker starts a job right after RQ's own start-up writes went through: only at the edge of a
    # full Redis can this one be refused, and the popped job would then be on no queue. A few dozen
    # bytes; from here the job rides out a full Redis as any running job does.
    flags="allow-oom",
)

RENEW = LuaScript(
    """
-- ARGV: worker name, lease ms. 1 while the job is still this worker's, else 0.
if redis.call('GET', K.lease) == ARGV[1] then
  redis.call('PEXPIRE', K.lease, ARGV[2])
  return 1
end
local rec = redis.call('HMGET', K.job, 'status', 'worker')
if rec[1] == 'running' and rec[2] == ARGV[1] and redis.call('EXISTS', K.lease) == 0 then
  redis.call('SET', K.lease, ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
""",
    ("job", "lease"),
)

BEAT = LuaScript(
    """
-- ARGV: worker name, now (unix seconds). A listed worker's score moves in place (ZADD XX), which
-- takes no memory to speak of: the script may run on a full Redis (allow-oom), so the workers
-- that beat still count in /readyz and /metrics there. 1 when the worker was listed; 0 when it
-- must be added, by an ordinary write (refused while Redis is full).
if redis.call('ZSCORE', K.workers, ARGV[1]) then
  redis.call('ZADD', K.workers, 'XX', ARGV[2], ARGV[1])
  return 1
end
return 0
""",
    ("workers",),
    flags="allow-oom",
)

REQUEUE = LuaScript(
    ENDED
    + """
-- ARGV: worker name ('' for the reaper, which needs the lease gone), max attempts, now,
--       retention, now as unix seconds.
-- running → queued so another worker resumes it from its checkpoint; after max attempts the job
-- fails as worker_lost instead. A requeued job is also added to K.owed_enqueues in the same step:
-- its RQ queue entry is owed until `JobStore.enqueued` clears it, so a failure before the entry is
-- written is repaired by the next heartbeat. Returns a RequeueOutcome.
local rec = redis.call('HMGET', K.job, 'status', 'attempt', 'id', 'worker')
if rec[1] ~= 'running' then
  if rec[3] then redis.call('SREM', K.running, rec[3]) end
  return 'not_running'
end
local lease = redis.call('GET', K.lease)
if ARGV[1] == '' then
  if lease then return 'alive' end
elseif lease ~= ARGV[1] and rec[4] ~= ARGV[1] then
  return 'not_yours'
end
redis.call('SREM', K.running, rec[3])
redis.call('DEL', K.lease)
if ARGV[1] == '' and tonumber(rec[2] or '0') >= tonumber(ARGV[2]) then
  redis.call('HSET', K.job, 'status', 'failed', 'finished_at', ARGV[3], 'error',
    cjson.encode({type = 'worker_lost', message = 'the worker running this job was lost ' ..
      rec[2] .. ' time(s) (DESCENT_MAX_ATTEMPTS = ' .. ARGV[2] .. '); the job was not finished'}))
  ended(rec[3], ARGV[4], 'failed', true)
  return 'lost'
end
redis.call('HSET', K.job, 'status', 'queued', 'requeued_at', ARGV[3])
redis.call('ZADD', K.owed_enqueues, ARGV[5], rec[3])
redis.call('HINCRBY', K.stats, 'requeued', 1)
return 'requeued'
""",
    (*STATE_KEYS, "owed_enqueues"),
    # A handful of bytes: a worker stopping while Redis is full hands its job back (its queue entry
    # owed until there is room), and the reaper takes back a dead worker's job, full or not.
    flags="allow-oom",
)

CREATE_JOB = LuaScript(
    """
-- ARGV: tenant, job_id, score, max open jobs (0: no limit), dataset ttl, the dataset's publish
--       token the request was checked against ('': not checked), field, value, ...
-- Returns 1, 0 (dataset missing, not the tenant's, or published again since) or -1 (the open-jobs
-- limit is reached).
if redis.call('HGET', K.dataset, 'tenant') ~= ARGV[1] then return 0 end
if ARGV[6] ~= '' and redis.call('HGET', K.dataset, 'version') ~= ARGV[6] then return 0 end
local limit = tonumber(ARGV[4])
if limit > 0 and redis.call('SCARD', K.tenant_open) >= limit then return -1 end
redis.call('HSET', K.job, unpack(ARGV, 7))
redis.call('ZADD', K.tenant_jobs, ARGV[3], ARGV[2])
redis.call('ZADD', K.dataset_jobs, ARGV[3], ARGV[2])
redis.call('SADD', K.dataset_active, ARGV[2])
redis.call('SADD', K.tenant_open, ARGV[2])
redis.call('EXPIRE', K.dataset, ARGV[5])
if K.sweep_jobs then redis.call('ZADD', K.sweep_jobs, ARGV[3], ARGV[2]) end
redis.call('HINCRBY', K.stats, 'created', 1)
return 1
""",
    ("dataset", "job", "tenant_jobs", "dataset_jobs", "dataset_active", "tenant_open", "stats", "sweep_jobs"),
    optional_from=7,
)

TRANSITION = LuaScript(
    ENDED
    + """
-- ARGV: allowed current statuses (comma separated), new status, '1' to count an attempt,
--       retention seconds, worker ('' or the worker that must still own the job), field, value, ...
-- Returns 1 when the job moved, else its current status (false when it does not exist).
local current = redis.call('HGET', K.job, 'status')
if not current then return false end
local allowed = false
for s in string.gmatch(ARGV[1], '[^,]+') do
  if s == current then allowed = true end
end
if not allowed then return current end
if ARGV[5] ~= '' and redis.call('HGET', K.job, 'worker') ~= ARGV[5] then return 'not_yours' end
redis.call('HSET', K.job, 'status', ARGV[2])
if #ARGV > 5 then redis.call('HSET', K.job, unpack(ARGV, 6)) end
if ARGV[3] == '1' then redis.call('HINCRBY', K.job, 'attempt', 1) end
if ARGV[2] == 'succeeded' or ARGV[2] == 'failed' or ARGV[2] == 'cancelled' then
  ended(redis.call('HGET', K.job, 'id'), ARGV[4], ARGV[2], current == 'running')
end
return 1
""",
    STATE_KEYS,
)

FLUSH = LuaScript(
    """
-- ARGV: worker ('' for no ownership check), train bytes, dev bytes, progress, metrics, checkpoint,
--       then '1'/'0' for: write progress, write metrics, write checkpoint; then the lengths the
--       writer believes the train and dev histories have (-1: unknown); then '1' when the train
--       bytes are in K.staged instead (a large write: SET just before, in the same transaction),
--       and the blank bytes the staged value starts with: room for the history so far.
-- Writes only while the job is running on this worker: a worker that lost its job to the reaper
-- can never append to the history of the attempt that replaced it.
-- Appends are idempotent by position: a write that Redis applied but whose answer was lost (Redis
-- killed in between) and that the worker sends again is not appended twice; writes that Redis
-- acknowledged and then lost in a crash leave a gap, which is reported.
-- Staged points onto a history exactly as long as the room left for it are renamed into place,
-- the history copied into the room first: no copy of megabytes through Lua (the common case, an
-- empty history and no room: a short job's points all come in its last flush).
-- Returns {cancel, still mine, train length, dev length, train gap, dev gap} (lengths in bytes).
local function append_at(key, data, at)
  if data == '' then return 0 end
  local have = redis.call('STRLEN', key)
  if at >= 0 and have > at then
    data = string.sub(data, have - at + 1)
  end
  if data ~= '' then redis.call('APPEND', key, data) end
  if at > have then return at - have end
  return 0
end
local function move_staged(at, room)
  local have = redis.call('STRLEN', K.train)
  if have ~= room or redis.call('EXISTS', K.staged) == 0 then
    local data = redis.call('GET', K.staged) or ''
    if room > 0 then data = string.sub(data, room + 1) end
    return append_at(K.train, data, at)
  end
  if room > 0 then redis.call('SETRANGE', K.staged, 0, redis.call('GET', K.train)) end
  redis.call('RENAME', K.staged, K.train)  -- what APPEND would leave
  redis.call('PERSIST', K.train)
  if at > have then return at - have end
  return 0
end
local rec = redis.call('HMGET', K.job, 'status', 'worker', 'cancel')
local mine = ARGV[1] == '' or (rec[1] == 'running' and rec[2] == ARGV[1])
local staged = K.staged ~= nil and ARGV[12] == '1'
local gaps = {0, 0}
if mine then
  if staged then
    gaps[1] = move_staged(tonumber(ARGV[10]), tonumber(ARGV[13]))
  else
    gaps[1] = append_at(K.train, ARGV[2], tonumber(ARGV[10]))
  end
  gaps[2] = append_at(K.dev, ARGV[3], tonumber(ARGV[11]))
  if ARGV[7] == '1' then redis.call('HSET', K.job, 'progress', ARGV[4]) end
  if ARGV[8] == '1' then redis.call('HSET', K.job, 'metrics', ARGV[5]) end
  if ARGV[9] == '1' then redis.call('SET', K.checkpoint, ARGV[6]) end
end
if staged then redis.call('DEL', K.staged) end
return {rec[3] == '1' and 1 or 0, mine and 1 or 0, redis.call('STRLEN', K.train),
        redis.call('STRLEN', K.dev), gaps[1], gaps[2]}
""",
    ("job", "train", "dev", "checkpoint", "staged"),
    optional_from=4,
)

CANCEL = LuaScript(
    ENDED
    + """
-- ARGV: tenant, now, retention. Returns a CancelOutcome.
local rec = redis.call('HMGET', K.job, 'tenant', 'status', 'id')
if rec[1] ~= ARGV[1] then return 'missing' end
if rec[2] == 'queued' then
  redis.call('HSET', K.job, 'status', 'cancelled', 'finished_at', ARGV[2], 'cancel', '1')
  ended(rec[3], ARGV[3], 'cancelled', false)
  return 'cancelled'
elseif rec[2] == 'running' then
  redis.call('HSET', K.job, 'cancel', '1')
  return 'requested'
end
return 'ended'
""",
    STATE_KEYS,
)

DELETE_DATASET = LuaScript(
    """
-- ARGV: tenant, dataset_id. Returns a DeleteOutcome.
if redis.call('HGET', K.dataset, 'tenant') ~= ARGV[1] then return 'missing' end
if redis.call('SCARD', K.dataset_active) > 0 then return 'in_use' end
redis.call('DEL', K.dataset)
redis.call('ZREM', K.tenant_datasets, ARGV[2])
return 'deleted'
""",
    ("dataset", "dataset_active", "tenant_datasets"),
)

READ_HISTORY = LuaScript(
    """
-- ARGV: after, limit, dev record size, tenant ('' = any), then the train record size of each
-- format (1, 2, ...); the job's `train_format` says which its history holds (absent: 1).
-- Train point i covers steps (i*log_every, (i+1)*log_every], so the first point past `after` is at
-- index after // log_every or the one behind it; dev point j sits at step (j+1)*steps_per_epoch.
-- Returns {status, train, dev, train count, first index, format, config (formats 1 and 3, whose
-- points take the job's one rate from it, else false), log_every, steps_per_epoch, progress}.
local h = redis.call('HMGET', K.job, 'status', 'log_every', 'steps_per_epoch', 'tenant', 'train_format',
                     'progress')
if not h[1] then return false end
if ARGV[4] ~= '' and h[4] ~= ARGV[4] then return false end
local after = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local drec = tonumber(ARGV[3])
local format = tonumber(h[5]) or 1
local trec = tonumber(ARGV[4 + format])
if not trec then return redis.error_reply('unknown train record format ' .. tostring(h[5])) end
local le = tonumber(h[2]) or 1
local spe = tonumber(h[3]) or 1
local count = math.floor(redis.call('STRLEN', K.train) / trec)
local i0 = math.min(math.floor(after / le), count)
local i1 = math.min(i0 + limit + 1, count)
local train = ''
if i1 > i0 then train = redis.call('GETRANGE', K.train, i0 * trec, i1 * trec - 1) end
local dcount = math.floor(redis.call('STRLEN', K.dev) / drec)
local j0 = math.min(math.floor(after / spe), dcount)
local j1 = math.min(math.floor(i1 * le / spe) + 1, dcount)
local dev = ''
if j1 > j0 then dev = redis.call('GETRANGE', K.dev, j0 * drec, j1 * drec - 1) end
local config = false
if format == 1 or format == 3 then config = redis.call('HGET', K.job, 'config') end
return {h[1], train, dev, count, i0, format, config, le, spe, h[6] or false}
""",
    ("job", "train", "dev"),
)

DELETE_JOB = LuaScript(
    """
-- ARGV: tenant, job_id. Returns a DeleteOutcome.
local rec = redis.call('HMGET', K.job, 'tenant', 'status')
if rec[1] ~= ARGV[1] then return 'missing' end
if rec[2] == 'queued' or rec[2] == 'running' then return 'open' end
redis.call('DEL', K.job, K.train, K.dev, K.surface)
redis.call('ZREM', K.tenant_jobs, ARGV[2])
redis.call('ZREM', K.dataset_jobs, ARGV[2])
if K.sweep_jobs then redis.call('ZREM', K.sweep_jobs, ARGV[2]) end
return 'deleted'
""",
    ("job", "train", "dev", "surface", "tenant_jobs", "dataset_jobs", "sweep_jobs"),
    optional_from=6,
)


def load_all(redis: Redis) -> None:
    """Load every script into Redis ahead of its first call (a process's warm-up): Redis refuses
    the first call of a script it has not seen (NOSCRIPT), which is then loaded and sent again."""
    for script in list(globals().values()):
        if isinstance(script, LuaScript):
            redis.script_load(script.source())
