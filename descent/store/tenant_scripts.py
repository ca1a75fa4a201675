"""Lua for per-tenant limits: the storage ledger and the request-rate limiter (store/tenants.py).

Both read the time from Redis (`TIME`), not from the caller, so API processes on hosts whose clocks
disagree still share one bucket and one ledger.

The ledger: every resource a tenant stores is a member of three per-tenant keys (its size, the keys
it is made of, and when to measure it again), with their sum in a fourth. A member whose check time
has come is measured again when the ledger is read (`reconcile`): gone (deleted, or expired by its
TTL) it leaves the ledger; still there it is measured anew (a hash: its fields and values; a
string: its length) and checked again when its TTL runs out, or at the next read while it has none
(an open job, whose history grows). A member's part keys are passed in as data at registration,
spelled by `keys`; reading them here is fine for the single Redis descent runs on (not a cluster).
"""

from __future__ import annotations

from .scripts import LuaScript

LEDGER_KEYS = ("sizes", "parts", "checks", "total")
"""A tenant's ledger: `keys.tenant_storage`, `_parts`, `_checks`, `_total`."""

MAX_CHECKS = 2000
"""Members one read measures at most: bounds the script's time (a tenant has at most
DESCENT_MAX_OPEN_JOBS open jobs, each due at every read, and whatever expired meanwhile)."""

RECONCILE = f"local MAX_CHECKS = {MAX_CHECKS}\n" + """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function size_of(key)
  local kind = redis.call('TYPE', key)['ok']
  if kind == 'string' then return redis.call('STRLEN', key) end
  if kind == 'hash' then
    local n = 0
    for _, f in ipairs(redis.call('HKEYS', key)) do n = n + #f + redis.call('HSTRLEN', key, f) end
    return n
  end
  return 0
end
-- Measure the members whose check time has come (at most MAX_CHECKS, the oldest first: the rest
-- at the next read); the tenant's total after. Writes only what changed, so a read of a ledger
-- with nothing new still works on a Redis at its maxmemory.
local function reconcile(now)
  local before = tonumber(redis.call('GET', K.total) or '0')
  local total = before
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', K.checks, '-inf', now, 'LIMIT', 0, MAX_CHECKS)) do
    local old = tonumber(redis.call('HGET', K.sizes, member) or '0')
    local parts = cjson.decode(redis.call('HGET', K.parts, member) or '[]')
    local ttl = -2
    if parts[1] then ttl = redis.call('PTTL', parts[1]) end
    if ttl == -2 then
      redis.call('HDEL', K.sizes, member)
      redis.call('HDEL', K.parts, member)
      redis.call('ZREM', K.checks, member)
      total = total - old
    else
      local size = 0
      for _, key in ipairs(parts) do size = size + size_of(key) end
      if size ~= old then
        redis.call('HSET', K.sizes, member, size)
        total = total + size - old
      end
      -- without a TTL (an open job) it stays due: measured again at every read
      if ttl >= 0 then redis.call('ZADD', K.checks, now + ttl, member) end
    end
  end
  if total < 0 then total = 0 end
  if total ~= before then redis.call('SET', K.total, string.format('%d', total)) end
  return total
end
"""

USAGE = LuaScript(
    RECONCILE
    + """
-- The bytes the tenant stores, its ledger brought up to date.
return reconcile(now_ms())
""",
    LEDGER_KEYS,
)

RESERVE = LuaScript(
    RECONCILE
    + """
-- ARGV: member, bytes, quota (0: none), ms before the member is first measured, its parts (JSON).
-- Returns {1, stored before} when the bytes fit under the quota and are now counted, else
-- {0, stored} (counted as a refusal in K.limited).
local now = now_ms()
local total = reconcile(now)
local bytes = tonumber(ARGV[2])
local quota = tonumber(ARGV[3])
if quota > 0 and total + bytes > quota then
  redis.call('HINCRBY', K.limited, 'storage', 1)
  return {0, total}
end
redis.call('HSET', K.sizes, ARGV[1], bytes)
redis.call('HSET', K.parts, ARGV[1], ARGV[5])
redis.call('ZADD', K.checks, now + tonumber(ARGV[4]), ARGV[1])
redis.call('SET', K.total, string.format('%d', total + bytes))
return {1, total}
""",
    (*LEDGER_KEYS, "limited"),
)

RATE = LuaScript(
    """
-- ARGV: emission interval (µs per request), burst (requests at once).
-- GCRA, the token bucket kept as one number: K.rate holds the theoretical arrival time (TAT) of the
-- next request. A request is let through while TAT - burst·interval <= now, which moves TAT on by
-- one interval; else it is refused, counted in K.limited, and nothing else changes.
-- Returns 0 (through) or the µs until a request would be let through.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', K.rate) or '0')
if tat < now then tat = now end
local allowed_at = tat + interval - tonumber(ARGV[2]) * interval
if allowed_at > now then
  redis.call('HINCRBY', K.limited, 'rate', 1)
  return math.ceil(allowed_at - now)
end
tat = tat + interval
redis.call('SET', K.rate, string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1)
return 0
""",
    ("rate", "limited"),
)
