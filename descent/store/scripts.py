"""Lua scripts for the state changes that must be atomic in Redis.

A job's status moves queued → running → succeeded | failed | cancelled, and a dataset may only be
deleted while no open job uses it; checking and writing in one script is what makes a cancel racing
a worker's start, or a delete racing a submission, come out one way or the other and never both.
"""

CREATE_JOB = """
-- KEYS: dataset, job, tenant_jobs, dataset_jobs, dataset_active, [sweep_jobs]
-- ARGV: tenant, job_id, score, field, value, ...
if redis.call('HGET', KEYS[1], 'tenant') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], unpack(ARGV, 4))
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
redis.call('SADD', KEYS[5], ARGV[2])
if KEYS[6] then redis.call('ZADD', KEYS[6], ARGV[3], ARGV[2]) end
return 1
"""

TRANSITION = """
-- KEYS: job, dataset_active
-- ARGV: allowed current statuses (comma separated), new status, '1' to count an attempt,
--       field, value, ...
-- Returns 1 when the job moved, else its current status (false when it does not exist).
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return false end
local allowed = false
for s in string.gmatch(ARGV[1], '[^,]+') do
  if s == current then allowed = true end
end
if not allowed then return current end
redis.call('HSET', KEYS[1], 'status', ARGV[2])
if #ARGV > 3 then redis.call('HSET', KEYS[1], unpack(ARGV, 4)) end
if ARGV[3] == '1' then redis.call('HINCRBY', KEYS[1], 'attempt', 1) end
if ARGV[2] == 'succeeded' or ARGV[2] == 'failed' or ARGV[2] == 'cancelled' then
  redis.call('SREM', KEYS[2], redis.call('HGET', KEYS[1], 'id'))
end
return 1
"""

CANCEL = """
-- KEYS: job, dataset_active; ARGV: tenant, now
local rec = redis.call('HMGET', KEYS[1], 'tenant', 'status', 'id')
if rec[1] ~= ARGV[1] then return 'missing' end
if rec[2] == 'queued' then
  redis.call('HSET', KEYS[1], 'status', 'cancelled', 'finished_at', ARGV[2], 'cancel', '1')
  redis.call('SREM', KEYS[2], rec[3])
  return 'cancelled'
elseif rec[2] == 'running' then
  redis.call('HSET', KEYS[1], 'cancel', '1')
  return 'requested'
end
return 'ended'
"""

DELETE_DATASET = """
-- KEYS: dataset, dataset_active, tenant_datasets; ARGV: tenant, dataset_id
if redis.call('HGET', KEYS[1], 'tenant') ~= ARGV[1] then return 'missing' end
if redis.call('SCARD', KEYS[2]) > 0 then return 'in_use' end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[2])
return 'deleted'
"""

READ_HISTORY = """
-- KEYS: job, train, dev; ARGV: after, limit, train record size, dev record size
-- Train point i covers steps (i*log_every, (i+1)*log_every], so the first point past `after` is at
-- index after // log_every or the one behind it; dev point j sits at step (j+1)*steps_per_epoch.
local h = redis.call('HMGET', KEYS[1], 'status', 'log_every', 'steps_per_epoch')
if not h[1] then return false end
local after = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local trec = tonumber(ARGV[3])
local drec = tonumber(ARGV[4])
local le = tonumber(h[2]) or 1
local spe = tonumber(h[3]) or 1
local count = math.floor(redis.call('STRLEN', KEYS[2]) / trec)
local i0 = math.min(math.floor(after / le), count)
local i1 = math.min(i0 + limit + 1, count)
local train = ''
if i1 > i0 then train = redis.call('GETRANGE', KEYS[2], i0 * trec, i1 * trec - 1) end
local dcount = math.floor(redis.call('STRLEN', KEYS[3]) / drec)
local j0 = math.min(math.floor(after / spe), dcount)
local j1 = math.min(math.floor(i1 * le / spe) + 1, dcount)
local dev = ''
if j1 > j0 then dev = redis.call('GETRANGE', KEYS[3], j0 * drec, j1 * drec - 1) end
return {h[1], train, dev, count, i0}
"""

DELETE_JOB = """
-- KEYS: job, train, dev, surface, tenant_jobs, dataset_jobs, [sweep_jobs]; ARGV: tenant, job_id
local rec = redis.call('HMGET', KEYS[1], 'tenant', 'status')
if rec[1] ~= ARGV[1] then return 'missing' end
if rec[2] == 'queued' or rec[2] == 'running' then return 'open' end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[5], ARGV[2])
redis.call('ZREM', KEYS[6], ARGV[2])
if KEYS[7] then redis.call('ZREM', KEYS[7], ARGV[2]) end
return 'deleted'
"""
