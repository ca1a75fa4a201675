"""Lua scripts for the state changes that must be atomic in Redis.

A job's status moves queued → running → succeeded | failed | cancelled, and a dataset may only be
deleted while no open job uses it; checking and writing in one script is what makes a cancel racing
a worker's start, or a delete racing a submission, come out one way or the other and never both.
"""

ENDED = """
-- Shared tail of every move into an ended status. KEYS: job, dataset_active, tenant_open, train,
-- dev, surface, running, lease, checkpoint (see JobStore._state_keys).
local function ended(job_id, ttl)
  redis.call('SREM', KEYS[2], job_id)
  redis.call('SREM', KEYS[3], job_id)
  redis.call('SREM', KEYS[7], job_id)
  redis.call('DEL', KEYS[8], KEYS[9])
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[4], ttl)
  redis.call('EXPIRE', KEYS[5], ttl)
  redis.call('EXPIRE', KEYS[6], ttl)
end
"""

START = """
-- KEYS: the state keys; ARGV: worker name, lease ms, now. queued → running for this worker.
local rec = redis.call('HMGET', KEYS[1], 'status', 'id')
if rec[1] ~= 'queued' then return rec[1] or false end
redis.call('HSET', KEYS[1], 'status', 'running', 'started_at', ARGV[3], 'worker', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'attempt', 1)
redis.call('SADD', KEYS[7], rec[2])
redis.call('SET', KEYS[8], ARGV[1], 'PX', ARGV[2])
return 1
"""

RENEW = """
-- KEYS: job, lease; ARGV: worker name, lease ms. 1 while the job is still this worker's, else 0.
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  return 1
end
local rec = redis.call('HMGET', KEYS[1], 'status', 'worker')
if rec[1] == 'running' and rec[2] == ARGV[1] and redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

REQUEUE = (
    ENDED
    + """
-- KEYS: the state keys; ARGV: worker name ('' for the reaper, which needs the lease gone),
--       max attempts, now, retention.
-- running → queued so another worker resumes it from its checkpoint; after max attempts the job
-- fails as worker_lost instead. Returns 'requeued', 'lost', or why nothing was done.
local rec = redis.call('HMGET', KEYS[1], 'status', 'attempt', 'id', 'worker')
if rec[1] ~= 'running' then
  if rec[3] then redis.call('SREM', KEYS[7], rec[3]) end
  return 'not_running'
end
local lease = redis.call('GET', KEYS[8])
if ARGV[1] == '' then
  if lease then return 'alive' end
elseif lease ~= ARGV[1] and rec[4] ~= ARGV[1] then
  return 'not_yours'
end
redis.call('SREM', KEYS[7], rec[3])
redis.call('DEL', KEYS[8])
if ARGV[1] == '' and tonumber(rec[2] or '0') >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'status', 'failed', 'finished_at', ARGV[3], 'error',
    cjson.encode({type = 'worker_lost', message = 'the worker running this job was lost ' ..
      rec[2] .. ' time(s) (DESCENT_MAX_ATTEMPTS = ' .. ARGV[2] .. '); the job was not finished'}))
  ended(rec[3], ARGV[4])
  return 'lost'
end
redis.call('HSET', KEYS[1], 'status', 'queued', 'requeued_at', ARGV[3])
return 'requeued'
"""
)

CREATE_JOB = """
-- KEYS: dataset, job, tenant_jobs, dataset_jobs, dataset_active, tenant_open, [sweep_jobs]
-- ARGV: tenant, job_id, score, max open jobs (0: no limit), dataset ttl, field, value, ...
-- Returns 1, 0 (dataset missing or not the tenant's) or -1 (the open-jobs limit is reached).
if redis.call('HGET', KEYS[1], 'tenant') ~= ARGV[1] then return 0 end
local limit = tonumber(ARGV[4])
if limit > 0 and redis.call('SCARD', KEYS[6]) >= limit then return -1 end
redis.call('HSET', KEYS[2], unpack(ARGV, 6))
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[2])
redis.call('SADD', KEYS[5], ARGV[2])
redis.call('SADD', KEYS[6], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[5])
if KEYS[7] then redis.call('ZADD', KEYS[7], ARGV[3], ARGV[2]) end
return 1
"""

TRANSITION = (
    ENDED
    + """
