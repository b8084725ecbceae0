import { createHash } from 'node:crypto';

/**
 * The Lua scripts that make every shared transition atomic. Lua rather than
 * WATCH/MULTI: a whole decision (count the window, check the quorum, open,
 * publish) is one round trip, and contended writers queue on the server
 * instead of aborting and retrying, which is exactly when a fleet reports
 * failures at once. Time is the server's (`TIME`), so process clocks never
 * have to agree.
 *
 * Every script takes the same four keys (state, lease, failures, processes)
 * and replies with the circuit's state as {@link SharedState} fields:
 * `[state, epoch, remaining ms, lease holder, generation]`.
 */

const prologue = `
if redis.replicate_commands then redis.replicate_commands() end
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- The state hash's generation: set by the first write to find it missing ('' until then), so a circuit
-- whose state was lost (a restart, FLUSHDB, eviction) comes back under a new one and replicas start over.
-- Reading never writes: a healthy circuit leaves nothing in Redis.
local gen = redis.call('HGET', KEYS[1], 'gen') or ''
local function written()
  if gen == '' then
    gen = ARGV[4]
    redis.call('HSET', KEYS[1], 'gen', gen)
  end
end
local function load()
  local h = redis.call('HMGET', KEYS[1], 'state', 'epoch', 'openedAt')
  return h[1] or 'closed', tonumber(h[2] or '0'), tonumber(h[3] or '0')
end
local function announce(state, epoch, remaining, holder)
  redis.call(PUBLISH, ARGV[2], cjson.encode({n = ARGV[1], s = state, e = epoch, r = remaining, h = holder, g = gen}))
end
local function current(now)
  local state, epoch, openedAt = load()
  if state == 'open' then return {state, epoch, math.max(0, openedAt + tonumber(ARGV[3]) - now), '', gen} end
  if state == 'half-open' then
    local holder = redis.call('GET', KEYS[2])
    if holder then return {state, epoch, math.max(0, redis.call('PTTL', KEYS[2])), holder, gen} end
  end
  return {state, epoch, 0, '', gen}
end
-- Redis wants whole milliseconds for TTLs; the options may have fractions.
local function ms(value) return math.max(1, math.ceil(tonumber(value))) end
local now = clock()
`;

// ARGV: name, channel, resetTimeout, a generation for a state hash not yet made (shared by every
// script), then each script's own, then (last) the state hash's time to live when idle (ms).
const read = `
return current(now)`;

// ARGV[5..]: process id, failures, window, threshold, quorum. Each failure's member is named by its
// number in the fleet's counter, so no two are ever the same (a restarted process reuses its id).
const report = `
local state, epoch = load()
written()
local n = tonumber(ARGV[6])
local total = redis.call('HINCRBY', KEYS[1], 'failures', n)
if state == 'closed' then
  local window = ms(ARGV[7])
  for i = total - n + 1, total do redis.call('ZADD', KEYS[3], now, ARGV[5] .. '#' .. i) end
  redis.call('ZADD', KEYS[4], now, ARGV[5])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - window)
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - window)
  redis.call('PEXPIRE', KEYS[3], window)
  redis.call('PEXPIRE', KEYS[4], window)
  if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[8]) and redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[9]) then
    epoch = epoch + 1
    redis.call('HSET', KEYS[1], 'state', 'open', 'epoch', epoch, 'openedAt', now)
    redis.call('HINCRBY', KEYS[1], 'opens', 1)
    redis.call('DEL', KEYS[3], KEYS[4])
    announce('open', epoch, tonumber(ARGV[3]), '')
  end
end
return current(now)`;

// ARGV[5..]: the lease token asked for, the lease's time to live (ms).
const acquire = `
local state, epoch, openedAt = load()
if state == 'closed' then return current(now) end
if state == 'open' and openedAt + tonumber(ARGV[3]) > now then return current(now) end
if state == 'half-open' and redis.call('EXISTS', KEYS[2]) == 1 then return current(now) end
written()
epoch = epoch + 1
local ttl = ms(ARGV[6])
redis.call('SET', KEYS[2], ARGV[5], 'PX', ttl)
redis.call('HSET', KEYS[1], 'state', 'half-open', 'epoch', epoch)
redis.call('HINCRBY', KEYS[1], 'leases', 1)
announce('half-open', epoch, ttl, ARGV[5])
return {'half-open', epoch, ttl, ARGV[5], gen}`;

// ARGV[5..]: the lease token, the half-open epoch it was granted for, 'closed' or 'open'.
const settle = `
local state, epoch = load()
if state == 'half-open' and epoch == tonumber(ARGV[6]) and redis.call('GET', KEYS[2]) == ARGV[5] then
  redis.call('DEL', KEYS[2])
  epoch = epoch + 1
  if ARGV[7] == 'closed' then
    redis.call('HSET', KEYS[1], 'state', 'closed', 'epoch', epoch)
    redis.call('DEL', KEYS[3], KEYS[4])
    announce('closed', epoch, 0, '')
  else
    redis.call('HSET', KEYS[1], 'state', 'open', 'epoch', epoch, 'openedAt', now)
    redis.call('HINCRBY', KEYS[1], 'opens', 1)
    announce('open', epoch, tonumber(ARGV[3]), '')
  end
end
return current(now)`;

/** A script's source and its SHA-1, for EVALSHA. */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

// Every script's body runs as a function, so that whichever way it returns, the state hash it found or
// made gets its idle expiry pushed back: state nobody uses goes away by itself.
const epilogue = `
local reply = main()
if gen ~= '' then redis.call('PEXPIRE', KEYS[1], ms(ARGV[#ARGV])) end
return reply`;

// PUBLISH on a single server or behind Sentinel; SPUBLISH on a Cluster (a channel in the circuit's slot,
// delivered by the node that holds it, not relayed over the cluster bus).
const script = (body: string, publish: 'PUBLISH' | 'SPUBLISH' = 'PUBLISH'): LuaScript => {
  const source = `local PUBLISH = '${publish}'${prologue}local function main()${body}\nend${epilogue}`;
  return Object.freeze({ source, sha: createHash('sha1').update(source).digest('hex') });
};

/** The four scripts a shared circuit runs. */
export const scripts = Object.freeze({
  read: script(read),
  report: script(report),
  acquire: script(acquire),
  settle: script(settle),
});

/** The same scripts publishing with `SPUBLISH`, for a Cluster (Redis 7 sharded pub/sub), by the plain one. */
export const shardedScripts: ReadonlyMap<LuaScript, LuaScript> = new Map([
  [scripts.read, script(read, 'SPUBLISH')],
  [scripts.report, script(report, 'SPUBLISH')],
  [scripts.acquire, script(acquire, 'SPUBLISH')],
  [scripts.settle, script(settle, 'SPUBLISH')],
]);
