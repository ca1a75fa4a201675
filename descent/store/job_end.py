"""What every move of a job into an ended status does, shared by the scripts that make one
(scripts.py: TRANSITION, CANCEL, REQUEUE's lost job): the keys a status change touches, and the Lua
tail that publishes the end, counts it for /metrics and lets the job's keys expire.

Why apart: the tail and the duration histogram's buckets are one fact each, which the scripts and
the /metrics collector (service/metrics.py) both read.
"""

from __future__ import annotations

from . import keys

STATE_KEYS = (
    "job",
    "dataset_active",
    "tenant_open",
    "train",
    "dev",
    "surface",
    "running",
    "lease",
    "checkpoint",
    "stats",
    "durations",
)
"""The keys a change of a job's status touches (`JobStore._state_keys` fills them in)."""

DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 60.0, 300.0, 1800.0, 3600.0, 86400.0)
"""Upper bounds (seconds) of the job-duration histogram (/metrics), filled by `ENDED`."""

_BOUNDS = ", ".join(f"{{{bound!r}, '{bound!r}'}}" for bound in DURATION_BUCKETS)

ENDED = """
-- Shared tail of every move into an ended status (scripts with STATE_KEYS); the job's id is
-- published for the requests waiting for its end (service/job_waits.py). The end is counted in
-- the same step (K.stats: the status; K.durations: the seconds since the job's start on Redis's
-- clock, when it ends from running): /metrics can never miss an end that happened, and the end
-- costs no round trip more.
local BOUNDS = {""" + _BOUNDS + """}
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1e6
end
local function ended(job_id, ttl, status, ran)
  redis.call('PUBLISH', '""" + keys.JOBS_ENDED + """', job_id)
  redis.call('HINCRBY', K.stats, status, 1)
  local started = ran and tonumber(redis.call('HGET', K.job, 'started_clock') or '')
  if started then
    local seconds = math.max(0, clock() - started)
    for _, bound in ipairs(BOUNDS) do
      if seconds <= bound[1] then redis.call('HINCRBY', K.durations, bound[2], 1) end
    end
    redis.call('HINCRBY', K.durations, '+Inf', 1)
    redis.call('HINCRBYFLOAT', K.durations, 'sum', seconds)
  end
  redis.call('SREM', K.dataset_active, job_id)
  redis.call('SREM', K.tenant_open, job_id)
  redis.call('SREM', K.running, job_id)
  redis.call('DEL', K.lease, K.checkpoint)
  redis.call('EXPIRE', K.job, ttl)
  redis.call('EXPIRE', K.train, ttl)
  redis.call('EXPIRE', K.dev, ttl)
  redis.call('EXPIRE', K.surface, ttl)
end
"""