-- KEYS: the state keys
-- ARGV: allowed current statuses (comma separated), new status, '1' to count an attempt,
--       retention seconds, worker ('' or the worker that must still own the job), field, value, ...
-- Returns 1 when the job moved, else its current status (false when it does not exist).
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return false end
local allowed = false
for s in string.gmatch(ARGV[1], '[^,]+') do
  if s == current then allowed = true end
end
if not allowed then return current end
if ARGV[5] ~= '' and redis.call('HGET', KEYS[1], 'worker') ~= ARGV[5] then return 'not_yours' end
redis.call('HSET', KEYS[1], 'status', ARGV[2])
if #ARGV > 5 then redis.call('HSET', KEYS[1], unpack(ARGV, 6)) end
if ARGV[3] == '1' then redis.call('HINCRBY', KEYS[1], 'attempt', 1) end
if ARGV[2] == 'succeeded' or ARGV[2] == 'failed' or ARGV[2] == 'cancelled' then
  ended(redis.call('HGET', KEYS[1], 'id'), ARGV[4])
end
return 1
"""
)

FLUSH = """
-- KEYS: job, train, dev, checkpoint
-- ARGV: worker ('' for no ownership check), train bytes, dev bytes, progress, metrics, checkpoint,
--       then '1'/'0' for: write progress, write metrics, write checkpoint.
-- Writes only while the job is running on this worker: a worker that lost its job to the reaper
-- can never append to the history of the attempt that replaced it. Returns {cancel, still mine}.
local rec = redis.call('HMGET', KEYS[1], 'status', 'worker', 'cancel')
local mine = ARGV[1] == '' or (rec[1] == 'running' and rec[2] == ARGV[1])
if mine then
  if ARGV[2] ~= '' then redis.call('APPEND', KEYS[2], ARGV[2]) end
  if ARGV[3] ~= '' then redis.call('APPEND', KEYS[3], ARGV[3]) end
  if ARGV[7] == '1' then redis.call('HSET', KEYS[1], 'progress', ARGV[4]) end
  if ARGV[8] == '1' then redis.call('HSET', KEYS[1], 'metrics', ARGV[5]) end
  if ARGV[9] == '1' then redis.call('SET', KEYS[4], ARGV[6]) end
end
return {rec[3] == '1' and 1 or 0, mine and 1 or 0}
"""

CANCEL = (
    ENDED
    + """
-- KEYS: job, dataset_active, tenant_open, train, dev, surface; ARGV: tenant, now, retention
local rec = redis.call('HMGET', KEYS[1], 'tenant', 'status', 'id')
if rec[1] ~= ARGV[1] then return 'missing' end
if rec[2] == 'queued' then
  redis.call('HSET', KEYS[1], 'status', 'cancelled', 'finished_at', ARGV[2], 'cancel', '1')
  ended(rec[3], ARGV[3])
  return 'cancelled'
elseif rec[2] == 'running' then
  redis.call('HSET', KEYS[1], 'cancel', '1')
  return 'requested'
end
return 'ended'
"""
)

DELETE_DATASET = """
-- KEYS: dataset, dataset_active, tenant_datasets; ARGV: tenant, dataset_id
if redis.call('HGET', KEYS[1], 'tenant') ~= ARGV[1] then return 'missing' end
if redis.call('SCARD', KEYS[2]) > 0 then return 'in_use' end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[2])
return 'deleted'
"""

READ_HISTORY = """
-- KEYS: job, train, dev; ARGV: after, limit, train record size, dev record size, tenant ('' = any)
-- Train point i covers steps (i*log_every, (i+1)*log_every], so the first point past `after` is at
-- index after // log_every or the one behind it; dev point j sits at step (j+1)*steps_per_epoch.
local h = redis.call('HMGET', KEYS[1], 'status', 'log_every', 'steps_per_epoch', 'tenant')
if not h[1] then return false end
if ARGV[5] ~= '' and h[4] ~= ARGV[5] then return false end
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
